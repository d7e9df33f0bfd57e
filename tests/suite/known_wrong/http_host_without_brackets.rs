//! Known wrong: a Host check that allows letters, digits, dots, hyphens and a colon, and forgets
//! the brackets an IPv6 address is written in (`Host: [::1]:8080`).

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{Refusal, Request, right_check_host};
use crate::check_proofs::http_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        check_host: host_without_brackets,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn host_without_brackets(request: &Request) -> Result<(), Refusal> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-.:".contains(c);
    // The mistake: `[` and `]` are missing from the allowed characters.
    if request
        .headers_named("Host")
        .any(|host| !host.chars().all(allowed))
    {
        return Err(Refusal::Malformed("the Host header is not a host[:port]"));
    }
    right_check_host(request)
}
