//! Known wrong: retries properly, but takes the first datagram from anyone as the answer.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

pub fn ask(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &str,
    wait: Duration,
    attempts: u32,
) -> anyhow::Result<(String, u32)> {
    socket.set_read_timeout(Some(wait))?;
    let mut buffer = [0; 1024];
    for attempt in 1..=attempts {
        socket.send_to(message.as_bytes(), server)?;
        match socket.recv_from(&mut buffer) {
            Ok((size, _anyone)) => {
                return Ok((
                    String::from_utf8_lossy(&buffer[..size]).into_owned(),
                    attempt,
                ));
            }
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(error) => return Err(error.into()),
        }
    }
    anyhow::bail!("no answer")
}
