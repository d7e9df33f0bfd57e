//! Lesson 10: the echo server of lesson 03, with async Rust.
//!
//! Lesson 03 gave every client a thread. Here every client gets a *task*: a piece of work that
//! tokio's runtime runs on a few threads of its own, switching to another task whenever one has
//! to wait for the network. A task that waits costs only what it holds (here, about 2 KiB of the
//! process's memory per client, its buffer and the task: `measurements/hold_clients_async.txt`),
//! where a thread costs a stack, so one process can hold tens of thousands of idle clients.

use std::net::SocketAddr;

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ANCHOR: main
// `#[tokio::main]` starts tokio's runtime, a pool of worker threads (one per core), and runs this
// `async fn main` on the main thread (with `block_on`), beside the workers.
#[tokio::main]
async fn main() -> course::cli::MainResult {
    let address = PROGRAM.args()?.address;
    let listener = TcpListener::bind(address)
        .await
        .map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);

    // ANCHOR: accept_loop
    let mut failures = AcceptFailures::new();
    loop {
        // `.await` hands the thread back to the runtime until a client arrives, instead of
        // sleeping in `accept` as lesson 03's did. (This loop is `main`'s, on the main thread,
        // which runs nothing else; the clients' tasks run on the worker threads.)
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, say. Such errors last: log the spell, not every try, and
                // pause before trying again rather than spin the processor. The pause is
                // tokio's: in async code `thread::sleep` (what lesson 03's `pause_after` does)
                // stalls every task that shares the thread. Here it would only delay accepting,
                // but in a task, or on a runtime of one thread (exercise 10's), it would stall
                // the others too.
                tokio::time::sleep(failures.log_failure(error)).await;
                continue;
            }
        };
        failures.over();
        // A task, not a thread: `spawn` only puts the future in the runtime's queue, so it
        // cannot run out of threads, and it returns at once.
        tokio::spawn(serve_client(stream, peer));
    }
    // ANCHOR_END: accept_loop
}
// ANCHOR_END: main

// ANCHOR: serve_client
/// Runs as the client's own task: echoes, then logs how the client left.
async fn serve_client(stream: TcpStream, peer: SocketAddr) {
    println!("{peer} connected");
    match echo(stream, peer).await {
        Ok(()) => println!("{peer} disconnected"),
        Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
    }
}

/// Sends every byte back to the client until it closes its side of the connection.
async fn echo(mut stream: TcpStream, peer: SocketAddr) -> anyhow::Result<()> {
    // This buffer lives inside the task (the future), not on a thread's stack: it is most of
    // what an idle client costs the server.
    let mut buffer = [0; 1024];
    loop {
        let count = stream
            .read(&mut buffer)
            .await
            .with_context(|| format!("reading from {peer}"))?;
        if count == 0 {
            return Ok(());
        }
        stream
            .write_all(&buffer[..count])
            .await
            .with_context(|| format!("echoing to {peer}"))?;
    }
}
// ANCHOR_END: serve_client

const PROGRAM: Program = Program {
    name: "10_async_echo",
    role: Role::Server,
    about: "Lesson 10: echoes back everything each client sends, with a tokio task per client.",
    default_address: "127.0.0.1:65441",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Talk to it from two or more other terminals at once with:\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65441\n  nc 127.0.0.1 65441",
};
