//! Exercise 02: an echo client that collects every echo.
//!
//! `send_lines` sends several lines to an echo server, all at once, and then returns the echoes:
//! one line back for each line sent. As shipped it takes one read() for each echo, the way the
//! seed's Python client did. But TCP delivers a stream of bytes, not messages: one read may hold
//! half an echo, or two echoes at once. Make `send_lines` return exactly one echoed line per line
//! sent, and an error if the server closes the connection before every echo has come. Return
//! what the server sent back, even if it differs from what you sent, without its newline and
//! otherwise unchanged; and an echo cut off without its newline is an error, not a reply.
//!
//! Check it:       cargo test -p exercises 02
//! Try it by hand: cargo run --bin 02_echo                     (in one terminal)
//!                 cargo run -p exercises --bin ex02_echo_client -- 127.0.0.1:65433 one two three
//! Hints are in the book, chapter "02: An echo server and client".

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::Context;

/// How long to wait for the server to connect or to answer.
const PATIENCE: Duration = Duration::from_secs(5);

// ANCHOR: send_lines
/// Sends each of `lines`, with a newline, to the echo server at `server`; then returns the
/// echoed lines, without their newlines, in order.
pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect_timeout(&server, PATIENCE)
        .with_context(|| format!("connecting to {server}"))?;
    stream.set_read_timeout(Some(PATIENCE))?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }

    // TODO: one read() is not one reply: a read may hold part of an echo, or several echoes.
    // Return exactly one echoed line per line sent, and an error if the server closes the
    // connection before every echo has come.
    let mut echoes = Vec::new();
    for _ in lines {
        let mut buffer = [0; 1024];
        let count = stream.read(&mut buffer)?;
        let echo = String::from_utf8_lossy(&buffer[..count]);
        echoes.push(echo.trim_end_matches('\n').to_string());
    }
    Ok(echoes)
}
// ANCHOR_END: send_lines
