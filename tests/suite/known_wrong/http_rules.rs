//! Not an answer itself: exercise 12's server, copied from the reference solution item for item,
//! with the learner's four rules made swappable: how `read_request` gathers a head, and how
//! `request::parse`, `check_host` and `body_length` judge it. So each known-wrong HTTP server
//! differs from the reference solution in exactly the rule it gets wrong, and
//! `exercise_12_the_given_server_is_the_same_everywhere` in tests/suite/check_proofs.rs fails if this
//! copy drifts. Each answer runs as a process of its own, so one process-wide choice of rules
//! is enough.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use course::accept::AcceptFailures;

use request::{Refusal, Request};

/// What `request::parse` gives: a whole head and its length, not all here yet, or a refusal.
pub type Parsed = Result<Option<(Request, usize)>, Refusal>;

/// The four rules a learner writes in exercise 12.
#[derive(Clone, Copy)]
pub struct Rules {
    pub read_request: fn(&mut TcpStream, &mut Vec<u8>, Instant) -> io::Result<Arrival>,
    pub parse: fn(&[u8]) -> Parsed,
    pub check_host: fn(&Request) -> Result<(), Refusal>,
    pub body_length: fn(&Request) -> Result<Option<u64>, Refusal>,
}

/// The reference solution's rules.
pub const RIGHT: Rules = Rules {
    read_request: right_read_request,
    parse: request::right_parse,
    check_host: request::right_check_host,
    body_length: request::right_body_length,
};

static RULES: OnceLock<Rules> = OnceLock::new();

fn rules() -> &'static Rules {
    RULES.get().unwrap_or(&RIGHT)
}

/// Serves as the reference solution does, but for `rules`.
pub fn serve_with(listener: TcpListener, rules: Rules) -> anyhow::Result<()> {
    let _ = RULES.set(rules);
    // The given default is for running the server by hand; answers get the check's shorter one.
    // (Named here so that no compiler calls it unused: Rust 1.85 does not count a `const _`.)
    let _by_hand = HEADER_TIMEOUT;
    serve(listener, course::check::http::HEADER_TIMEOUT)
}

// The given server, item for item as in solutions/src/12_http.rs, but for the rules.

// The rule, as the known-wrong answer chose it (see `Rules`).
pub fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
) -> io::Result<Arrival> {
    (rules().read_request)(stream, buffer, deadline)
}

/// How long a request's head may take to arrive, counted from the moment the server starts
/// waiting for it; also how long a kept-alive connection may sit idle. A deadline for the whole
/// head, as in lesson 12: a client that sends one byte a second is answered 408 and closed when
/// it runs out. This is the default when you run the server by hand; the check gives `serve` a
/// shorter one.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one write of a response may wait for the client to read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves every client that connects to `listener`, each on a thread of its own. Each request's
/// head must arrive within `header_timeout` (see [`HEADER_TIMEOUT`]).
pub fn serve(listener: TcpListener, header_timeout: Duration) -> anyhow::Result<()> {
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        let stream = match connection {
            Ok(stream) => stream,
            Err(error) => {
                failures.pause_after(error);
                continue;
            }
        };
        failures.over();
        thread::spawn(move || {
            if let Err(error) = serve_client(stream, header_timeout) {
                eprintln!("a connection ended with an error: {error}");
            }
        });
    }
    Ok(())
}

// ANCHOR: serve_client
/// Answers one client's requests, one after another, until it or the server closes.
fn serve_client(mut stream: TcpStream, header_timeout: Duration) -> io::Result<()> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    // What has been read but not used yet: the start of the next request, if the client sent
    // several at once.
    let mut buffer = Vec::new();
    loop {
        let deadline = Instant::now() + header_timeout;
        let request = match read_request(&mut stream, &mut buffer, deadline)? {
            Arrival::Request(request) => request,
            Arrival::Closed => return Ok(()),
            // Quiet between requests: close without a word. Part of a head, too slowly: 408.
            Arrival::TooSlow if buffer.is_empty() => return Ok(()),
            Arrival::TooSlow => {
                let words = "the request's head did not arrive in time\n";
                send(&mut stream, 408, words, false, false)?;
                close_gently(stream);
                return Ok(());
            }
            Arrival::Refused(refusal) => {
                // After a refused head, where the next request starts is unknown: answer, close.
                send(
                    &mut stream,
                    refusal.status(),
                    &refusal.to_string(),
                    false,
                    false,
                )?;
                close_gently(stream);
                return Ok(());
            }
        };
        // After a body this server does not read, the next request's start is unknown.
        let keep_alive = request.keep_alive() && !request.has_body();
        let (status, body) = respond(&request);
        send(
            &mut stream,
            status,
            body,
            request.method == "HEAD",
            keep_alive,
        )?;
        if !keep_alive {
            close_gently(stream);
            return Ok(());
        }
    }
}
// ANCHOR_END: serve_client

