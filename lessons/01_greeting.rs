//! Lesson 01: the greeting server.
//!
//! It listens on a TCP port, and to every client that connects it sends one line of text and then
//! closes that connection. Run it, then in another terminal run `01_greeting_client`.

use std::io::Write;
use std::net::{TcpListener, TcpStream};

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

// ANCHOR: greeting
/// What every client receives. The newline marks the end of the line for line-reading clients.
const GREETING: &[u8] = b"Hello, client!\n";
// ANCHOR_END: greeting

fn main() -> course::cli::MainResult {
    let address = PROGRAM.args()?.address;

    // ANCHOR: bind
    // `bind` creates the socket, attaches it to the address, and starts listening, all in one
    // call: Python's socket(), bind() and listen().
    let listener =
        TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    // Print the address the system actually gave us: with port 0 it picks a free port, and tests
    // (or you) learn which one from this line.
    println!("listening on {}", listener.local_addr()?);
    // ANCHOR_END: bind

    // ANCHOR: accept_loop
    // Accepting can fail, and one failure lasts: out of file descriptors, every try fails at
    // once until a client leaves. `failures` pauses the loop after each one, and keeps the log
    // to a line when the spell starts (and one a minute while it lasts, one when it ends)
    // instead of one per try.
    let mut failures = AcceptFailures::new();
    // `incoming()` waits for the next client and hands us a connected stream: Python's accept().
    // Unlike the Python server this course grew from, which accepted once and exited, this
    // loop serves client after client until you press Ctrl-C.
    for connection in listener.incoming() {
        match connection {
            Ok(stream) => {
                failures.over();
                // One client's trouble is logged and forgotten; the next client is still welcome.
                if let Err(error) = greet(stream) {
                    eprintln!("could not greet a client: {error:#}");
                }
            }
            Err(error) => failures.pause_after(error),
        }
    }
    Ok(())
    // ANCHOR_END: accept_loop
}

// ANCHOR: greet
/// Sends the greeting to one client. The connection closes when `stream` is dropped at the end.
fn greet(mut stream: TcpStream) -> anyhow::Result<()> {
    let peer = stream.peer_addr().context("asking who connected")?;
    println!("{peer} connected");
    // `write_all` keeps writing until every byte is handed to the system. A plain `write` may
    // take only part of the buffer and tell you how much: easy to forget, so prefer `write_all`.
    stream
        .write_all(GREETING)
        .with_context(|| format!("sending the greeting to {peer}"))?;
    Ok(())
}
// ANCHOR_END: greet

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "01_greeting",
    role: Role::Server,
    about: "Lesson 01: greets every client that connects with one line, then hangs up.",
    default_address: "127.0.0.1:65432",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Talk to it from another terminal with:\n  cargo run --bin 01_greeting_client\n  \
             nc 127.0.0.1 65432\n  python3 -c \"import socket; \
             print(socket.create_connection(('127.0.0.1', 65432)).recv(1024))\"",
};
