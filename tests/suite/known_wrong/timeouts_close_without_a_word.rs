//! Known wrong: sets the read timeout, but lets its error end the client with `?`: the silent
//! client is closed, never told why.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

pub fn serve(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    for stream in listener.incoming().flatten() {
        thread::spawn(move || echo(stream, idle));
    }
    Ok(())
}

fn echo(mut stream: TcpStream, idle: Duration) -> anyhow::Result<()> {
    stream.set_read_timeout(Some(idle))?;
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..count])?;
    }
}
