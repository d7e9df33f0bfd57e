//! Known wrong: the seed's client: one read of up to 1024 bytes is taken as one echo.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect(server)?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }
    let mut echoes = Vec::new();
    for _ in lines {
        let mut buffer = [0; 1024];
        let count = stream.read(&mut buffer)?;
        echoes.push(
            String::from_utf8_lossy(&buffer[..count])
                .trim_end()
                .to_string(),
        );
    }
    Ok(echoes)
}
