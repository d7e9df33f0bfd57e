//! Known wrong: threaded, but treats each read as one whole line: it trims what one read
//! returned and sends it back with a newline of its own.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || echo(stream));
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
        let message = String::from_utf8_lossy(&buffer[..count]);
        stream.write_all(format!("{}\n", message.trim_end()).as_bytes())?;
    }
}
