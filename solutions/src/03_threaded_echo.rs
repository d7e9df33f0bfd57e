//! Exercise 03: serve many clients at once.
//!
//! This is lesson 02's echo server. It echoes every byte back, but to one client at a time:
//! while one client is connected, even a silent one, everyone else waits. Change it so that
//! every client is served at the same time, each on a thread of its own, and so that one
//! client's trouble never reaches another client. Keep what it already does right: it sends
//! back exactly the bytes it reads (any bytes, not only lines of text, and the last ones even
//! without a newline), it never drops a client for being quiet, and it closes a connection once
//! the client has closed its side.
//!
//! Check it:       cargo test -p exercises 03
//! Try it by hand: cargo run -p exercises --bin ex03_threaded_echo
//!                 then, in two more terminals: cargo run --bin 02_echo_client -- 127.0.0.1:65434
//! Hints are in the book, chapter "03: A threaded echo server".

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use course::accept::AcceptFailures;

// ANCHOR: serve
/// Serves every client that connects to `listener`, until the program is stopped.
pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    // Out of file descriptors, every accept fails at once until a client leaves: pause after
    // each failure instead of spinning, and log a spell of trouble, not every try.
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
        // `move` hands the stream to the new thread: from here on, only that thread owns it.
        // The error is handled on that thread too, so it ends that client's connection only.
        thread::spawn(move || {
            if let Err(error) = echo(stream) {
                eprintln!("echo failed: {error:#}");
            }
        });
    }
    Ok(())
}
// ANCHOR_END: serve

/// Sends every byte back to the client until it closes its side of the connection.
fn echo(mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..count])?;
    }
}
