//! Exercise 11: measure a server, and count every wrong reply.
//!
//! `measure` is the heart of a load generator, lesson 11's in small. It should run `clients`
//! clients at once, each on a thread of its own, against the echo server at `server`. Each
//! client connects and sends its `messages` messages (see [`message`]) one at a time: it sends
//! one, reads its echo, checks it byte for byte, and only then sends the next. A round trip is
//! timed from just before the message is sent to the last byte of its echo, and counts only if
//! the echo is exactly the message. Anything else is an error: a wrong echo, a connection that
//! fails or closes, no connection at all, or no echo within `timeout`. An error ends that client,
//! and its messages not yet sent count as errors too, so that round trips and errors always add
//! up to `clients` times `messages`. As shipped, `measure` runs one client after another, takes
//! whatever one read returns for the echo, and counts every message as a round trip: a server
//! that answers fast but wrongly looks fast.
//!
//! Check it:       cargo test -p exercises 11
//! Try it by hand: cargo run --bin 03_threaded_echo                      (in one terminal)
//!                 cargo run -p exercises --bin ex11_load -- 127.0.0.1:65434 10 100
//! Hints are in the book, chapter "11: How many clients? Measuring load".

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// What the clients saw.
#[derive(Debug, Default)]
pub struct Measured {
    /// How long each good round trip took, in no particular order.
    pub round_trips: Vec<Duration>,
    /// Messages that failed, or were never sent because their client had failed.
    pub errors: usize,
}

/// The message that client `client` sends as its `sequence`th (both from 0): its numbers, so that
/// an echo meant for another message cannot pass for this one, and a newline, which line servers
/// (lesson 07's pool, lesson 09's) need.
pub fn message(client: usize, sequence: usize) -> Vec<u8> {
    format!("client {client} message {sequence}\n").into_bytes()
}

// ANCHOR: measure
/// Runs `clients` clients at once against the echo server at `server`, each sending `messages`
/// messages one at a time, and gathers what they saw.
pub fn measure(server: SocketAddr, clients: usize, messages: usize, timeout: Duration) -> Measured {
    // All at once: a server that serves one client at a time must show it.
    let running: Vec<_> = (0..clients)
        .map(|client| thread::spawn(move || one_client(server, client, messages, timeout)))
        .collect();
    let mut measured = Measured::default();
    for client in running {
        // A client thread that panicked saw nothing it can report: all its messages failed.
        let seen = client.join().unwrap_or_else(|_| Measured {
            round_trips: Vec::new(),
            errors: messages,
        });
        measured.round_trips.extend(seen.round_trips);
        measured.errors += seen.errors;
    }
    measured
}

/// One client: connects, then does its round trips one after another, until the first error.
fn one_client(server: SocketAddr, client: usize, messages: usize, timeout: Duration) -> Measured {
    let mut seen = Measured::default();
    let Ok(mut stream) = connect(server, timeout) else {
        seen.errors = messages;
        return seen;
    };
    for sequence in 0..messages {
        match round_trip(&mut stream, &message(client, sequence)) {
            Ok(took) => seen.round_trips.push(took),
            Err(_) => {
                // This message, and every one not yet sent: the connection cannot be trusted
                // any more (a late echo may still be on its way).
                seen.errors += messages - sequence;
                break;
            }
        }
    }
    seen
}

/// A connection whose connect, reads and writes each wait at most `timeout`.
fn connect(server: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&server, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    // Each message leaves at once, not held back for more (Nagle's algorithm, lesson 04).
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Sends `message`, reads exactly as many bytes back, and checks them: how long it took, or why
/// it failed.
fn round_trip(stream: &mut TcpStream, message: &[u8]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    stream.write_all(message)?;
    let mut echo = vec![0; message.len()];
    // However many reads it takes; an early end of the stream is an error (UnexpectedEof).
    stream.read_exact(&mut echo)?;
    let took = started.elapsed();
    anyhow::ensure!(echo == message, "the echo is not the message");
    Ok(took)
}
// ANCHOR_END: measure
