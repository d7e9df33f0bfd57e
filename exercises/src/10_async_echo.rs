//! Exercise 10: a task per client.
//!
//! This is lesson 10's async echo server, with one thing missing: its accept loop `.await`s
//! each client's echo before it accepts the next, so while one client is connected, even a
//! silent one, everyone else waits. Change it so that every client is served by a tokio task of
//! its own, and so that one client's trouble never reaches another client, nor panics (tokio
//! would catch a task's panic, but a client that hangs up is no bug: handle its error). The server
//! runs on tokio's single-threaded runtime, so a task that blocks its thread stops every client
//! too.
//!
//! Check it:       cargo test -p exercises 10
//! Try it by hand: cargo run -p exercises --example ex10_async_echo
//!                 then, in two more terminals: cargo run --bin 02_echo_client -- 127.0.0.1:65441
//! Hints are in the book, chapter "10: Async Rust: the echo and the chat again".
//!
//! (This file needs tokio, so it is not part of the exercises' library: only its check and its
//! example compile it, and `cargo run -p exercises --bin ...` never builds tokio.)

use course::accept::AcceptFailures;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Serves every client that connects to `listener`, until the program is stopped.
pub fn serve(listener: std::net::TcpListener) -> anyhow::Result<()> {
    // One thread runs every task: what `#[tokio::main]` does, with the single-threaded runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(accept_clients(listener))
}

// ANCHOR: accept_clients
async fn accept_clients(listener: std::net::TcpListener) -> anyhow::Result<()> {
    // tokio takes over a listener from the standard library, once it no longer blocks.
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    // Out of file descriptors, every accept fails at once until a client leaves: pause after
    // each failure (tokio's pause, which holds no thread), and log a spell of trouble, not
    // every try.
    let mut failures = AcceptFailures::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tokio::time::sleep(failures.log_failure(error)).await;
                continue;
            }
        };
        failures.over();
        // TODO: serve this client in a task of its own (`tokio::spawn`), so that this loop goes
        // straight back to accepting the next client.
        if let Err(error) = echo(stream).await {
            eprintln!("{peer}: echo failed: {error:#}");
        }
    }
}
// ANCHOR_END: accept_clients

/// Sends every byte back to the client until it closes its side of the connection.
async fn echo(mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer).await?;
        if count == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..count]).await?;
    }
}
