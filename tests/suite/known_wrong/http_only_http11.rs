//! Known wrong: speaks HTTP/1.1 only, and refuses HTTP/1.0, which the exercise serves too.

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{Refusal, Request, right_parse};
use crate::check_proofs::http_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        parse: only_http11,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn only_http11(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
    let parsed = right_parse(buffer)?;
    // The mistake: HTTP/1.0 is taken for a version this server does not speak.
    match parsed {
        Some((request, _)) if request.minor_version == 0 => {
            Err(Refusal::Malformed("the version is not HTTP/1.1"))
        }
        parsed => Ok(parsed),
    }
}
