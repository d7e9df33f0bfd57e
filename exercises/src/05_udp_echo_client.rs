//! Exercise 05: a UDP client that asks again.
//!
//! `ask` sends one datagram to a UDP echo server and returns the echo. As shipped it sends once
//! and then waits for whatever arrives, from anyone, for as long as it takes. But UDP loses
//! datagrams without telling anyone, and anyone can send to your port. Make `ask` wait at most
//! `wait` for each answer, send again when none comes (at most `attempts` datagrams in all), take
//! only a datagram from `server` as the answer, and return an error when no attempt is answered.
//!
//! Check it:       cargo test -p exercises 05
//! Try it by hand: cargo run --bin 05_udp_echo                 (in one terminal)
//!                 cargo run -p exercises --bin ex05_udp_echo_client -- 127.0.0.1:65436 hello
//! Hints are in the book, chapter "05: A UDP echo server and client".

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use anyhow::Context;

/// An echo, and which of our datagrams got it.
pub struct Answer {
    pub reply: String,
    /// 1 for the first datagram sent, 2 for the second...
    pub attempt: u32,
}

/// Room for the largest datagram there is.
const BUFFER_BYTES: usize = 65_536;

// ANCHOR: ask
/// Sends `message` to `server` and returns its echo, sending again each time `wait` passes with
/// no answer, at most `attempts` times in all.
pub fn ask(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &str,
    wait: Duration,
    attempts: u32,
) -> anyhow::Result<Answer> {
    // TODO: a lost datagram is never answered. Send again each time `wait` runs out, at most
    // `attempts` times, and return an error if none of them is answered.
    let _ = (wait, attempts);
    socket
        .send_to(message.as_bytes(), server)
        .with_context(|| format!("sending to {server}"))?;

    // TODO: give this wait a limit of `wait` (set_read_timeout). Without one, it lasts for ever.
    // TODO: anyone can send to this socket: only a datagram from `server` is the answer.
    let mut buffer = vec![0; BUFFER_BYTES];
    let (size, _sender) = socket
        .recv_from(&mut buffer)
        .context("waiting for the answer")?;
    Ok(Answer {
        reply: String::from_utf8_lossy(&buffer[..size]).into_owned(),
        attempt: 1,
    })
}
// ANCHOR_END: ask
