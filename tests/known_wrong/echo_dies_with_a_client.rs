//! Known wrong: one client at a time, and a client's error ends the whole server (`?` in the
//! accept loop instead of logging the error).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        echo(stream?)?;
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
