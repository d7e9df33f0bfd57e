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

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

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
    let mut buffer = vec![0; BUFFER_BYTES];
    for attempt in 1..=attempts {
        socket
            .send_to(message.as_bytes(), server)
            .with_context(|| format!("sending to {server}"))?;
        // A deadline, not just a timeout: a stranger's datagram must not restart the clock.
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket.set_read_timeout(Some(left))?;
            match socket.recv_from(&mut buffer) {
                Ok((size, sender)) if sender == server => {
                    let reply = String::from_utf8_lossy(&buffer[..size]).into_owned();
                    return Ok(Answer { reply, attempt });
                }
                // Not the server: not the answer. Keep waiting for what is left of `wait`.
                Ok(_) => continue,
                // The wait ran out (WouldBlock on Unix, TimedOut on Windows): send again.
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    break;
                }
                // Windows reports an earlier datagram that found nobody this way: silence.
                Err(error) if error.kind() == ErrorKind::ConnectionReset => continue,
                Err(error) => return Err(error).context("waiting for the answer"),
            }
        }
    }
    bail!("no answer after {attempts} tries: is the server running? UDP cannot tell you")
}
// ANCHOR_END: ask
