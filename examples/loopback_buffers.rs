//! Measures how much data fits "in the pipe" over loopback on this machine, where nobody reads:
//!
//! 1. one way: how many bytes one end can write before its `write` waits, while the other end
//!    reads nothing (the sender's send buffer plus the receiver's receive buffer);
//! 2. the echo deadlock of chapter 02: how many bytes a client can send to lesson 02's server
//!    without reading any echo, before both sides wait for each other.
//!
//! Run it (any system; it starts lesson 02's server, so build that first):
//!
//!     cargo build --bin 02_echo
//!     cargo run --example loopback_buffers
//!
//! The sizes depend on the system and its settings (Linux grows its buffers as a connection is
//! used), so run it a few times; the book quotes one run.

#[path = "support/server.rs"]
mod support;

use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use anyhow::Context;

/// How long a write may wait before we call the pipe full. Long enough that a busy machine still
/// drains what it can, short enough that the program ends quickly.
const STALL: Duration = Duration::from_millis(500);

fn main() -> course::cli::MainResult {
    course::cli::no_arguments("loopback_buffers")?;
    let one_way = fill_one_way()?;
    println!("one way, nobody reading:        {}", mebibytes(one_way));
    let server = support::start("02_echo", &[])?;
    let address = server.address;
    let echo = fill_echo(address);
    drop(server); // stops it
    println!("to 02_echo, reading no echo:    {}", mebibytes(echo?));
    Ok(())
}

/// Writes to a loopback connection whose other end never reads, until a write waits [`STALL`].
fn fill_one_way() -> anyhow::Result<usize> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind loopback")?;
    let writer = TcpStream::connect(listener.local_addr()?).context("connect")?;
    // Accepted, and kept open, but never read.
    let (_silent, _) = listener.accept().context("accept")?;
    write_until_stalled(writer)
}

/// Writes to lesson 02's server, never reading its echoes, until a write waits [`STALL`].
fn fill_echo(address: SocketAddr) -> anyhow::Result<usize> {
    let client = TcpStream::connect(address).context("connect to 02_echo")?;
    write_until_stalled(client)
}

/// Writes 64 KiB at a time until one write takes longer than [`STALL`]; returns the bytes sent.
fn write_until_stalled(mut stream: TcpStream) -> anyhow::Result<usize> {
    stream.set_write_timeout(Some(STALL))?;
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    loop {
        match stream.write(&chunk) {
            Ok(count) => sent += count,
            // The timeout: Unix says WouldBlock, Windows TimedOut.
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(sent);
            }
            Err(error) => return Err(error).context("write"),
        }
    }
}

fn mebibytes(bytes: usize) -> String {
    format!(
        "{:.1} MiB ({bytes} bytes)",
        bytes as f64 / (1024.0 * 1024.0)
    )
}
