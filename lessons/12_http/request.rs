//! The request parser: where a request's head ends, and what RFC 9112 lets a head contain.
//!
//! Everything here works on bytes, not text: a header's value may hold any byte from 0x80 up
//! (RFC 9110 §5.5 calls them opaque), and only the parts the server reads (the request line,
//! `Host`, `Content-Length`, `Transfer-Encoding`, `Connection`) must be ASCII.

use std::fmt;

// ANCHOR: parser_limits
/// The most bytes a request line may have. A longer one is refused with 414 URI Too Long
/// (RFC 9112 §3): the target is what makes a request line long.
pub const MAX_REQUEST_LINE_BYTES: usize = 4 * 1024;
/// The most bytes a whole head may have, request line included. nginx and Apache allow 8 KiB
/// for each line of a head (nginx's `large_client_header_buffers 4 8k`, Apache's
/// `LimitRequestFieldSize 8190`) and more in all; this server, 8 KiB for the whole head, plenty
/// for the course's pages. Without a limit, a client that never sends the blank line would make
/// the buffer grow until memory runs out.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
// ANCHOR_END: parser_limits

/// A request's head, parsed and checked.
#[derive(Debug)]
pub struct Request {
    /// `GET`, `HEAD`, ...: case matters (`get` is another, unknown, method).
    pub method: String,
    /// What the request is for, as sent: `/hello.txt?x=1`, or `http://host/hello.txt`.
    pub target: String,
    /// The path and query the target names, in origin form: `/hello.txt?x=1` either way.
    pub path_and_query: String,
    /// The minor version: 1 for HTTP/1.1 (and for 1.2 to 1.9), 0 for HTTP/1.0.
    pub minor_version: u8,
    /// Each header's name (as sent) and value (spaces around it trimmed), as bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    /// How long the body is, from `Content-Length` and `Transfer-Encoding`.
    pub body: BodyLength,
}

/// Where a request's body ends (RFC 9112 §6.3). This server reads no body, but it must know
/// whether one follows, since the next request starts after it.
#[derive(Debug, PartialEq)]
pub enum BodyLength {
    /// No body: the next request starts right after the head.
    None,
    /// `Content-Length` bytes.
    Bytes(u64),
    /// `Transfer-Encoding: chunked`: pieces, each with its length, until a piece of 0.
    Chunked,
}

impl Request {
    /// The values of every header called `name`, ignoring case, as HTTP says.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }

    /// The path, without the query (`?...`).
    pub fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap_or_default()
    }

    /// HTTP/1.1 keeps the connection unless told `close`; 1.0 closes unless told
    /// `keep-alive` (RFC 9112 §9.3).
    pub fn keep_alive(&self) -> bool {
        let says = |word: &str| {
            self.headers_named("Connection").any(|value| {
                value
                    .split(|byte| *byte == b',')
                    .any(|token| token.trim_ascii().eq_ignore_ascii_case(word.as_bytes()))
            })
        };
        if self.minor_version >= 1 {
            !says("close")
        } else {
            says("keep-alive")
        }
    }

    /// Whether a body follows the head. This server reads none, so after one the next
    /// request's start is unknown and the connection must close.
    pub fn has_body(&self) -> bool {
        !matches!(self.body, BodyLength::None | BodyLength::Bytes(0))
    }
}

/// Why a head cannot be answered, each with its status code. After any of them the server
/// closes the connection: it cannot tell where the next request would start.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// 400: not HTTP, or broken, or ambiguous; says what was wrong.
    Malformed(&'static str),
    /// 414: no end of the request line within [`MAX_REQUEST_LINE_BYTES`].
    TargetTooLong,
    /// 431: no blank line within [`MAX_HEAD_BYTES`].
    HeadTooLarge,
    /// 505: `HTTP/2.0`, or any major version but 1.
    Version,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 400,
            Refusal::TargetTooLong => 414,
            Refusal::HeadTooLarge => 431,
            Refusal::Version => 505,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Malformed(why) => write!(f, "malformed request: {why}"),
            Refusal::TargetTooLong => write!(
                f,
                "the request line is over {MAX_REQUEST_LINE_BYTES} bytes: the target is too long"
            ),
            Refusal::HeadTooLarge => write!(
                f,
                "the request's head is over {MAX_HEAD_BYTES} bytes with no blank line"
            ),
            Refusal::Version => write!(f, "this server speaks HTTP/1.x only"),
        }
    }
}

