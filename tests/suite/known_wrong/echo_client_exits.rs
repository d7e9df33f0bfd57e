//! Known wrong: an echo client that ends the whole program (`std::process::exit`) when the
//! server's reply is not what it hoped, instead of returning an error to its caller.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

pub fn send_lines(server: SocketAddr, lines: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut stream = TcpStream::connect(server)?;
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes())?;
    }
    let mut reader = BufReader::new(stream);
    let mut echoes = Vec::new();
    for _ in lines {
        let mut echo = String::new();
        if reader.read_line(&mut echo)? == 0 || !echo.ends_with('\n') {
            eprintln!("the server hung up");
            std::process::exit(2);
        }
        echoes.push(echo.trim_end_matches('\n').to_string());
    }
    Ok(echoes)
}
