//! Known wrong: one BufReader, and an error for a missing newline, but an empty echo is taken
//! for a hang-up: a line that was empty comes back empty, and that is an echo too.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

use anyhow::bail;

pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect(server)?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }
    let mut reader = BufReader::new(&stream);
    let mut echoes = Vec::new();
    for _ in lines {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let Some(echo) = line.strip_suffix('\n') else {
            bail!("the server hung up");
        };
        if echo.is_empty() {
            bail!("the server hung up");
        }
        echoes.push(echo.to_string());
    }
    Ok(echoes)
}
