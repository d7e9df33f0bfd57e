//! Known wrong: a thread per client, but it echoes *text lines*: `lines()` drops each line's
//! `\r\n` or `\n` and the echo puts back a plain `\n`, and a line that is not UTF-8 ends the
//! connection with an error. Fine for typed English; wrong for bytes.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || {
            if let Err(error) = echo_lines(stream) {
                eprintln!("{error}");
            }
        });
    }
    Ok(())
}

fn echo_lines(stream: TcpStream) -> anyhow::Result<()> {
    for line in BufReader::new(&stream).lines() {
        (&stream).write_all(format!("{}\n", line?).as_bytes())?;
    }
    Ok(())
}
