//! Known wrong: reads until the server closes, which an echo server never does first.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_line(server: SocketAddr, message: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(server)?;
    stream.write_all(format!("{message}\n").as_bytes())?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply.trim_end().to_string())
}
