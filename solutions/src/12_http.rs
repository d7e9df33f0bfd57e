//! Exercise 12: read HTTP requests, however the network cuts them.
//!
//! This is a tiny web server: `GET /hello` answers `hello`, any other path 404, and each
//! connection stays open for the next request (keep-alive). Its `read_request` takes one read()
//! to be one whole request, which works on your own machine and breaks on a real network. Finish
//! `read_request` so that it reads until the blank line that ends a head, however many reads that
//! takes, keeps what follows the head for the next request, and refuses a head over
//! MAX_HEAD_BYTES; and finish `parse_head`, so that it checks the request line and reads the
//! headers.
//!
//! Check it:       cargo test -p exercises 12
//! Try it by hand: cargo run -p exercises --bin ex12_http
//!                 then, in another terminal: curl -v http://127.0.0.1:65443/hello
//! Hints are in the book, chapter "12: HTTP, with a real browser".

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use course::accept::AcceptFailures;

/// The most bytes a request's head may have, blank line included.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How long each read may wait: a client that goes quiet is closed after this (lesson 06).
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves every client that connects to `listener`, each on a thread of its own.
pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
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
            if let Err(error) = serve_client(stream) {
                eprintln!("a connection ended with an error: {error}");
            }
        });
    }
    Ok(())
}

// ANCHOR: serve_client
/// Answers one client's requests, one after another, until it or the server closes.
fn serve_client(mut stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(READ_TIMEOUT))?;
    // What has been read but not used yet: the start of the next request, if the client sent
    // several at once.
    let mut buffer = Vec::new();
    loop {
        let request = match read_request(&mut stream, &mut buffer)? {
            Arrival::Request(request) => request,
            Arrival::Closed => return Ok(()),
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
        let keep_alive = request.keep_alive();
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

// ANCHOR: read_request
/// Reads until `buffer` holds a whole head (up to and including its blank line), takes it out
/// of the buffer, and parses it. Whatever follows the head stays in `buffer` for next time.
pub fn read_request(stream: &mut impl Read, buffer: &mut Vec<u8>) -> io::Result<Arrival> {
    let mut chunk = [0; 1024];
    loop {
        // Look before reading: the next request may be here already, sent with the last one.
        if let Some(length) = head_length(buffer) {
            if length > MAX_HEAD_BYTES {
                return Ok(Arrival::Refused(Refusal::TooLarge));
            }
            let head: Vec<u8> = buffer.drain(..length).collect();
            let Ok(head) = String::from_utf8(head) else {
                return Ok(Arrival::Refused(Refusal::Malformed("not UTF-8")));
            };
            return Ok(match parse_head(&head) {
                Ok(request) => Arrival::Request(request),
                Err(refusal) => Arrival::Refused(refusal),
            });
        }
        if buffer.len() >= MAX_HEAD_BYTES {
            return Ok(Arrival::Refused(Refusal::TooLarge));
        }
        let count = stream.read(&mut chunk)?;
        if count == 0 {
            if buffer.is_empty() {
                return Ok(Arrival::Closed);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client hung up in the middle of a request",
            ));
        }
        buffer.extend_from_slice(&chunk[..count]);
    }
}

/// Where the head ends: just after the first `\r\n\r\n`, if it is there.
fn head_length(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
}
// ANCHOR_END: read_request

// ANCHOR: parse_head
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
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
    })
}
// ANCHOR_END: parse_head

/// The answer to a request: its status code and body.
fn respond(request: &Request) -> (u16, &'static str) {
    match (request.method.as_str(), request.target.as_str()) {
        ("GET" | "HEAD", "/hello") => (200, "hello\n"),
        ("GET" | "HEAD", _) => (404, "not found\n"),
        _ => (405, "only GET and HEAD here\n"),
    }
}

/// Writes a response: the status line, headers, a blank line, and the body (none for HEAD).
fn send(
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
fn close_gently(mut stream: TcpStream) {
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
