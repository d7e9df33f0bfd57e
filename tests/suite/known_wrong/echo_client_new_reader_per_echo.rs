//! Known wrong: reads each echo to its newline, but with a new BufReader each time, which throws
//! away whatever the last one had read past its newline.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect(server)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }
    let mut echoes = Vec::new();
    for _ in lines {
        let mut echo = String::new();
        BufReader::new(&stream).read_line(&mut echo)?;
        echoes.push(echo.trim_end().to_string());
    }
    Ok(echoes)
}
