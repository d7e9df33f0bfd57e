//! Known wrong, nine ways, each the reference solution but for one rule:
//! - [`waits_at_the_limit`]: a head that has not ended at exactly MAX_HEAD_BYTES waits for one
//!   more byte (`>` where the task says "already holds MAX_HEAD_BYTES");
//! - [`splits_on_whitespace`]: the request line's parts split at any run of whitespace, so two
//!   spaces, or a tab, pass for one;
//! - [`counts_host_by_case`]: Host headers counted by their exact name, so `host` is another
//!   header;
//! - [`allows_a_tab_in_a_name`]: a header name with a space is refused, one with a tab is not;
//! - [`host_rules_for_http11_only`]: every Host rule applied to HTTP/1.1 alone, where two Hosts
//!   or an invalid one are refused in any request;
//! - [`two_hosts_if_they_differ`]: two Host headers refused only when they say different things;
//! - [`any_target`]: a target that does not start with `/` is served (a 404) rather than refused;
//! - [`lengths_by_from_str`]: a Content-Length is whatever `u64::from_str` takes, `+0` too;
//! - [`skips_lengths_not_numbers`]: a Content-Length that is not a number is skipped, as if the
//!   request had none.

use std::net::TcpListener;

use crate::check_proofs::http_rules::request::{
    MAX_HEAD_BYTES, Refusal, Request, right_body_length, right_check_host, right_parse,
};
use crate::check_proofs::http_rules::{Parsed, RIGHT, Rules, serve_with};

pub fn waits_at_the_limit(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(
        listener,
        Rules {
            parse: parse_waiting_at_the_limit,
            ..RIGHT
        },
    )
}

fn parse_waiting_at_the_limit(buffer: &[u8]) -> Parsed {
    let ended = buffer.windows(4).any(|window| window == b"\r\n\r\n");
    // The mistake: at exactly the limit, one more byte is awaited.
    if !ended && buffer.len() == MAX_HEAD_BYTES {
        return Ok(None);
    }
    right_parse(buffer)
}

pub fn splits_on_whitespace(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(
        listener,
        Rules {
            parse: parse_split_on_whitespace,
            ..RIGHT
        },
    )
}

fn parse_split_on_whitespace(buffer: &[u8]) -> Parsed {
    let Some(line_end) = buffer.windows(2).position(|window| window == b"\r\n") else {
        return right_parse(buffer);
    };
    // The mistake: the request line taken apart with split_whitespace.
    let line = String::from_utf8_lossy(&buffer[..line_end]);
    let mut squeezed = line
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .into_bytes();
    let removed = line_end - squeezed.len();
    squeezed.extend_from_slice(&buffer[line_end..]);
    Ok(right_parse(&squeezed)?.map(|(request, length)| (request, length + removed)))
}

pub fn counts_host_by_case(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(
        listener,
        Rules {
            check_host: check_host_by_case,
            ..RIGHT
        },
    )
}

fn check_host_by_case(request: &Request) -> Result<(), Refusal> {
    // The mistake: only a header named exactly `Host` is a Host.
    let hosts: Vec<_> = request
        .headers
        .iter()
        .filter(|(name, _)| name == "Host")
        .collect();
    let exact = Request {
        method: request.method.clone(),
        target: request.target.clone(),
        minor_version: request.minor_version,
        headers: hosts.into_iter().cloned().collect(),
        body_length: request.body_length,
    };
    right_check_host(&exact)
}

pub fn allows_a_tab_in_a_name(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(
        listener,
        Rules {
            parse: parse_allowing_a_tab_in_a_name,
            ..RIGHT
        },
    )
}

fn parse_allowing_a_tab_in_a_name(buffer: &[u8]) -> Parsed {
    // The mistake: only a space spoils a name. (Here a tab in a name becomes a `-` before the
    // reference parse sees it, so the name passes.)
    let mut relaxed = buffer.to_vec();
    let mut in_name = false;
    for (at, byte) in buffer.iter().enumerate() {
        match byte {
            b'\n' => in_name = true,
            b':' => in_name = false,
            b'\t' if in_name => relaxed[at] = b'-',
            _ => {}
        }
    }
    right_parse(&relaxed)
}

