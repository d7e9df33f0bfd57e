//! Known wrong: takes a method in any case, so `get` is served as GET. Methods are
//! case-sensitive (RFC 9110 section 9.1).

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{Refusal, Request, right_parse};
use crate::check_proofs::http_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        parse: any_case,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn any_case(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
    // The mistake: the method is put in capitals before it is checked.
    let method_ends = buffer.iter().position(|&byte| byte == b' ');
    let mut upper = buffer.to_vec();
    if let Some(end) = method_ends {
        upper[..end].make_ascii_uppercase();
    }
    right_parse(&upper)
}
