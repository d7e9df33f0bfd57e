//! Known wrong: asks every request for a Host, HTTP/1.0 too, which has no such rule.

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{Refusal, Request, right_check_host};
use crate::check_proofs::http_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        check_host: host_always,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn host_always(request: &Request) -> Result<(), Refusal> {
    // The mistake: RFC 9112's Host rule is for HTTP/1.1 only.
    if request.headers_named("Host").next().is_none() {
        return Err(Refusal::Malformed("no Host header"));
    }
    right_check_host(request)
}
