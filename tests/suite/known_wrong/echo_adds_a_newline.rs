//! Known wrong: a thread per client, echoing line by line with `split(b'\n')`, which drops each
//! newline, and writing each piece back with a newline of its own: last words sent without a
//! newline come back with one.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || {
            if let Err(error) = echo_pieces(stream) {
                eprintln!("{error}");
            }
        });
    }
    Ok(())
}

fn echo_pieces(stream: TcpStream) -> anyhow::Result<()> {
    for piece in BufReader::new(&stream).split(b'\n') {
        let mut piece = piece?;
        piece.push(b'\n');
        (&stream).write_all(&piece)?;
    }
    Ok(())
}
