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
    // TODO: run the clients at once, each on a thread of its own (thread::spawn, then join them
    // all), and add up what each one saw.
    // TODO: give every connect, read and write a limit of `timeout`.
    let _ = timeout;
    let mut measured = Measured::default();
    for client in 0..clients {
        let Ok(mut stream) = TcpStream::connect(server) else {
            measured.errors += messages;
            continue;
        };
        for sequence in 0..messages {
            let message = message(client, sequence);
            let started = Instant::now();
            if stream.write_all(&message).is_err() {
                measured.errors += messages - sequence;
                break;
            }
            // TODO: one read may hold only part of the echo: read all of it, then check that it
            // is exactly the message. A wrong, late or missing echo is an error, which ends this
            // client (its remaining messages count as errors too).
            let mut echo = vec![0; message.len()];
            let _ = stream.read(&mut echo);
            measured.round_trips.push(started.elapsed());
        }
    }
    measured
}
// ANCHOR_END: measure
