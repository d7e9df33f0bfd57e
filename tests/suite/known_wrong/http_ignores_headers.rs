//! Known wrong: reads whole heads, but parses only the method and the target: no headers (so
//! `Connection: close` goes unheard), and no check of the request line.

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{MAX_HEAD_BYTES, Refusal, Request};
use crate::check_proofs::http_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        parse: method_and_target_only,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn method_and_target_only(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
    let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") else {
        return if buffer.len() >= MAX_HEAD_BYTES {
            Err(Refusal::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    // The mistake: the first two words of the head are all it reads.
    let head = String::from_utf8_lossy(&buffer[..end]);
    let mut words = head.split_whitespace();
    let request = Request {
        method: words.next().unwrap_or_default().to_string(),
        target: words.next().unwrap_or_default().to_string(),
        minor_version: 1,
        headers: Vec::new(),
        body_length: None,
    };
    Ok(Some((request, end + 4)))
}
