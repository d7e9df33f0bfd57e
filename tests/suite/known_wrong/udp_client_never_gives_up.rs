//! Known wrong: listens only to the server and retries, but never stops retrying.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

pub fn ask(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &str,
    wait: Duration,
    _attempts: u32,
) -> anyhow::Result<(String, u32)> {
    socket.set_read_timeout(Some(wait))?;
    let mut buffer = [0; 1024];
    let mut attempt = 0;
    loop {
        attempt += 1;
        socket.send_to(message.as_bytes(), server)?;
        loop {
            match socket.recv_from(&mut buffer) {
                Ok((size, sender)) if sender == server => {
                    let reply = String::from_utf8_lossy(&buffer[..size]).into_owned();
                    return Ok((reply, attempt));
                }
                Ok(_) => continue,
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    break;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
}
