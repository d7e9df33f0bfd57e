//! Known wrong: keeps reading until each newline, but makes text of each read on its own
//! (`from_utf8_lossy` on a piece): a character whose bytes arrive in two reads becomes `��`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect(server)?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }
    let mut text = String::new();
    let mut echoes = Vec::new();
    let mut buffer = [0; 1024];
    while echoes.len() < lines.len() {
        if let Some(end) = text.find('\n') {
            echoes.push(text[..end].to_string());
            text.drain(..=end);
            continue;
        }
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            anyhow::bail!("the server closed the connection before every echo came");
        }
        // The mistake: each read made text on its own.
        text.push_str(&String::from_utf8_lossy(&buffer[..count]));
    }
    Ok(echoes)
}
