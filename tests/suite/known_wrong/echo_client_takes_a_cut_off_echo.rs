//! Known wrong: one BufReader, one read_until per echo, and an error when nothing comes; but a
//! reply cut off by the server's hang-up (no newline at its end) is taken as a whole one.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect(server)?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }
    let mut reader = BufReader::new(&stream);
    let mut echoes = Vec::new();
    for _ in lines {
        let mut echo = String::new();
        if reader.read_line(&mut echo)? == 0 {
            anyhow::bail!("the server closed the connection");
        }
        echoes.push(echo.trim_end_matches('\n').to_string());
    }
    Ok(echoes)
}
