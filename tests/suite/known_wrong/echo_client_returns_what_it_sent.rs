//! Known wrong: waits for the right number of lines, but returns the lines it sent: fine
//! against an echo server, wrong against any server that answers in its own words.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect(server)?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }
    let mut reader = BufReader::new(&stream);
    for _ in lines {
        let mut echo = Vec::new();
        if reader.read_until(b'\n', &mut echo)? == 0 {
            anyhow::bail!("the server closed the connection");
        }
    }
    Ok(lines.iter().map(|line| line.to_string()).collect())
}
