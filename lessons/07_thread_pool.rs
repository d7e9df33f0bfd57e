//! Lesson 07: a bounded thread pool.
//!
//! Lesson 03 starts a thread for every client, however many come. This server starts a fixed
//! number of *worker* threads once, at the start, and hands them connections through a bounded
//! queue (a crossbeam channel). While every worker is busy, new connections wait in the queue;
//! when the queue is full too, the next connection is told so in one line and closed. However
//! many clients connect, the process runs WORKERS threads plus the accept loop (and, for a
//! moment after each turn-away, a short-lived thread that closes that connection gently: at most
//! 16 at once, `course::close`).
//!
//! The price is in the word *fixed*: a worker serves one client from connect to close, so
//! WORKERS silent clients are enough to keep everyone else waiting. The book's chapter shows it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ops::RangeInclusive;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{MOST_AT_ONCE, MOST_THREADS, Program, Role, count};
use crossbeam_channel::{Receiver, Sender, TrySendError};

// ANCHOR: limits
/// How many clients are served at once, unless the command line says otherwise: one per worker
/// thread. Threads are started once; no client can make the server start another.
const WORKERS: usize = 4;
/// How many accepted connections may wait for a worker. Waiting costs a socket and a slot in the
/// queue, no thread; the queue's bound keeps even that finite.
const MAX_WAITING: usize = 64;
// ANCHOR_END: limits

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let workers = parse_count(args.extra.first(), WORKERS, 1..=MOST_THREADS, "WORKERS")?;
    let max_waiting = parse_count(
        args.extra.get(1),
        MAX_WAITING,
        0..=MOST_AT_ONCE,
        "MAX_WAITING",
    )?;
    // ANCHOR: bind
    // A longer backlog than std's 128: see src/listen.rs, and the chapter's section on it.
    let listener = course::listen::bind_with_backlog(args.address, course::listen::CROWD_BACKLOG)?;
    // ANCHOR_END: bind
    println!("listening on {}", listener.local_addr()?);

    // ANCHOR: pool
    // The queue between the accept loop and the workers. A connection sits in it from the
    // moment it is accepted until a worker is free.
    let (waiting, queue) = crossbeam_channel::bounded::<TcpStream>(max_waiting);
    for number in 1..=workers {
        let queue = queue.clone();
        thread::Builder::new()
            .name(format!("worker {number}"))
            .spawn(move || work(number, queue))
            .with_context(|| format!("starting worker {number}"))?;
    }
    // The workers hold their clones; the accept loop's `try_send` would never see "no workers
    // left" if `main` kept this one.
    drop(queue);
    println!(
        "{} ready, {} may wait for them",
        count(workers, "worker", "workers"),
        count(max_waiting, "connection", "connections")
    );
    Ok(accept_connections(
        &listener,
        &waiting,
        workers,
        max_waiting,
    )?)
    // ANCHOR_END: pool
}

// ANCHOR: accept_loop
/// Hands every new connection to the queue, or turns it away when the queue is full. Returns
/// only if every worker has stopped, which would be a bug.
fn accept_connections(
    listener: &TcpListener,
    waiting: &Sender<TcpStream>,
    workers: usize,
    max_waiting: usize,
) -> anyhow::Result<()> {
    // Out of file descriptors, every `accept` fails until a client leaves: `failures` pauses
    // after each failure rather than spin, and logs a spell of them, not ten times a second.
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
        // `try_send`, never `send`: `send` would wait for room in the queue, and while it
        // waits nobody accepts, so the newcomers pile up unseen in the backlog instead of
        // being told the server is busy.
        match waiting.try_send(stream) {
            Ok(()) => {}
            Err(TrySendError::Full(stream)) => turn_away(stream, workers, max_waiting),
            Err(TrySendError::Disconnected(_)) => {
                anyhow::bail!("every worker thread has stopped, so nobody can serve clients")
            }
        }
    }
    Ok(())
}

/// Tells a client the server is busy, in one line, and closes its connection.
fn turn_away(mut stream: TcpStream, workers: usize, max_waiting: usize) {
    let who = stream
        .peer_addr()
        .map_or_else(|_| "a client".to_string(), |peer| peer.to_string());
    println!(
        "{who} turned away: {} served, {max_waiting} waiting",
        count(workers, "client", "clients")
    );
    // One short line fits in a new connection's empty send buffer, so this write does not wait;
    // the timeout is there in case it ever would, since the accept loop must not.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    if let Err(error) = stream.write_all(BUSY.as_bytes()) {
        eprintln!("could not tell {who} the server is busy: {error}");
    }
    // Not a plain drop: if the client has sent a line already, closing with it unread would
    // send a reset, which can erase the busy line before the client reads it, and ends the
    // connection with an error instead of an ordinary end.
    course::close::gently(stream);
}
// ANCHOR_END: accept_loop

// ANCHOR: worker
/// Runs on a worker thread: serves one client at a time, taking the next from the queue, for as
/// long as the server runs.
fn work(number: usize, queue: Receiver<TcpStream>) {
    // The loop ends only when the accept loop drops its Sender and the queue is empty.
    for stream in queue {
        let peer = match stream.peer_addr() {
            Ok(peer) => peer,
            // It hung up while it waited in the queue.
            Err(_) => continue,
        };
        println!("{peer} served by worker {number}");
        // An error ends this client's connection only; the worker goes back to the queue.
        match echo(stream, peer) {
            Ok(()) => println!("{peer} disconnected"),
            Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
        }
    }
}
// ANCHOR_END: worker

/// Sends every byte back to the client until it closes its side of the connection.
fn echo(mut stream: TcpStream, peer: SocketAddr) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream
            .read(&mut buffer)
            .with_context(|| format!("reading from {peer}"))?;
        if count == 0 {
            return Ok(());
        }
        stream
            .write_all(&buffer[..count])
            .with_context(|| format!("echoing to {peer}"))?;
    }
}

/// Reads an optional count from the command line, within `range`. The range has an end: a count
/// of workers is a count of threads, which a system limits, and every waiting place is set aside
/// at the start.
fn parse_count(
    text: Option<&String>,
    default: usize,
    range: RangeInclusive<usize>,
    name: &str,
) -> anyhow::Result<usize> {
    match text {
        Some(text) => course::cli::whole_number(name, text, range),
        None => Ok(default),
    }
}

/// What a client beyond the limit hears before its connection is closed.
const BUSY: &str = "Sorry, the server is busy. Please try again later.\n";

const PROGRAM: Program = Program {
    name: "07_thread_pool",
    role: Role::Server,
    about: "Lesson 07: an echo server with a fixed pool of worker threads and a bounded queue.",
    default_address: "127.0.0.1:65438",
    extra_usage: "[WORKERS] [MAX_WAITING]",
    max_extra_args: 2,
    try_it: "Talk to it from other terminals with:\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65438\n  nc 127.0.0.1 65438\n\n\
             WORKERS threads serve one client each (default 4, at most 10000); MAX_WAITING\n\
             more connections wait for a free worker (default 64, at most 1000000); the next\n\
             is told the server is busy and closed. See it with three clients and one worker,\n\
             one waiting place:\n  \
             cargo run --bin 07_thread_pool -- 127.0.0.1:65438 1 1",
};
