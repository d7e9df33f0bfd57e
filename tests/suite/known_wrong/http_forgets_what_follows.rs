//! Known wrong: reads until the blank line, but throws away whatever came after the head, so
//! pipelined requests (several sent in one write) are lost.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use crate::check_proofs::http_rules::{Arrival, RIGHT, Rules, right_read_request, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        read_request: forgets_what_follows,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn forgets_what_follows(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
) -> io::Result<Arrival> {
    let arrival = right_read_request(stream, buffer, deadline)?;
    // The mistake: the bytes after the head, the next requests, are thrown away with it.
    buffer.clear();
    Ok(arrival)
}
