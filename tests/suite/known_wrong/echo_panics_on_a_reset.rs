//! Known wrong: threaded and correct for polite clients, but a client thread panics (unwrap)
//! when its client vanishes.

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

fn echo(mut stream: TcpStream) {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer).unwrap();
        if count == 0 {
            return;
        }
        stream.write_all(&buffer[..count]).unwrap();
    }
}
