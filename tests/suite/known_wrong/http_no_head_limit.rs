//! Known wrong: reads until the blank line with no limit on the head's size, so a client that
//! never ends its head makes the buffer grow without end (and never hears 431).

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{Refusal, Request, right_parse};
use crate::check_proofs::http_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        parse: no_limit,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn no_limit(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
    // The mistake: no blank line yet means "read more", however much has come already.
    if !buffer.windows(4).any(|window| window == b"\r\n\r\n") {
        return Ok(None);
    }
    right_parse(buffer)
}
