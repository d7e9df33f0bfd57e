//! Exercise 02: an echo client that gets the whole reply.
//!
//! `send_line` sends one line to an echo server and returns the echo. As shipped it does what
//! the seed's Python client did: one read, and whatever came is "the reply". But TCP is a stream
//! of bytes: the echo may come in pieces, and a long one never fits one small read. Make
//! `send_line` read until the newline has come back, and return an error if the server closes
//! the connection before it does.
//!
//! Check it:       cargo test -p exercises 02
//! Try it by hand: cargo run --bin 02_echo                     (in one terminal)
//!                 cargo run -p exercises --bin ex02_echo_client -- 127.0.0.1:65433 "hello"
//! Hints are in the book, chapter "02: An echo server and client".

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::Context;

/// How long to wait for the server to connect or to answer.
const PATIENCE: Duration = Duration::from_secs(5);

// ANCHOR: send_line
/// Sends `message` and a newline to the echo server at `server`, and returns the echoed line
/// without its newline.
pub fn send_line(server: SocketAddr, message: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect_timeout(&server, PATIENCE)
        .with_context(|| format!("connecting to {server}"))?;
    stream.set_read_timeout(Some(PATIENCE))?;
    stream.write_all(format!("{message}\n").as_bytes())?;

    // TODO: one read() is not one reply. Keep reading until the newline arrives, and return an
    // error if the server closes the connection before it does.
    let mut buffer = [0; 1024];
    let count = stream.read(&mut buffer)?;
    let reply = String::from_utf8_lossy(&buffer[..count]);
    Ok(reply.trim_end_matches('\n').to_string())
}
// ANCHOR_END: send_line
