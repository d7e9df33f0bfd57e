//! Not an answer itself: exercise 07's server, copied from the reference solution item for item,
//! with its two rules (how the accept loop hands a connection to the queue, and what a worker
//! does) made swappable. So each known-wrong pool differs from the reference solution in exactly
//! the rule it gets wrong, and `the_given_pool_is_the_same_everywhere` in tests/suite/check_proofs.rs
//! fails if this copy drifts.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use course::accept::AcceptFailures;
use crossbeam_channel::{Receiver, Sender, TrySendError};

/// The two rules a learner writes in exercise 07.
#[derive(Clone, Copy)]
pub struct Rules {
    pub hand_over: fn(&Sender<TcpStream>, TcpStream) -> anyhow::Result<()>,
    pub work: fn(Receiver<TcpStream>),
}

/// The reference solution's rules.
pub const RIGHT: Rules = Rules {
    hand_over: right_hand_over,
    work: right_work,
};

// The given server, item for item as in solutions/src/07_thread_pool.rs, but for the rules.

/// What a client beyond the limit hears before its connection is closed.
pub const BUSY: &str = "Sorry, the server is busy. Please try again later.\n";

/// Serves clients on `listener` with `workers` threads; at most `max_waiting` connections wait
/// for a free worker, and the next one is turned away.
pub fn serve_with(
    listener: TcpListener,
    workers: usize,
    max_waiting: usize,
    rules: Rules,
) -> anyhow::Result<()> {
    let (waiting, queue) = crossbeam_channel::bounded::<TcpStream>(max_waiting);
    for number in 1..=workers {
        let queue = queue.clone();
        thread::Builder::new()
            .name(format!("worker {number}"))
            .spawn(move || (rules.work)(queue))?;
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
        (rules.hand_over)(&waiting, stream)?;
    }
    Ok(())
}

/// Tells a client the server is busy, in one line, and closes its connection.
pub fn turn_away(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    if let Err(error) = stream.write_all(BUSY.as_bytes()) {
        eprintln!("could not tell a client the server is busy: {error}");
    }
    // Not a plain drop, which could send a reset that destroys the line: see lesson 07.
    course::close::gently(stream);
}

/// Sends every byte back to the client until it closes its side of the connection.
pub fn echo(mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..count])?;
    }
}

// The reference solution's rules, as plain functions.

/// The accept loop's hand-over.
pub fn right_hand_over(waiting: &Sender<TcpStream>, stream: TcpStream) -> anyhow::Result<()> {
    // `try_send` hands the stream back at once when the queue is full.
    match waiting.try_send(stream) {
        Ok(()) => {}
        Err(TrySendError::Full(stream)) => turn_away(stream),
        Err(TrySendError::Disconnected(_)) => anyhow::bail!("every worker has stopped"),
    }
    Ok(())
}

/// Runs on each worker thread, for as long as the server runs.
pub fn right_work(queue: Receiver<TcpStream>) {
    // Ends only when the accept loop drops its Sender and the queue is empty.
    for stream in queue {
        // One client's error ends that client's connection, not the worker.
        if let Err(error) = echo(stream) {
            eprintln!("echo failed: {error:#}");
        }
    }
}
