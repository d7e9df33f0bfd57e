//! Exercise 07: a pool of worker threads, and a polite "busy" when it is full.
//!
//! This is lesson 07's server with two pieces missing. `serve` starts `workers` worker threads
//! and feeds them accepted connections through a bounded queue of `max_waiting`. Write the worker
//! loop, so each worker serves one connection after another for as long as the server runs; and
//! make the accept loop turn a client away with one line (`BUSY`) when the queue is full, instead
//! of waiting for room.
//!
//! Check it:       cargo test -p exercises 07
//! Try it by hand: cargo run -p exercises --bin ex07_thread_pool -- 127.0.0.1:65438 1 1
//!                 then, in three more terminals: nc 127.0.0.1 65438
//! Hints are in the book, chapter "07: A thread pool, limits, and the listen backlog". On Linux
//! the check also counts your server's threads; other systems do not show them to it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use course::accept::AcceptFailures;
use crossbeam_channel::{Receiver, TrySendError};

/// What a client beyond the limit hears before its connection is closed.
pub const BUSY: &str = "Sorry, the server is busy. Please try again later.\n";

// ANCHOR: serve
/// Serves clients on `listener` with `workers` threads; at most `max_waiting` connections wait
/// for a free worker, and the next one is turned away.
pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    let (waiting, queue) = crossbeam_channel::bounded::<TcpStream>(max_waiting);
    for number in 1..=workers {
        let queue = queue.clone();
        thread::Builder::new()
            .name(format!("worker {number}"))
            .spawn(move || work(queue))?;
    }
    drop(queue);
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
        // `try_send` hands the stream back at once when the queue is full.
        match waiting.try_send(stream) {
            Ok(()) => {}
            Err(TrySendError::Full(stream)) => turn_away(stream),
            Err(TrySendError::Disconnected(_)) => anyhow::bail!("every worker has stopped"),
        }
    }
    Ok(())
}
// ANCHOR_END: serve

/// Tells a client the server is busy, in one line, and closes its connection.
fn turn_away(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    if let Err(error) = stream.write_all(BUSY.as_bytes()) {
        eprintln!("could not tell a client the server is busy: {error}");
    }
    // Not a plain drop, which could send a reset that destroys the line: see lesson 07.
    course::close::gently(stream);
}

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

// ANCHOR: work
/// Runs on each worker thread, for as long as the server runs.
fn work(queue: Receiver<TcpStream>) {
    // Ends only when the accept loop drops its Sender and the queue is empty.
    for stream in queue {
        // One client's error ends that client's connection, not the worker.
        if let Err(error) = echo(stream) {
            eprintln!("echo failed: {error:#}");
        }
    }
}
// ANCHOR_END: work
