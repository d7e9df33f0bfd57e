//! Exercise 06: close the clients that go quiet.
//!
//! `serve` is lesson 03's threaded echo server: each client gets a thread, and every byte comes
//! back. But a client that connects and says nothing holds its thread and its connection for
//! ever. Make the server close a client that sends nothing for `idle`, after sending it the line
//! `goodbye(idle)`. A client that keeps talking must never be dropped, however long it stays.
//!
//! Check it:       cargo test -p exercises 06
//! Try it by hand: cargo run -p exercises --bin ex06_timeouts   (closes clients silent for 10 s)
//!                 nc 127.0.0.1 65437                          (in another terminal; type nothing)
//! Hints are in the book, chapter "06: Timeouts, closing, and the common mistakes".

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::accept::AcceptFailures;

/// Serves every client on a thread of its own, closing those silent for `idle`.
pub fn serve(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
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
        if let Err(error) = thread::Builder::new().spawn(move || serve_client(stream, idle)) {
            eprintln!("cannot start a thread for a client: {error}");
        }
    }
    Ok(())
}

/// Runs on the client's own thread: echoes, and logs how the client left.
fn serve_client(stream: TcpStream, idle: Duration) {
    let peer = match stream.peer_addr() {
        Ok(peer) => peer.to_string(),
        Err(_) => "a client".to_string(),
    };
    match echo(stream, idle) {
        Ok(()) => println!("{peer} disconnected"),
        Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
    }
}

// ANCHOR: echo
/// Sends every byte back until the client closes its side, or stays silent for `idle`.
fn echo(mut stream: TcpStream, idle: Duration) -> anyhow::Result<()> {
    // Each read gets the whole limit afresh: this measures silence, not time connected.
    stream.set_read_timeout(Some(idle))?;
    // A client that never reads would leave write_all waiting for ever: the same limit.
    stream.set_write_timeout(Some(idle))?;
    let mut buffer = [0; 1024];
    loop {
        let count = match stream.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(count) => count,
            // Unix says WouldBlock, Windows TimedOut, when the limit runs out.
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // If even this line cannot be sent, the client is gone: nobody left to tell.
                let _ = stream.write_all(goodbye(idle).as_bytes());
                return Ok(());
            }
            Err(error) => return Err(error).context("reading"),
        };
        stream.write_all(&buffer[..count]).context("echoing")?;
    }
}
// ANCHOR_END: echo

/// The one line a silent client gets before its connection is closed.
pub fn goodbye(idle: Duration) -> String {
    format!(
        "you sent nothing for {} s, so the server is closing this connection\n",
        idle.as_secs_f64()
    )
}
