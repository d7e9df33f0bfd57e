//! Known wrong: reads the echoes with `lines()`, which drops a `\r` before each newline along
//! with the newline: an echo that ends in `\r` comes back changed.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect(server)?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }
    let mut echoes = BufReader::new(&stream).lines();
    let mut collected = Vec::new();
    for _ in lines {
        match echoes.next() {
            Some(echo) => collected.push(echo?),
            None => anyhow::bail!("the server closed the connection"),
        }
    }
    Ok(collected)
}
