//! Known wrong: reads until the server closes, which an echo server never does first.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect(server)?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }
    let mut all = String::new();
    stream.read_to_string(&mut all)?;
    Ok(all.lines().map(str::to_string).collect())
}
