//! Known wrong: reads to the newline, but takes a reply cut short by the server as complete.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_line(server: SocketAddr, message: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(server)?;
    stream.write_all(format!("{message}\n").as_bytes())?;
    let mut reply = String::new();
    BufReader::new(&stream).read_line(&mut reply)?;
    Ok(reply.trim_end().to_string())
}
