//! Exercise 12: read HTTP requests, however the network cuts them, and refuse the ambiguous ones.
//!
//! This is a tiny web server: `GET /hello` answers `hello`, any other path 404, and each
//! connection stays open for the next request (keep-alive). Its `read_request` takes one read()
//! to be one whole request, which works on your own machine and breaks on a real network. Finish
//! `read_request` so that it reads until `request::parse` finds a whole head, however many reads
//! that takes, within the deadline, and keeps what follows the head for the next request. Finish
//! `request::parse`, so that it finds where a head ends (refusing one over MAX_HEAD_BYTES), checks
//! the request line and reads the headers; and `check_host` and `body_length`, so that the server
//! refuses what lesson 12 refuses: no `Host` or two, and two `Content-Length`s that differ.
//!
//! Check it:       cargo test -p exercises 12
//! Try it by hand: cargo run -p exercises --bin ex12_http
//!                 then, in another terminal: curl -v http://127.0.0.1:65443/hello
//! Hints are in the book, chapter "12: HTTP, with a real browser".

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use course::accept::AcceptFailures;

use request::{Refusal, Request};

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
pub fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
) -> io::Result<Arrival> {
    // TODO: one read() is not one request. Loop: first ask `request::parse(buffer)` whether a
    // whole head is there already (the next request may be, sent with the last one): if so, take
    // its `length` bytes out of the buffer (`buffer.drain(..length)`) and return the request; if
    // parse refuses it, return `Arrival::Refused`. Otherwise read more, and append it. Give each
    // read only the time left until `deadline` (`stream.set_read_timeout`), and return
    // `Arrival::TooSlow` when none is left or a read times out (`is_timeout`). A client that hangs
    // up with half a head sent is an error (`ErrorKind::UnexpectedEof`); one that hangs up
    // between requests is `Closed`.
    let mut chunk = [0; 1024];
    stream.set_read_timeout(Some(deadline.saturating_duration_since(Instant::now())))?;
    let count = match stream.read(&mut chunk) {
        Ok(count) => count,
        Err(error) if is_timeout(&error) => return Ok(Arrival::TooSlow),
        Err(error) => return Err(error),
    };
    if count == 0 {
        return Ok(Arrival::Closed);
    }
    buffer.extend_from_slice(&chunk[..count]);
    let arrival = match request::parse(buffer) {
        Ok(Some((request, _))) => Arrival::Request(request),
        Ok(None) => Arrival::Refused(Refusal::Malformed("the head is not all here")),
        Err(refusal) => Arrival::Refused(refusal),
    };
    buffer.clear();
    Ok(arrival)
}
// ANCHOR_END: read_request

/// A timeout is WouldBlock on Unix and TimedOut on Windows.
fn is_timeout(error: &io::Error) -> bool {
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
    pub fn parse(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
        // TODO: find where the head ends: just after the first `\r\n\r\n`. If it is not in the
        // buffer yet, return `Ok(None)` (read more), unless the buffer already holds
        // MAX_HEAD_BYTES: then `Err(Refusal::HeadTooLarge)`, as for a longer head. The request
        // line has exactly three parts, one space apart: a method in capitals, a target starting
        // with `/`, and `HTTP/1.1` or `HTTP/1.0`; refuse anything else with
        // `Refusal::Malformed("...")`, saying what was wrong. Read every line after it into
        // `headers` as (name, value), the value trimmed; refuse a line with no colon, or a
        // name with a space or a tab in it (RFC 9112 §5.1). Return
        // `Ok(Some((request, length)))`, `length` being the head's bytes, blank line included.
        let head = String::from_utf8_lossy(buffer);
        let mut words = head.split_whitespace();
        let (Some(method), Some(target)) = (words.next(), words.next()) else {
            return Err(Refusal::Malformed("no method and target"));
        };
        let mut request = Request {
            method: method.to_string(),
            target: target.to_string(),
            minor_version: 1,
            headers: Vec::new(),
            body_length: None,
        };
        check_host(&request)?;
        request.body_length = body_length(&request)?;
        Ok(Some((request, buffer.len())))
    }
    // ANCHOR_END: parse

    // ANCHOR: host_and_length
    /// HTTP/1.1 needs exactly one `Host`, and a valid one (RFC 9112 §3.2).
    fn check_host(request: &Request) -> Result<(), Refusal> {
        // TODO: refuse (`Refusal::Malformed("...")`) an HTTP/1.1 request with no Host header,
        // any request with two, and one whose Host holds a character a host[:port] does not
        // have: only letters, digits and `-.:[]_~` belong in one.
        let _ = request.headers_named("Host");
        Ok(())
    }

    /// The body's length from `Content-Length`, `None` without one. Two lengths that differ
    /// are how request smuggling works (chapter 12): refused, as RFC 9112 §6.3 says.
    fn body_length(request: &Request) -> Result<Option<u64>, Refusal> {
        // TODO: read every Content-Length header. Refuse (`Refusal::Malformed("...")`) one that
        // is not a number (digits only: `+5` is not one), and two that differ: the server cannot
        // tell where the body ends.
        Ok(request
            .headers_named("Content-Length")
            .next()
            .and_then(|length| length.parse().ok()))
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