pub fn host_rules_for_http11_only(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(
        listener,
        Rules {
            check_host: check_host_in_http11_only,
            ..RIGHT
        },
    )
}

fn check_host_in_http11_only(request: &Request) -> Result<(), Refusal> {
    // The mistake: HTTP/1.0 has no Host rule, so none of them is applied to it.
    if request.minor_version == 0 {
        return Ok(());
    }
    right_check_host(request)
}

pub fn two_hosts_if_they_differ(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(
        listener,
        Rules {
            check_host: check_host_if_they_differ,
            ..RIGHT
        },
    )
}

fn check_host_if_they_differ(request: &Request) -> Result<(), Refusal> {
    let hosts: Vec<&str> = request.headers_named("Host").collect();
    // The mistake: the same Host twice is let through, as if it were one.
    if hosts.len() > 1 && hosts.iter().all(|host| *host == hosts[0]) {
        let mut seen = false;
        let once = with_headers_where(request, |(name, _)| {
            let host = name.eq_ignore_ascii_case("Host");
            let keep = !(host && seen);
            seen |= host;
            keep
        });
        return right_check_host(&once);
    }
    right_check_host(request)
}

pub fn any_target(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(
        listener,
        Rules {
            parse: parse_any_target,
            ..RIGHT
        },
    )
}

fn parse_any_target(buffer: &[u8]) -> Parsed {
    // The mistake: no look at the target's first byte. (Played here by lending it a `/` for the
    // rest of the checks, then giving the target back as it came.)
    let Some(space) = buffer.iter().position(|&byte| byte == b' ') else {
        return right_parse(buffer);
    };
    if buffer
        .get(space + 1)
        .is_none_or(|&byte| byte == b'/' || byte == b' ')
    {
        return right_parse(buffer);
    }
    let mut lent = buffer[..=space].to_vec();
    lent.push(b'/');
    lent.extend_from_slice(&buffer[space + 1..]);
    match right_parse(&lent)? {
        Some((mut request, length)) => {
            request.target.remove(0);
            Ok(Some((request, length - 1)))
        }
        None => Ok(None),
    }
}

pub fn lengths_by_from_str(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(
        listener,
        Rules {
            body_length: body_length_by_from_str,
            ..RIGHT
        },
    )
}

fn body_length_by_from_str(request: &Request) -> Result<Option<u64>, Refusal> {
    let mut length = None;
    for value in request.headers_named("Content-Length") {
        // The mistake: whatever u64::from_str takes, a leading `+` included.
        let this = value
            .parse::<u64>()
            .map_err(|_| Refusal::Malformed("a Content-Length is not a number"))?;
        if length.is_some_and(|length| length != this) {
            return Err(Refusal::Malformed("two different Content-Length values"));
        }
        length = Some(this);
    }
    Ok(length)
}

pub fn skips_lengths_not_numbers(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(
        listener,
        Rules {
            body_length: body_length_skipping_words,
            ..RIGHT
        },
    )
}

fn body_length_skipping_words(request: &Request) -> Result<Option<u64>, Refusal> {
    // The mistake: a value that is not a number (to `u64::from_str`) is passed over, as if it
    // were not there.
    let numbers = with_headers_where(request, |(name, value)| {
        !name.eq_ignore_ascii_case("Content-Length") || value.parse::<u64>().is_ok()
    });
    right_body_length(&numbers)
}

/// `request` with only the headers `keep` keeps.
fn with_headers_where(
    request: &Request,
    mut keep: impl FnMut(&(String, String)) -> bool,
) -> Request {
    Request {
        method: request.method.clone(),
        target: request.target.clone(),
        minor_version: request.minor_version,
        headers: request
            .headers
            .iter()
            .filter(|header| keep(header))
            .cloned()
            .collect(),
        body_length: request.body_length,
    }
}