/// What came of waiting for a request.
#[derive(Debug)]
pub enum Arrival {
    /// A whole head, parsed.
    Request(Request),
    /// The client closed the connection between requests.
    Closed,
    /// The head did not arrive before the deadline.
    TooSlow,
    /// The head is not one this server can answer.
    Refused(Refusal),
}

// ANCHOR: read_request
/// Reads until `buffer` holds a whole request head, or the deadline passes, and takes the head
/// out of the buffer. Whatever followed it stays there for next time.
pub fn right_read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
) -> io::Result<Arrival> {
    let mut chunk = [0; 1024];
    loop {
        // Look before reading: the next request may be here already, sent with the last one.
        match request::parse(buffer) {
            Ok(Some((request, length))) => {
                buffer.drain(..length);
                return Ok(Arrival::Request(request));
            }
            Ok(None) => {}
            Err(refusal) => return Ok(Arrival::Refused(refusal)),
        }
        // The deadline is for the whole head: each read gets only the time that is left.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Arrival::TooSlow);
        }
        stream.set_read_timeout(Some(left))?;
        let count = match stream.read(&mut chunk) {
            Ok(count) => count,
            Err(error) if is_timeout(&error) => return Ok(Arrival::TooSlow),
            Err(error) => return Err(error),
        };
        if count == 0 {
            if buffer.is_empty() {
                return Ok(Arrival::Closed);
            }
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                "the client hung up in the middle of a request",
            ));
        }
        buffer.extend_from_slice(&chunk[..count]);
    }
}
// ANCHOR_END: read_request

