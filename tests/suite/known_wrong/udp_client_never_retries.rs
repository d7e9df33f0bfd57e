//! Known wrong: waits with a limit, but sends only once; a lost datagram means an error.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

pub fn ask(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &str,
    wait: Duration,
    _attempts: u32,
) -> anyhow::Result<(String, u32)> {
    socket.send_to(message.as_bytes(), server)?;
    socket.set_read_timeout(Some(wait))?;
    let mut buffer = [0; 1024];
    let (size, _) = socket.recv_from(&mut buffer)?;
    Ok((String::from_utf8_lossy(&buffer[..size]).into_owned(), 1))
}
