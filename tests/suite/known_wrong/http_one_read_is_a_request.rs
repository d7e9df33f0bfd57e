//! Known wrong: takes one read() to be one whole request. On loopback a small request usually
//! arrives in one read, so it seems to work; cut into pieces, it is refused as malformed.

use std::io::{self, ErrorKind, Read};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use crate::check_proofs::http_rules::request::{self, Refusal};
use crate::check_proofs::http_rules::{Arrival, RIGHT, Rules, is_timeout, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        read_request: one_read,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn one_read(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
) -> io::Result<Arrival> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Ok(Arrival::TooSlow);
    }
    stream.set_read_timeout(Some(left))?;
    let mut chunk = [0; 1024];
    let count = match stream.read(&mut chunk) {
        Ok(0) => return Ok(Arrival::Closed),
        Ok(count) => count,
        Err(error) if is_timeout(&error) => return Ok(Arrival::TooSlow),
        Err(error) if error.kind() == ErrorKind::Interrupted => return Ok(Arrival::TooSlow),
        Err(error) => return Err(error),
    };
    buffer.clear();
    // The mistake: whatever one read() brought is the whole request.
    match request::parse(&chunk[..count]) {
        Ok(Some((request, _))) => Ok(Arrival::Request(request)),
        Ok(None) => Ok(Arrival::Refused(Refusal::Malformed(
            "the request is not whole",
        ))),
        Err(refusal) => Ok(Arrival::Refused(refusal)),
    }
}
