//! Known wrong: reads whole heads and checks `Host`, as the solution does, but believes the
//! first Content-Length it meets: two that differ slip through, and the bytes a proxy took for a
//! body are answered as a request of their own (request smuggling).

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{Refusal, Request};
use crate::check_proofs::http_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        body_length: the_first_length,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn the_first_length(request: &Request) -> Result<Option<u64>, Refusal> {
    // The mistake: the first Content-Length wins, and any other is never read.
    match request.headers_named("Content-Length").next() {
        Some(value) if value.bytes().all(|b| b.is_ascii_digit()) => value
            .parse::<u64>()
            .map(Some)
            .map_err(|_| Refusal::Malformed("a Content-Length is not a number")),
        Some(_) => Err(Refusal::Malformed("a Content-Length is not a number")),
        None => Ok(None),
    }
}
