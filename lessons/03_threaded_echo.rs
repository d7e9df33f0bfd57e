//! Lesson 03: the threaded echo server.
//!
//! The echo server of lesson 02, with one change: every client gets a thread of its own, so a
//! client that is slow, silent or broken no longer keeps anyone else waiting.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

fn main() -> course::cli::MainResult {
    let address = PROGRAM.args()?.address;
    let listener =
        TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);

    // ANCHOR: accept_loop
    // This server holds a socket per client, so it is the one that meets the limit on open
    // files (`ulimit -n`): then every accept fails at once, until a client leaves. `failures`
    // pauses the loop after each failure, so it waits instead of spinning, and logs the spell,
    // not every try.
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        let stream = match connection {
            Ok(stream) => stream,
            Err(error) => {
                failures.pause_after(error);
                continue;
            }
        };
        failures.over();
        let peer = match stream.peer_addr() {
            Ok(peer) => peer,
            // The client may already be gone between accept and this call.
            Err(error) => {
                eprintln!("a client left before it could be served: {error}");
                continue;
            }
        };
        // The accept loop only hands the connection over and goes straight back to accepting.
        // The thread is named after its client, so a panic message says whose thread it was.
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .spawn(move || serve_client(stream, peer));
        if let Err(error) = spawned {
            // Out of memory or of threads: this client is turned away (its stream is dropped,
            // which closes it), but everyone already connected carries on.
            eprintln!("cannot start a thread for {peer}: {error}");
        }
    }
    Ok(())
    // ANCHOR_END: accept_loop
}

// ANCHOR: serve_client
/// Runs on the client's own thread: echoes, then logs how the client left.
fn serve_client(stream: TcpStream, peer: SocketAddr) {
    println!("{peer} connected");
    // An error here ends this client's thread only. Nothing is shared between clients, so
    // there is nothing another client could see half-done.
    match echo(stream, peer) {
        Ok(()) => println!("{peer} disconnected"),
        Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
    }
}

/// Sends every byte back to the client until it closes its side of the connection.
fn echo(mut stream: TcpStream, peer: SocketAddr) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream
            .read(&mut buffer)
            .with_context(|| format!("reading from {peer}"))?;
        if count == 0 {
            return Ok(());
        }
        stream
            .write_all(&buffer[..count])
            .with_context(|| format!("echoing to {peer}"))?;
    }
}
// ANCHOR_END: serve_client

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "03_threaded_echo",
    role: Role::Server,
    about: "Lesson 03: echoes back everything each client sends, to many clients at once.",
    default_address: "127.0.0.1:65434",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Talk to it from two or more other terminals at once with:\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65434\n  nc 127.0.0.1 65434",
};
