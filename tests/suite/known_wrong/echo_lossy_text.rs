//! Known wrong: a thread per client, but each read is turned into text before it is echoed, so
//! bytes that are not UTF-8 (and a character cut in two by the network) come back as U+FFFD.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || {
            if let Err(error) = echo_text(stream) {
                eprintln!("{error}");
            }
        });
    }
    Ok(())
}

fn echo_text(mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&buffer[..count]);
        stream.write_all(text.as_bytes())?;
    }
}
