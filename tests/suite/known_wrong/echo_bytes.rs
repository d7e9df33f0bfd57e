//! Not an answer itself: the byte-for-byte echo loop that several known-wrong servers share, so
//! that each of them shows only what it gets wrong: how it accepts and serves its clients.

use std::io::{Read, Write};
use std::net::TcpStream;

/// Sends every byte back to the client until it closes its side of the connection.
pub fn echo(mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..count])?;
    }
}