// ANCHOR: parser
/// Looks for a whole head in `buffer`. `Ok(None)`: not all here yet, read more.
/// `Ok(Some((request, length)))`: the head is the first `length` bytes.
pub fn parse(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
    // Empty lines before a request line are skipped (RFC 9112 §2.2): some clients send an
    // extra CRLF after a body.
    let start = blank_prefix(buffer);
    if start >= MAX_HEAD_BYTES {
        return Err(Refusal::HeadTooLarge); // empty lines count too, or they could fill memory
    }
    // The limit counts the line's own bytes, not its line end: a `\r` may be the start of one.
    let Some(line_end) = find_line_end(buffer, start) else {
        return if without_cr(&buffer[start..]).len() > MAX_REQUEST_LINE_BYTES {
            Err(Refusal::TargetTooLong)
        } else {
            Ok(None)
        };
    };
    if without_cr(&buffer[start..line_end]).len() > MAX_REQUEST_LINE_BYTES {
        return Err(Refusal::TargetTooLong);
    }
    let Some(head_end) = find_blank_line(buffer, line_end + 1) else {
        return if buffer.len() - start >= MAX_HEAD_BYTES {
            Err(Refusal::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    if head_end - start > MAX_HEAD_BYTES {
        return Err(Refusal::HeadTooLarge);
    }
    let mut lines = buffer[start..head_end]
        .split(|byte| *byte == b'\n')
        .map(without_cr);
    let mut request = parse_request_line(lines.next().unwrap_or_default())?;
    for line in lines.filter(|line| !line.is_empty()) {
        request.headers.push(parse_header(line)?);
    }
    check_host(&request)?;
    request.body = body_length(&request)?;
    Ok(Some((request, head_end)))
}
// ANCHOR_END: parser

/// A line without the `\r` of its `\r\n`.
fn without_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether `buffer` holds nothing of a request yet: at most the empty lines before one.
pub fn nothing_yet(buffer: &[u8]) -> bool {
    blank_prefix(buffer) == buffer.len()
}

/// How many CR and LF bytes come before the request line.
fn blank_prefix(buffer: &[u8]) -> usize {
    buffer
        .iter()
        .take_while(|byte| matches!(byte, b'\r' | b'\n'))
        .count()
}

/// The index of the first `\n` at or after `from`.
fn find_line_end(buffer: &[u8], from: usize) -> Option<usize> {
    buffer[from..]
        .iter()
        .position(|byte| *byte == b'\n')
        .map(|at| from + at)
}

/// Just past the first empty line (`\r\n` or `\n`) that starts at or after `from`.
fn find_blank_line(buffer: &[u8], from: usize) -> Option<usize> {
    let mut line_start = from;
    while let Some(end) = find_line_end(buffer, line_start) {
        if end == line_start || (end == line_start + 1 && buffer[line_start] == b'\r') {
            return Some(end + 1);
        }
        line_start = end + 1;
    }
    None
}

// ANCHOR: request_line
/// `GET /hello.txt HTTP/1.1`: three parts, one space between each (RFC 9112 §3).
fn parse_request_line(line: &[u8]) -> Result<Request, Refusal> {
    let line = std::str::from_utf8(line)
        .ok()
        .filter(|line| {
            line.bytes()
                .all(|byte| byte.is_ascii_graphic() || byte == b' ')
        })
        .ok_or(Refusal::Malformed(
            "the request line has a byte that is not printable ASCII",
        ))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed(
            "the request line is not METHOD TARGET VERSION",
        ));
    };
    if !is_token(method.as_bytes()) {
        return Err(Refusal::Malformed("the method is not a token"));
    }
    let minor_version = parse_version(version)?;
    let path_and_query = origin_form(method, target)?;
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        path_and_query,
        minor_version,
        headers: Vec::new(),
        body: BodyLength::None,
    })
}

