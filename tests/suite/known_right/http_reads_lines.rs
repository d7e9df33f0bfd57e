//! Known right, of another design: a BufReader kept for the whole connection reads each head
//! line by line, so what it read past one head is simply still in it for the next request. Each
//! fill of its buffer gets only the time left until the head's deadline. Host and Content-Length
//! are checked after all the headers are read.

use std::fmt;
use std::io::{self, BufRead, BufReader, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use course::accept::AcceptFailures;

// Writing a response and closing are not what this design is about: the given server's.
use crate::check_proofs::http_rules::{close_gently, send};

/// The most bytes a request's head may have, blank line included.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How long a response's write may wait for the client to read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves every client that connects to `listener`, each on a thread of its own; each head must
/// arrive within `header_timeout`.
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

/// Answers one client's requests, one after another, until it or the server closes. The
/// BufReader lives as long as the connection: what it has read past one head stays in it for
/// the next request.
fn serve_client(stream: TcpStream, header_timeout: Duration) -> io::Result<()> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut reader = BufReader::new(stream);
    loop {
        let deadline = Instant::now() + header_timeout;
        let request = match read_request(&mut reader, deadline)? {
            Arrival::Request(request) => request,
            Arrival::Closed | Arrival::TooSlow { started: false } => return Ok(()),
            Arrival::TooSlow { started: true } => {
                let stream = reader.get_mut();
                send(stream, 408, "too slow\n", false, false)?;
                close_gently(reader.into_inner());
                return Ok(());
            }
            Arrival::Refused(refusal) => {
                let stream = reader.get_mut();
                send(stream, refusal.status(), &refusal.to_string(), false, false)?;
                close_gently(reader.into_inner());
                return Ok(());
            }
        };
        // After a body this server does not read, the next request's start is unknown: close.
        let keep_alive = request.keep_alive() && !request.has_body;
        let (status, body) = respond(&request);
        send(
            reader.get_mut(),
            status,
            body,
            request.method == "HEAD",
            keep_alive,
        )?;
        if !keep_alive {
            close_gently(reader.into_inner());
            return Ok(());
        }
    }
}

/// A request's head, parsed.
#[derive(Debug)]
pub struct Request {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The path asked for, as in `/hello`.
    pub target: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// Each header's name and value, in the order they came.
    pub headers: Vec<(String, String)>,
    /// Whether a body follows the head (a Content-Length over 0). This server reads none.
    pub has_body: bool,
}

impl Request {
    /// The value of the first header called `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// HTTP/1.1 keeps the connection unless the client says `Connection: close`.
    pub fn keep_alive(&self) -> bool {
        let connection = self.header("Connection").unwrap_or_default();
        if self.version == "HTTP/1.0" {
            connection.eq_ignore_ascii_case("keep-alive")
        } else {
            !connection.eq_ignore_ascii_case("close")
        }
    }
}

/// What came of waiting for a request.
#[derive(Debug)]
pub enum Arrival {
    Request(Request),
    /// The client closed the connection between requests.
    Closed,
    /// The deadline passed; `started` if part of a head had come.
    TooSlow {
        started: bool,
    },
    /// The head is not one this server can answer.
    Refused(Refusal),
}

/// Why a head is refused.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// 400 Bad Request: not HTTP/1.x, or broken. Says what was wrong.
    Malformed(&'static str),
    /// 431 Request Header Fields Too Large: no blank line within MAX_HEAD_BYTES.
    TooLarge,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 400,
            Refusal::TooLarge => 431,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Malformed(why) => writeln!(f, "malformed request: {why}"),
            Refusal::TooLarge => writeln!(f, "the head is over {MAX_HEAD_BYTES} bytes"),
        }
    }
}

/// Reads a head line by line, counting its bytes against MAX_HEAD_BYTES, before `deadline`:
/// each fill of the reader's buffer may wait only for the time left.
fn read_request(reader: &mut BufReader<TcpStream>, deadline: Instant) -> io::Result<Arrival> {
    let mut head = Vec::new();
    let mut line_start = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let too_slow = Arrival::TooSlow {
            started: !head.is_empty(),
        };
        if left.is_zero() {
            return Ok(too_slow);
        }
        reader.get_ref().set_read_timeout(Some(left))?;
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(too_slow);
            }
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            if head.is_empty() {
                return Ok(Arrival::Closed);
            }
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                "the client hung up in the middle of a request",
            ));
        }
        // This line's bytes, up to its end if it is here.
        let line_end = available.iter().position(|&byte| byte == b'\n');
        let taken = line_end.map_or(available.len(), |at| at + 1);
        head.extend_from_slice(&available[..taken]);
        reader.consume(taken);
        let complete = line_end.is_some() && &head[line_start..] == b"\r\n";
        // A head not complete at the limit can only be longer than it.
        if head.len() > MAX_HEAD_BYTES || (!complete && head.len() >= MAX_HEAD_BYTES) {
            return Ok(Arrival::Refused(Refusal::TooLarge));
        }
        if line_end.is_none() {
            continue;
        }
        if complete {
            let Ok(head) = String::from_utf8(head) else {
                return Ok(Arrival::Refused(Refusal::Malformed("not UTF-8")));
            };
            return Ok(match parse_head(&head) {
                Ok(request) => Arrival::Request(request),
                Err(refusal) => Arrival::Refused(refusal),
            });
        }
        line_start = head.len();
    }
}

/// Parses a head: the request line, then one `Name: value` per line. `head` ends with the
/// blank line.
pub fn parse_head(head: &str) -> Result<Request, Refusal> {
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
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
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(Refusal::Malformed(
            "the version is not HTTP/1.0 or HTTP/1.1",
        ));
    }
    let mut headers = Vec::new();
    for line in lines.filter(|line| !line.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(Refusal::Malformed("a header line has no colon"));
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(Refusal::Malformed("a header name is empty or has spaces"));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    // Host: exactly one in HTTP/1.1, at most one in 1.0, and a host[:port] when there is one.
    let hosts: Vec<&String> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map(|(_, value)| value)
        .collect();
    let host_is_valid = |host: &str| {
        host.bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-.:[]_~".contains(&byte))
    };
    if hosts.len() > 1
        || (hosts.is_empty() && version == "HTTP/1.1")
        || hosts.iter().any(|host| !host_is_valid(host))
    {
        return Err(Refusal::Malformed("no Host, two, or an invalid one"));
    }
    // Every Content-Length must say the same number.
    let mut lengths = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        // Digits, and nothing else: `+0` is no length (RFC 9110 §8.6).
        .map(
            |(_, value)| match value.bytes().all(|b| b.is_ascii_digit()) {
                true => value.parse::<u64>().ok(),
                false => None,
            },
        );
    let mut has_body = false;
    if let Some(first) = lengths.next() {
        let Some(first) = first else {
            return Err(Refusal::Malformed("a Content-Length is not a number"));
        };
        if lengths.any(|other| other != Some(first)) {
            return Err(Refusal::Malformed("Content-Lengths that differ"));
        }
        has_body = first > 0;
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        has_body,
    })
}

/// The answer to a request: its status code and body.
fn respond(request: &Request) -> (u16, &'static str) {
    match (request.method.as_str(), request.target.as_str()) {
        ("GET" | "HEAD", "/hello") => (200, "hello\n"),
        ("GET" | "HEAD", _) => (404, "not found\n"),
        _ => (405, "only GET and HEAD here\n"),
    }
}
