//! Known wrong: the seed's client: one read of up to 1024 bytes is taken as the reply.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_line(server: SocketAddr, message: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(server)?;
    stream.write_all(format!("{message}\n").as_bytes())?;
    let mut buffer = [0; 1024];
    let count = stream.read(&mut buffer)?;
    Ok(String::from_utf8_lossy(&buffer[..count])
        .trim_end()
        .to_string())
}
