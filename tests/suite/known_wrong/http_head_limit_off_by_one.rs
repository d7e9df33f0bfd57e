//! Known wrong: refuses a head of exactly MAX_HEAD_BYTES, blank line included (`>=` where the
//! limit means "over": `>`).

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{MAX_HEAD_BYTES, Refusal, Request, right_parse};
use crate::check_proofs::http_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        parse: refuses_the_limit_itself,
        ..RIGHT
    };
    serve_with(listener, rules)
}

fn refuses_the_limit_itself(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
    if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
        // The mistake: a head exactly at the limit is not over it.
        if end + 4 >= MAX_HEAD_BYTES {
            return Err(Refusal::HeadTooLarge);
        }
    }
    right_parse(buffer)
}
