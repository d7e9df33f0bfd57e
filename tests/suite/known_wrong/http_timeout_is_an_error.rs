//! Known wrong: a read that times out is passed on as an error instead of `Arrival::TooSlow`,
//! so a head that comes too slowly ends the connection without the 408.

use std::io::{self, ErrorKind, Read};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use crate::check_proofs::http_rules::request::{self};
use crate::check_proofs::http_rules::{Arrival, RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        read_request: timeout_is_an_error,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn timeout_is_an_error(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
) -> io::Result<Arrival> {
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
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Arrival::TooSlow);
        }
        stream.set_read_timeout(Some(left))?;
        // The mistake: `?` passes the timeout on as an error.
        let count = stream.read(&mut chunk)?;
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
