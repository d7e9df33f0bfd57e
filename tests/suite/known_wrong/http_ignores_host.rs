//! Known wrong: reads whole heads, as the solution does, and refuses two different
//! Content-Lengths, but never looks at `Host`: a request without one, with two, or with a path
//! in it is served.

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{Refusal, Request};
use crate::check_proofs::http_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        check_host: any_host,
        ..RIGHT
    };
    serve_with(listener, rules)
}

/// The mistake: every request passes, whatever its Host headers say.
fn any_host(_request: &Request) -> Result<(), Refusal> {
    Ok(())
}
