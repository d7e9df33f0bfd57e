//! Known wrong, three ways, each a right `ask` (a deadline per attempt, at most `attempts` sends,
//! only the server's datagram taken) but for one thing:
//! - [`small_buffer`] receives into 1,024 bytes, so a longer echo comes back cut;
//! - [`hard_coded_address`] sends to `127.0.0.1` at the server's port, so a server anywhere else
//!   (on IPv6 loopback, say) never hears it;
//! - [`wait_restarts`] gives every receive the whole `wait`, so each stranger's datagram starts
//!   the wait over;
//! - [`stranger_ends_the_wait`] sends again as soon as a stranger's datagram comes.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

pub fn small_buffer(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &str,
    wait: Duration,
    attempts: u32,
) -> anyhow::Result<(String, u32)> {
    ask(socket, server, server, 1024, false, message, wait, attempts)
}

pub fn wait_restarts(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &str,
    wait: Duration,
    attempts: u32,
) -> anyhow::Result<(String, u32)> {
    ask(
        socket, server, server, 65_536, true, message, wait, attempts,
    )
}

pub fn stranger_ends_the_wait(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &str,
    wait: Duration,
    attempts: u32,
) -> anyhow::Result<(String, u32)> {
    let mut buffer = vec![0; 65_536];
    for attempt in 1..=attempts {
        socket.send_to(message.as_bytes(), server)?;
        socket.set_read_timeout(Some(wait))?;
        match socket.recv_from(&mut buffer) {
            Ok((size, sender)) if sender == server => {
                return Ok((
                    String::from_utf8_lossy(&buffer[..size]).into_owned(),
                    attempt,
                ));
            }
            // The mistake: a stranger's datagram taken for the end of this attempt.
            Ok(_) => continue,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue;
            }
            Err(error) => return Err(error.into()),
        }
    }
    anyhow::bail!("no answer after {attempts} attempts")
}

pub fn hard_coded_address(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &str,
    wait: Duration,
    attempts: u32,
) -> anyhow::Result<(String, u32)> {
    let destination = SocketAddr::from(([127, 0, 0, 1], server.port()));
    ask(
        socket,
        server,
        destination,
        65_536,
        false,
        message,
        wait,
        attempts,
    )
}

#[allow(clippy::too_many_arguments)]
fn ask(
    socket: &UdpSocket,
    server: SocketAddr,
    destination: SocketAddr,
    buffer_bytes: usize,
    wait_restarts: bool,
    message: &str,
    wait: Duration,
    attempts: u32,
) -> anyhow::Result<(String, u32)> {
    let mut buffer = vec![0; buffer_bytes];
    for attempt in 1..=attempts {
        socket.send_to(message.as_bytes(), destination)?;
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() && !wait_restarts {
                break;
            }
            // The mistake, when `wait_restarts`: the whole `wait` again for every receive.
            socket.set_read_timeout(Some(if wait_restarts { wait } else { left }))?;
            match socket.recv_from(&mut buffer) {
                Ok((size, sender)) if sender == server => {
                    return Ok((
                        String::from_utf8_lossy(&buffer[..size]).into_owned(),
                        attempt,
                    ));
                }
                Ok(_) => {}
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    break;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
    anyhow::bail!("no answer after {attempts} attempts")
}
