//! Exercise 01: a greeting that names its client.
//!
//! This is lesson 01's greeting server: every client gets "Hello, client!". Make it greet each
//! client by its address instead, as the server sees it: "Hello, 127.0.0.1:50000!" and a newline.
//!
//! Check it:       cargo test -p exercises 01
//! Try it by hand: cargo run -p exercises --bin ex01_greeting
//!                 then, in another terminal: cargo run --bin 01_greeting_client
//! Hints are in the book, chapter "01: A greeting server and client".

use std::io::Write;
use std::net::{TcpListener, TcpStream};

use course::accept::AcceptFailures;

/// Greets every client that connects to `listener`, until the program is stopped.
pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    // After a failed accept, pause rather than fail again at once (see lesson 01).
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        match connection {
            Ok(stream) => {
                failures.over();
                if let Err(error) = greet(stream) {
                    eprintln!("could not greet a client: {error:#}");
                }
            }
            Err(error) => failures.pause_after(error),
        }
    }
    Ok(())
}

// ANCHOR: greet
/// Sends the greeting to one client; the connection closes when `stream` is dropped.
fn greet(mut stream: TcpStream) -> anyhow::Result<()> {
    // The client is the *peer*: the other end of the connection. `local_addr()` would be the
    // server's own end.
    let client = stream.peer_addr()?;
    stream.write_all(format!("Hello, {client}!\n").as_bytes())?;
    Ok(())
}
// ANCHOR_END: greet