/// `HTTP/1.1` → 1. Any `HTTP/1.x` is served as the highest 1.x this server knows, 1.1
/// (RFC 9110 §2.5); another major version is 505. The name is case-sensitive, one digit each.
fn parse_version(version: &str) -> Result<u8, Refusal> {
    let digits = version
        .strip_prefix("HTTP/")
        .map(str::as_bytes)
        .filter(|digits| {
            digits.len() == 3
                && digits[0].is_ascii_digit()
                && digits[1] == b'.'
                && digits[2].is_ascii_digit()
        })
        .ok_or(Refusal::Malformed("the version is not HTTP/x.y"))?;
    match (digits[0], digits[2]) {
        (b'1', b'0') => Ok(0),
        (b'1', _) => Ok(1),
        _ => Err(Refusal::Version),
    }
}

/// The path and query a target names. A server must accept the *absolute form*
/// `http://host/path` as well as `/path` (RFC 9112 §3.2.2).
fn origin_form(method: &str, target: &str) -> Result<String, Refusal> {
    if target.starts_with('/') {
        return Ok(target.to_string());
    }
    if (method == "OPTIONS" && target == "*") || method == "CONNECT" {
        return Ok(target.to_string()); // asterisk and authority forms: answered 405 later
    }
    let scheme_end = target.find("://").ok_or(Refusal::Malformed(
        "the target is neither /path nor http://host/path",
    ))?;
    let scheme = &target[..scheme_end];
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(Refusal::Malformed("the target's scheme is not http"));
    }
    let rest = &target[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    // An http URI must name a host, and `user@` in one is treated as an error (RFC 9110 §4.2).
    if authority.is_empty() || authority.contains('@') || !is_valid_host(authority.as_bytes()) {
        return Err(Refusal::Malformed("the target's host is empty or invalid"));
    }
    let path_and_query = &rest[authority_end..];
    Ok(if path_and_query.starts_with('/') {
        path_and_query.to_string()
    } else {
        format!("/{path_and_query}")
    })
}
// ANCHOR_END: request_line

// ANCHOR: header
/// `Name: value`. The name is a token, with no space before the colon (RFC 9112 §5.1); a line
/// starting with a space once continued the header above it (*obs-fold*), which is refused
/// rather than guessed at (§5.2). The value may hold any byte but the dangerous ones.
fn parse_header(line: &[u8]) -> Result<(String, Vec<u8>), Refusal> {
    if line.starts_with(b" ") || line.starts_with(b"\t") {
        return Err(Refusal::Malformed(
            "a header line starts with a space: folded headers (obs-fold) are not accepted",
        ));
    }
    let colon = line
        .iter()
        .position(|byte| *byte == b':')
        .ok_or(Refusal::Malformed("a header line has no colon"))?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if !is_token(name) {
        return Err(Refusal::Malformed(
            "a header name is empty, has spaces, or has a byte a name may not have",
        ));
    }
    // NUL, CR and the other control bytes (but tab) can cut a header in two further along, in
    // a proxy or a log: RFC 9110 §5.5 says reject or replace. This server rejects.
    if value
        .iter()
        .any(|byte| (*byte < 0x20 && *byte != b'\t') || *byte == 0x7f)
    {
        return Err(Refusal::Malformed(
            "a header value has a control byte (NUL, CR, ...)",
        ));
    }
    let name = String::from_utf8_lossy(name).into_owned(); // a token is ASCII: never lossy
    Ok((name, value.trim_ascii().to_vec()))
}
// ANCHOR_END: header

/// A *token* (RFC 9110 §5.6.2): letters, digits and ``!#$%&'*+-.^_`|~``, at least one.
fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(byte))
}

