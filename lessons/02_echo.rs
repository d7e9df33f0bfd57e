//! Lesson 02: the echo server.
//!
//! It sends back every byte a client sends, until that client closes the connection. It serves
//! one client at a time, on purpose: a second client waits until the first is done. Lesson 03
//! fixes that.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

fn main() -> course::cli::MainResult {
    let address = PROGRAM.args()?.address;
    let listener =
        TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);

    // ANCHOR: accept_loop
    // As in lesson 01: pause after a failed accept, and log a lasting failure's spell, not
    // every try.
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        match connection {
            // While `echo` runs, this loop is not waiting in `incoming()`: a second client's
            // connection is completed by the system and queued (the "backlog"), but nobody
            // reads from it until this client leaves.
            Ok(stream) => {
                failures.over();
                if let Err(error) = echo(stream) {
                    eprintln!("echo failed: {error:#}");
                }
            }
            Err(error) => failures.pause_after(error),
        }
    }
    Ok(())
    // ANCHOR_END: accept_loop
}

// ANCHOR: echo
/// Sends every byte back to the client until it closes its side of the connection.
fn echo(mut stream: TcpStream) -> anyhow::Result<()> {
    let peer = stream.peer_addr().context("asking who connected")?;
    println!("{peer} connected");
    let mut buffer = [0; 1024];
    loop {
        // `read` returns as soon as *some* bytes have arrived: maybe a whole line, maybe one
        // byte of it, maybe two lines at once. An echo server does not care where lines end,
        // so it just sends back whatever it got.
        let count = stream
            .read(&mut buffer)
            .with_context(|| format!("reading from {peer}"))?;
        if count == 0 {
            // 0 bytes means the client closed its side: there is nothing more to echo.
            break;
        }
        stream
            .write_all(&buffer[..count])
            .with_context(|| format!("echoing to {peer}"))?;
    }
    println!("{peer} disconnected");
    Ok(())
}
// ANCHOR_END: echo

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "02_echo",
    role: Role::Server,
    about: "Lesson 02: echoes back everything a client sends, one client at a time.",
    default_address: "127.0.0.1:65433",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Talk to it from another terminal with:\n  cargo run --bin 02_echo_client\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65433 \"Hello, Echo Server!\"\n  \
             nc 127.0.0.1 65433",
};