/// A timeout is WouldBlock on Unix and TimedOut on Windows.
pub fn is_timeout(error: &io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// The request head: its parts, and the rules for where it ends and what it must hold.
pub mod request {
    use std::fmt;

    /// The most bytes a request's head may have, blank line included.
    pub const MAX_HEAD_BYTES: usize = 8 * 1024;

    /// A request's head, parsed.
    #[derive(Debug)]
    pub struct Request {
        /// `GET`, `HEAD`, ...
        pub method: String,
        /// The path asked for, as in `/hello`.
        pub target: String,
        /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
        pub minor_version: u8,
        /// Each header's name and value, in the order they came.
        pub headers: Vec<(String, String)>,
        /// The body's length, from `Content-Length`: `None` without one.
        pub body_length: Option<u64>,
    }

    impl Request {
        /// The values of every header called `name`, ignoring case, as HTTP says.
        pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
            self.headers
                .iter()
                .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }

        /// HTTP/1.1 keeps the connection unless told `close`; 1.0 closes unless told
        /// `keep-alive`.
        pub fn keep_alive(&self) -> bool {
            let says = |word: &str| {
                self.headers_named("Connection").any(|value| {
                    value
                        .split(',')
                        .any(|token| token.trim().eq_ignore_ascii_case(word))
                })
            };
            if self.minor_version >= 1 {
                !says("close")
            } else {
                says("keep-alive")
            }
        }

        /// Whether a body follows the head. This server reads none, so after one it closes.
        pub fn has_body(&self) -> bool {
            self.body_length.unwrap_or(0) > 0
        }
    }

    /// Why a head is refused. After a refusal the server closes the connection.
    #[derive(Debug, PartialEq)]
    pub enum Refusal {
        /// 400 Bad Request: not HTTP/1.x, or broken, or ambiguous. Says what was wrong.
        Malformed(&'static str),
        /// 431 Request Header Fields Too Large: no blank line within MAX_HEAD_BYTES.
        HeadTooLarge,
    }

    impl Refusal {
        pub fn status(&self) -> u16 {
            match self {
                Refusal::Malformed(_) => 400,
                Refusal::HeadTooLarge => 431,
            }
        }
    }

    impl fmt::Display for Refusal {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Refusal::Malformed(why) => writeln!(f, "malformed request: {why}"),
                Refusal::HeadTooLarge => writeln!(f, "the head is over {MAX_HEAD_BYTES} bytes"),
            }
        }
    }

    // ANCHOR: parse
    /// Looks for a whole head at the start of `buffer`. `Ok(None)`: not all here yet, read
    /// more. `Ok(Some((request, length)))`: the head is the first `length` bytes.
    pub fn right_parse(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
        let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") else {
            return if buffer.len() >= MAX_HEAD_BYTES {
                Err(Refusal::HeadTooLarge)
            } else {
                Ok(None)
            };
        };
        let length = end + 4;
        if length > MAX_HEAD_BYTES {
            return Err(Refusal::HeadTooLarge);
        }
        let head = std::str::from_utf8(&buffer[..end])
            .map_err(|_| Refusal::Malformed("the head is not UTF-8 text"))?;
        let mut lines = head.split("\r\n");
        let mut request = parse_request_line(lines.next().unwrap_or_default())?;
        for line in lines {
            request.headers.push(parse_header(line)?);
        }
        check_host(&request)?;
        request.body_length = body_length(&request)?;
        Ok(Some((request, length)))
    }

    // The rules, as the known-wrong answer chose them (see `Rules`).
    pub fn parse(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
        (super::rules().parse)(buffer)
    }

    fn check_host(request: &Request) -> Result<(), Refusal> {
        (super::rules().check_host)(request)
    }

    fn body_length(request: &Request) -> Result<Option<u64>, Refusal> {
        (super::rules().body_length)(request)
    }

    /// `GET /hello HTTP/1.1`: three parts, one space between each.
    fn parse_request_line(line: &str) -> Result<Request, Refusal> {
        let mut parts = line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Malformed(
                "the request line is not METHOD TARGET VERSION",
            ));
        };
        if method.is_empty() || !method.bytes().all(|byte| byte.is_ascii_uppercase()) {
            return Err(Refusal::Malformed("the method is not a word in capitals"));
        }
        if !target.starts_with('/') {
            return Err(Refusal::Malformed("the target does not start with /"));
        }
        let minor_version = match version {
            "HTTP/1.1" => 1,
            "HTTP/1.0" => 0,
            _ => {
                return Err(Refusal::Malformed(
                    "the version is not HTTP/1.0 or HTTP/1.1",
                ));
            }
        };
        Ok(Request {
            method: method.to_string(),
            target: target.to_string(),
            minor_version,
            headers: Vec::new(),
            body_length: None,
        })
    }

    /// `Name: value`, the value trimmed. A name has no spaces.
    fn parse_header(line: &str) -> Result<(String, String), Refusal> {
        let Some((name, value)) = line.split_once(':') else {
            return Err(Refusal::Malformed("a header line has no colon"));
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(Refusal::Malformed("a header name is empty or has spaces"));
        }
        Ok((name.to_string(), value.trim().to_string()))
    }
    // ANCHOR_END: parse

    // ANCHOR: host_and_length
    /// HTTP/1.1 needs exactly one `Host`, and a valid one (RFC 9112 §3.2).
    pub fn right_check_host(request: &Request) -> Result<(), Refusal> {
        let hosts: Vec<&str> = request.headers_named("Host").collect();
        match hosts[..] {
            [] if request.minor_version >= 1 => {
                Err(Refusal::Malformed("an HTTP/1.1 request has no Host header"))
            }
            [_, _, ..] => Err(Refusal::Malformed("the request has two Host headers")),
            [host]
                if !host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]_~".contains(c)) =>
            {
                Err(Refusal::Malformed("the Host header is not a host[:port]"))
            }
            _ => Ok(()),
        }
    }

    /// The body's length from `Content-Length`, `None` without one. Two lengths that differ
    /// are how request smuggling works (chapter 12): refused, as RFC 9112 §6.3 says.
    pub fn right_body_length(request: &Request) -> Result<Option<u64>, Refusal> {
        let mut length = None;
        for value in request.headers_named("Content-Length") {
            // Digits only (RFC 9110 §8.6): `u64::from_str` would also take a leading `+`.
            let digits = value.bytes().all(|byte| byte.is_ascii_digit());
            let this = value
                .parse::<u64>()
                .ok()
                .filter(|_| digits)
                .ok_or(Refusal::Malformed("a Content-Length is not a number"))?;
            if length.is_some_and(|length| length != this) {
                return Err(Refusal::Malformed(
                    "two different Content-Length values: where the body ends is unclear",
                ));
            }
            length = Some(this);
        }
        Ok(length)
    }
    // ANCHOR_END: host_and_length
}

/// The answer to a request: its status code and body.
fn respond(request: &Request) -> (u16, &'static str) {
    match (request.method.as_str(), request.target.as_str()) {
        ("GET" | "HEAD", "/hello") => (200, "hello\n"),
        ("GET" | "HEAD", _) => (404, "not found\n"),
        _ => (405, "only GET and HEAD here\n"),
    }
}
/// Writes a response: the status line, headers, a blank line, and the body (none for HEAD).
pub fn send(
    stream: &mut TcpStream,
    status: u16,
    body: &str,
    head_only: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    if !head_only {
        response.push_str(body);
    }
    stream.write_all(response.as_bytes())
}

/// Closes so that the last response arrives: closing with unread bytes makes the system reset
/// the connection, and a reset can destroy a response the client has not read yet. So: stop
/// sending, read and drop what the client still sends for a moment, then close.
pub fn close_gently(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let until = Instant::now() + Duration::from_millis(500);
    let mut sink = [0; 4096];
    while Instant::now() < until {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}
