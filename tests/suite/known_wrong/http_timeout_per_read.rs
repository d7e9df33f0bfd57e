//! Known wrong: gives the reads a timeout once, the whole time left when the wait begins, so
//! each read may wait that long afresh. A client that sends a byte now and then never runs it
//! out, and holds its connection for ever.

use std::io::{self, ErrorKind, Read};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use crate::check_proofs::http_rules::request::{self};
use crate::check_proofs::http_rules::{Arrival, RIGHT, Rules, is_timeout, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        read_request: timeout_per_read,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn timeout_per_read(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
) -> io::Result<Arrival> {
    // The mistake: set once, so every read gets the whole time again.
    stream.set_read_timeout(Some(deadline.saturating_duration_since(Instant::now())))?;
    let mut chunk = [0; 1024];
    loop {
        match request::parse(buffer) {
            Ok(Some((request, length))) => {
                buffer.drain(..length);
                return Ok(Arrival::Request(request));
            }
            Ok(None) => {}
            Err(refusal) => return Ok(Arrival::Refused(refusal)),
        }
        let count = match stream.read(&mut chunk) {
            Ok(count) => count,
            Err(error) if is_timeout(&error) => return Ok(Arrival::TooSlow),
            Err(error) => return Err(error),
        };
        if count == 0 {
            if buffer.is_empty() {
                return Ok(Arrival::Closed);
            }
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                "the client hung up in the middle of a request",
            ));
        }
        buffer.extend_from_slice(&chunk[..count]);
    }
}