// ANCHOR: host
/// HTTP/1.1 needs exactly one `Host`, and a valid one (RFC 9112 §3.2: "MUST respond with 400").
/// A server with many sites picks one by it; a server that ignored a second Host could pick
/// one site while a proxy in front of it picked another.
fn check_host(request: &Request) -> Result<(), Refusal> {
    let mut hosts = request.headers_named("Host");
    match (hosts.next(), hosts.next()) {
        (None, _) if request.minor_version >= 1 => {
            Err(Refusal::Malformed("an HTTP/1.1 request has no Host header"))
        }
        (Some(_), Some(_)) => Err(Refusal::Malformed("the request has two Host headers")),
        (Some(host), None) if !host.is_empty() && !is_valid_host(host) => Err(Refusal::Malformed(
            "the Host header is not a valid host[:port]",
        )),
        _ => Ok(()),
    }
}

/// `name`, `127.0.0.1`, `[::1]`, each with an optional `:port` (RFC 3986 §3.2.2).
fn is_valid_host(host: &[u8]) -> bool {
    let (name, port) = if host.starts_with(b"[") {
        let Some(close) = host.iter().position(|byte| *byte == b']') else {
            return false;
        };
        let literal = &host[1..close];
        let literal_ok = !literal.is_empty()
            && literal
                .iter()
                .all(|byte| byte.is_ascii_hexdigit() || b":.vV".contains(byte));
        if !literal_ok {
            return false;
        }
        (&host[..=close], &host[close + 1..])
    } else {
        let colon = host
            .iter()
            .position(|byte| *byte == b':')
            .unwrap_or(host.len());
        let name = &host[..colon];
        let name_ok = !name.is_empty()
            && name
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(byte));
        if !name_ok {
            return false;
        }
        (name, &host[colon..])
    };
    !name.is_empty()
        && (port.is_empty() || (port[0] == b':' && port[1..].iter().all(u8::is_ascii_digit)))
}
// ANCHOR_END: host

// ANCHOR: body_length
/// Where the body ends, or a refusal when that is not certain. Two `Content-Length`s that
/// disagree, or one beside `Transfer-Encoding`, are how *request smuggling* works: a proxy in
/// front reads one length, this server the other, and the bytes between become a request the
/// proxy never saw. RFC 9112 §6.3 says: 400, and close.
fn body_length(request: &Request) -> Result<BodyLength, Refusal> {
    let mut lengths = Vec::new();
    for value in request.headers_named("Content-Length") {
        // `Content-Length: 5, 5` is one length said twice (RFC 9110 §8.6).
        for item in value.split(|byte| *byte == b',') {
            let item = item.trim_ascii();
            let length = std::str::from_utf8(item)
                .ok()
                .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|digits| digits.parse::<u64>().ok())
                .ok_or(Refusal::Malformed("a Content-Length is not a number"))?;
            lengths.push(length);
        }
    }
    if lengths.windows(2).any(|pair| pair[0] != pair[1]) {
        return Err(Refusal::Malformed(
            "two different Content-Length values: where the body ends is unclear",
        ));
    }
    let codings: Vec<&[u8]> = request.headers_named("Transfer-Encoding").collect();
    if codings.is_empty() {
        return Ok(lengths
            .first()
            .map_or(BodyLength::None, |length| BodyLength::Bytes(*length)));
    }
    if request.minor_version == 0 {
        return Err(Refusal::Malformed(
            "Transfer-Encoding in an HTTP/1.0 request: its framing cannot be trusted",
        ));
    }
    if !lengths.is_empty() {
        return Err(Refusal::Malformed(
            "both Content-Length and Transfer-Encoding: where the body ends is unclear",
        ));
    }
    let last_coding = codings
        .last()
        .and_then(|value| value.rsplit(|byte| *byte == b',').next())
        .map(<[u8]>::trim_ascii)
        .unwrap_or_default();
    if !last_coding.eq_ignore_ascii_case(b"chunked") {
        return Err(Refusal::Malformed(
            "Transfer-Encoding does not end in chunked: where the body ends is unknown",
        ));
    }
    Ok(BodyLength::Chunked)
}
// ANCHOR_END: body_length
