//! Known wrong: lesson 02's echo, one client at a time (the exercise as shipped).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if let Err(error) = echo(stream) {
            eprintln!("echo failed: {error}");
        }
    }
    Ok(())
}

fn echo(mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..count])?;
    }
}
