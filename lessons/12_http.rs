//! Lesson 12: a small web server that a real browser talks to.
//!
//! HTTP/1.1 is a protocol on top of TCP, like the chat's, with the same problem to solve: where
//! does one message end? A request is a few lines of text (the *head*) ending at a blank line;
//! any body after it is as long as its `Content-Length` says. This server reads heads the way
//! lesson 04 reads lines: it keeps what has arrived in a buffer, and looks for the end there,
//! however the bytes were cut into reads.
//!
//! `GET /` is a live page listing who is connected right now (a browser usually is, more than
//! once); every other path is a file from FOLDER, and never from outside it. A thread per client,
//! a seat limit, a size limit on the head, and a time limit on its arrival keep the server
//! standing whatever a client sends, or does not send.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

use request::{Refusal, Request};

// ANCHOR: limits
/// How many clients may be connected at once, unless the command line says otherwise. A browser opens several connections to one
/// server (six is common) and keeps them open: seats are per connection, not per person.
const MAX_CLIENTS: usize = 64;
/// How long the head of a request may take to arrive, counted from the moment the server starts
/// waiting for it; also how long a kept-alive connection may sit idle. A client that sends one
/// byte a second (the *slowloris* attack) is closed when this runs out, not kept for ever.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one write of a response may wait for the client to read. A client that stops
/// reading must not hold its thread for ever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server waits, after its last response on a connection it is closing, for the
/// client to stop sending. See `close_gently`.
const LINGER: Duration = Duration::from_millis(500);
// ANCHOR_END: limits

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let folder = site_folder(args.extra.first())?;
    let header_timeout = header_timeout(args.extra.get(1))?;
    let max_clients = max_clients(args.extra.get(2))?;
    let address = args.address;
    let listener = course::listen::bind_with_backlog(address, course::listen::CROWD_BACKLOG)?;
    let local = listener.local_addr()?;
    println!("listening on {local}");
    println!(
        "open http://{local}/ in a browser; files come from {}",
        folder.display()
    );
    let site = Arc::new(Site {
        folder,
        header_timeout,
        max_clients,
        clients: Mutex::new(Clients::default()),
    });
    accept_clients(&listener, &site);
    Ok(())
}

/// What every client's thread shares: where the files are, the limits, and who is connected.
struct Site {
    /// The folder files are served from, canonical (no `..`, no symbolic links), so that a file's
    /// canonical path can be checked to lie inside it.
    folder: PathBuf,
    /// See [`HEADER_TIMEOUT`]; the command line may set a shorter one.
    header_timeout: Duration,
    /// See [`MAX_CLIENTS`]; the command line may set another.
    max_clients: usize,
    /// Everyone connected, for the seat limit and the live page. Locked only for a moment.
    clients: Mutex<Clients>,
}

/// The connected clients, by a number given to each connection.
#[derive(Default)]
struct Clients {
    /// The number the next connection gets.
    next: u64,
    /// Each open connection, by its number.
    open: BTreeMap<u64, Client>,
}

/// One open connection, as the live page shows it.
struct Client {
    /// Where it comes from.
    peer: SocketAddr,
    /// When it was accepted.
    since: Instant,
    /// How many requests it has made so far.
    requests: u64,
}

// ANCHOR: accept_loop
/// Gives every connection a seat and a thread, or a polite 503 when the seats are taken.
fn accept_clients(listener: &TcpListener, site: &Arc<Site>) {
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
        let Ok(peer) = stream.peer_addr() else {
            continue; // It left before we could ask who it was.
        };
        let Some(number) = take_seat(site, peer) else {
            println!("{peer} turned away: all {} seats taken", site.max_clients);
            turn_away(stream);
            continue;
        };
        let site_for_thread = Arc::clone(site);
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .spawn(move || serve_client(stream, peer, number, &site_for_thread));
        if let Err(error) = spawned {
            eprintln!("cannot start a thread for {peer}: {error}");
            leave_seat(site, number);
        }
    }
}
// ANCHOR_END: accept_loop

/// Adds a client to the table, unless every seat is taken. Returns its number.
fn take_seat(site: &Site, peer: SocketAddr) -> Option<u64> {
    let mut clients = lock(&site.clients);
    if clients.open.len() >= site.max_clients {
        return None;
    }
    let number = clients.next;
    clients.next += 1;
    let since = Instant::now();
    clients.open.insert(
        number,
        Client {
            peer,
            since,
            requests: 0,
        },
    );
    Some(number)
}

/// Gives a seat back. Called from [`Seat`]'s `drop`, so it happens however the client's thread
/// ends, a panic included: otherwise every panic would keep a seat taken for ever.
fn leave_seat(site: &Site, number: u64) {
    lock(&site.clients).open.remove(&number);
}

/// A client's seat, held by its thread for as long as it runs.
struct Seat<'a> {
    /// Whose table the seat is in.
    site: &'a Site,
    /// The connection's number in that table.
    number: u64,
}

impl Drop for Seat<'_> {
    fn drop(&mut self) {
        leave_seat(self.site, self.number);
    }
}

/// Locks the table. A thread that panicked while holding the lock left it as it was between two
/// whole statements (every change is one `insert`, `remove` or `+= 1`), so it is still usable.
fn lock(clients: &Mutex<Clients>) -> std::sync::MutexGuard<'_, Clients> {
    clients
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Answers a connection beyond [`MAX_CLIENTS`] with 503, on the accept loop's thread, so the
/// write has a short limit: a new connection's empty send buffer takes it at once.
fn turn_away(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let body = "Too many connections: try again in a moment.\n";
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}

/// Runs on the client's own thread: serves its requests, then logs how it left.
fn serve_client(stream: TcpStream, peer: SocketAddr, number: u64, site: &Site) {
    let _seat = Seat { site, number };
    println!("{peer} connected");
    match serve_requests(stream, peer, number, site) {
        Ok(Ending::Closed) => println!("{peer} disconnected"),
        Ok(Ending::Done) => println!("{peer} served; connection closed"),
        Ok(Ending::TooSlow) => println!(
            "{peer} sent no whole request within {:?}: closed",
            site.header_timeout
        ),
        Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
    }
}

/// How a connection ended, when nothing failed.
enum Ending {
    /// The client closed it between requests.
    Closed,
    /// The server closed it: the client asked to, or its request was refused.
    Done,
    /// A request's head did not arrive in time (or the connection sat idle that long).
    TooSlow,
}

// ANCHOR: keep_alive
/// Reads requests one after another on one connection and answers each: HTTP/1.1 keeps the
/// connection open unless someone says `Connection: close`. Bytes after one request's head are
/// the start of the next (a client may send several before reading: *pipelining*), so they stay
/// in `buffer`.
fn serve_requests(
    mut stream: TcpStream,
    peer: SocketAddr,
    number: u64,
    site: &Site,
) -> anyhow::Result<Ending> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut buffer = Vec::new();
    loop {
        let deadline = Instant::now() + site.header_timeout;
        let request = match read_request(&mut stream, &mut buffer, deadline)? {
            Arrival::Request(request) => request,
            Arrival::Closed => return Ok(Ending::Closed),
            Arrival::TooSlow => return Ok(Ending::TooSlow),
            Arrival::Refused(refusal) => {
                // After a refused head the server cannot tell where the next request would
                // start, so it answers and closes.
                let response = Response::refusal(&refusal);
                println!(
                    "{peer} sent a request refused with {}: {refusal}",
                    response.status
                );
                response.send(&mut stream, false, false)?;
                close_gently(stream);
                return Ok(Ending::Done);
            }
        };
        if let Some(client) = lock(&site.clients).open.get_mut(&number) {
            client.requests += 1;
        }
        let keep_alive = request.keep_alive() && !request.has_body();
        let response = respond(&request, number, site);
        // The target is the client's text: escaped, it cannot send control codes to a terminal.
        println!(
            "{peer} {} {} -> {}",
            request.method,
            request.target.escape_debug(),
            response.status
        );
        response.send(&mut stream, request.method == "HEAD", keep_alive)?;
        if !keep_alive {
            close_gently(stream);
            return Ok(Ending::Done);
        }
    }
}
// ANCHOR_END: keep_alive

/// What came of waiting for a request.
enum Arrival {
    /// A whole head, parsed.
    Request(Request),
    /// The client closed the connection with no request under way.
    Closed,
    /// The head did not arrive before the deadline.
    TooSlow,
    /// The head arrived but is not one the server can answer.
    Refused(Refusal),
}

// ANCHOR: read_request
/// Reads until `buffer` holds a whole request head, or the deadline passes, and takes the
/// head out of the buffer. Whatever followed it stays there for next time.
fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
) -> anyhow::Result<Arrival> {
    let mut chunk = [0; 1024];
    loop {
        // Look before reading: a pipelined request may already be here, whole.
        match request::parse(buffer) {
            Ok(Some((request, head_length))) => {
                buffer.drain(..head_length);
                return Ok(Arrival::Request(request));
            }
            Ok(None) => {}
            Err(refusal) => return Ok(Arrival::Refused(refusal)),
        }
        // The deadline is for the whole head, not each read: a read timeout alone restarts
        // with every byte, and a client sending one byte a second would never meet it.
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return Ok(Arrival::TooSlow);
        };
        if left.is_zero() {
            return Ok(Arrival::TooSlow);
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut chunk) {
            Ok(0) if buffer.is_empty() => return Ok(Arrival::Closed),
            Ok(0) => anyhow::bail!("the client closed the connection in the middle of a request"),
            Ok(count) => buffer.extend_from_slice(&chunk[..count]),
            Err(error) if is_timeout(&error) => return Ok(Arrival::TooSlow),
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => return Err(error).context("reading a request"),
        }
    }
}
// ANCHOR_END: read_request

/// A timeout is WouldBlock on Unix and TimedOut on Windows.
fn is_timeout(error: &io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Closes a connection so that the last response reaches the client. Closing a socket with
/// unread bytes in it makes the system send a *reset*, and a reset can arrive before the client
/// has read the response, which it then loses. So: say we are done sending (`shutdown`), then
/// read and drop whatever the client still sends, for a moment, before closing.
fn close_gently(mut stream: TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(LINGER));
    let mut sink = [0; 4096];
    let until = Instant::now() + LINGER;
    while Instant::now() < until {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

// ANCHOR: respond
/// Decides the answer to one request: the live page, a file, or why not.
fn respond(request: &Request, number: u64, site: &Site) -> Response {
    if request.method != "GET" && request.method != "HEAD" {
        return Response::text(405, "this server only answers GET and HEAD\n")
            .with_header("Allow", "GET, HEAD");
    }
    if request.has_body() {
        return Response::text(400, "a GET or HEAD request has no body here\n");
    }
    if request.path() == "/" {
        return Response::html(live_page(number, site));
    }
    match file_path(&site.folder, request.path()) {
        Ok(path) => serve_file(&path, &site.folder),
        Err(status) => Response::text(status, reason(status)),
    }
}
// ANCHOR_END: respond

// ANCHOR: file_path
/// Turns a request path into a path inside `folder`, or says why there is none: 400 for a path
/// that cannot be decoded, 403 for one that tries to leave the folder.
///
/// The path arrives *percent-encoded*: `%2e%2e` is `..`, `%5c` is `\`. Decode first, then check,
/// or an attacker writes the forbidden bytes in a form the check does not recognise.
fn file_path(folder: &Path, path: &str) -> Result<PathBuf, u16> {
    let decoded = percent_decode(path).ok_or(400_u16)?;
    let decoded = String::from_utf8(decoded).map_err(|_| 400_u16)?;
    let mut inside = folder.to_path_buf();
    for segment in decoded.split('/').skip(1) {
        // Only plain names: no `..` or `.`, no hidden files, no `\` (a separator on Windows),
        // no `:` (a drive on Windows, `C:`), no NUL. A list of what is allowed cannot be
        // tricked by a spelling nobody thought of; a list of what is forbidden can.
        let plain = !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.~".contains(c));
        if !plain {
            return Err(403);
        }
        inside.push(segment);
    }
    Ok(inside)
}
// ANCHOR_END: file_path

/// Decodes `%XX` escapes. `None` if a `%` is not followed by two hexadecimal digits.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    Some(decoded)
}

/// A file, or 404. The canonical path must still lie inside the folder: a symbolic link in
/// the folder could otherwise point anywhere on the disk.
fn serve_file(path: &Path, folder: &Path) -> Response {
    let Ok(canonical) = path.canonicalize() else {
        return Response::text(404, reason(404));
    };
    if !canonical.starts_with(folder) {
        return Response::text(403, reason(403));
    }
    match File::open(&canonical).and_then(|file| Ok((file.metadata()?, file))) {
        Ok((metadata, file)) if metadata.is_file() => Response {
            status: 200,
            headers: vec![("Content-Type", content_type(&canonical).to_string())],
            body: Body::File(file, metadata.len()),
        },
        _ => Response::text(404, reason(404)),
    }
}

/// The type a browser needs to know what to do with a file.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("txt" | "md" | "rs") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

// ANCHOR: live_page
/// The page at `/`: every open connection, this one marked. Load it in a browser and you see
/// the browser's own connections, often more than one.
fn live_page(number: u64, site: &Site) -> String {
    let rows: String = lock(&site.clients)
        .open
        .iter()
        .map(|(other, client)| {
            format!(
                "<tr{}><td>{}</td><td>{}</td><td>{} s</td><td>{}</td></tr>\n",
                if *other == number {
                    " class=\"you\""
                } else {
                    ""
                },
                other,
                client.peer,
                client.since.elapsed().as_secs(),
                client.requests,
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Who is connected</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n\
         </head>\n<body>\n<h1>Who is connected</h1>\n\
         <p>You are connection {number}. Reload to see the table change.</p>\n\
         <table>\n<tr><th>connection</th><th>from</th><th>for</th><th>requests</th></tr>\n\
         {rows}</table>\n<p>Files: <a href=\"/hello.txt\">hello.txt</a></p>\n</body>\n</html>\n"
    )
}
// ANCHOR_END: live_page

/// The words that go with a status code.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

/// A response on its way out.
struct Response {
    /// The status code: 200, 404, ...
    status: u16,
    /// Headers besides `Content-Length` and `Connection`, which `send` writes itself.
    headers: Vec<(&'static str, String)>,
    /// What follows the head, unless the request was HEAD.
    body: Body,
}

/// What follows the head: text made here, or a file and its length.
enum Body {
    /// A page or a message, made whole in memory.
    Text(String),
    /// An open file, and its length when it was opened: copied, not read into memory.
    File(File, u64),
}

impl Response {
    fn text(status: u16, text: &str) -> Response {
        let mut text = text.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Response {
            status,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".to_string())],
            body: Body::Text(text),
        }
    }

    fn html(page: String) -> Response {
        Response {
            status: 200,
            headers: vec![("Content-Type", "text/html; charset=utf-8".to_string())],
            body: Body::Text(page),
        }
    }

    fn refusal(refusal: &Refusal) -> Response {
        Response::text(refusal.status(), &refusal.to_string())
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Response {
        self.headers.push((name, value.to_string()));
        self
    }

    // ANCHOR: send
    /// Writes the status line, the headers, a blank line, and the body (none for HEAD). The
    /// `Content-Length` is what lets the client find where this response ends and keep the
    /// connection for the next request.
    fn send(self, stream: &mut TcpStream, head_only: bool, keep_alive: bool) -> io::Result<()> {
        let length = match &self.body {
            Body::Text(text) => text.len() as u64,
            Body::File(_, length) => *length,
        };
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {length}\r\n"));
        let connection = if keep_alive { "keep-alive" } else { "close" };
        head.push_str(&format!("Connection: {connection}\r\n\r\n"));
        stream.write_all(head.as_bytes())?;
        if head_only {
            return Ok(());
        }
        match self.body {
            Body::Text(text) => stream.write_all(text.as_bytes()),
            Body::File(file, length) => {
                // If the file shrank since we measured it, the client would wait for bytes
                // that never come: check, and fail the connection instead.
                let sent = io::copy(&mut file.take(length), stream)?;
                if sent < length {
                    return Err(io::Error::new(ErrorKind::UnexpectedEof, "the file shrank"));
                }
                Ok(())
            }
        }
    }
    // ANCHOR_END: send
}

/// FOLDER from the command line, or the lesson's own small site, made canonical.
fn site_folder(argument: Option<&String>) -> anyhow::Result<PathBuf> {
    let folder = argument.map_or(DEFAULT_FOLDER, String::as_str);
    let canonical = Path::new(folder).canonicalize().with_context(|| {
        format!(
            "cannot find the folder {folder:?} to serve files from: run this from the course's \
             top folder, or give a FOLDER after the address"
        )
    })?;
    if !canonical.is_dir() {
        anyhow::bail!("{folder:?} is not a folder: give a folder to serve files from");
    }
    Ok(canonical)
}

/// HEADER_SECONDS from the command line (it may have a fraction, as in 0.5), or the default.
fn header_timeout(argument: Option<&String>) -> anyhow::Result<Duration> {
    let Some(text) = argument else {
        return Ok(HEADER_TIMEOUT);
    };
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => Ok(Duration::from_secs_f64(seconds)),
        _ => anyhow::bail!(
            "HEADER_SECONDS must be a number of seconds above 0 (as in 10 or 0.5), not {text:?}"
        ),
    }
}

/// MAX_CLIENTS from the command line, at least 1, or the default.
fn max_clients(argument: Option<&String>) -> anyhow::Result<usize> {
    let Some(text) = argument else {
        return Ok(MAX_CLIENTS);
    };
    match text.parse::<usize>() {
        Ok(count) if count >= 1 => Ok(count),
        _ => anyhow::bail!("MAX_CLIENTS must be a whole number from 1 up, not {text:?}"),
    }
}

/// Where the files come from when the command line names no folder.
const DEFAULT_FOLDER: &str = "lessons/12_http_site";

const PROGRAM: Program = Program {
    name: "12_http",
    role: Role::Server,
    about: "Lesson 12: a small HTTP/1.1 server: a live page of who is connected, and files.",
    default_address: "127.0.0.1:65443",
    extra_usage: "[FOLDER] [HEADER_SECONDS] [MAX_CLIENTS]",
    max_extra_args: 3,
    try_it: "Open http://127.0.0.1:65443/ in a browser, or from another terminal:\n  \
             curl -v http://127.0.0.1:65443/hello.txt\n\n\
             FOLDER is where files come from (default lessons/12_http_site, from the course's\n\
             top folder); nothing outside it is served. HEADER_SECONDS (default 10) is how long\n\
             a request's head may take to arrive, and how long an idle connection stays open.\n\
             MAX_CLIENTS (default 64) is how many connections are served at once; the next\n\
             one is answered 503 and closed.",
};

// ANCHOR: parser
/// The request head: its parts, and the rules for where it ends.
mod request {
    use std::fmt;

    /// The most bytes a request head may have. Browsers send well under 2 KiB; 8 KiB is what
    /// many servers allow. Without a limit, a client that never sends the blank line would make
    /// the buffer grow until memory runs out.
    pub const MAX_HEAD_BYTES: usize = 8 * 1024;

    /// A request's head, parsed.
    #[derive(Debug)]
    pub struct Request {
        /// `GET`, `HEAD`, ...: case matters (`get` is not `GET`).
        pub method: String,
        /// What the request is for, as sent: `/hello.txt?x=1`.
        pub target: String,
        /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
        pub minor_version: u8,
        /// Each header's name (as sent) and value (spaces around it trimmed).
        pub headers: Vec<(String, String)>,
    }

    impl Request {
        /// The value of the first header called `name`, ignoring case, as HTTP says.
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(header, _)| header.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }

        /// The target without its query (`?...`).
        pub fn path(&self) -> &str {
            self.target.split(['?', '#']).next().unwrap_or_default()
        }

        /// HTTP/1.1 keeps the connection unless told `close`; 1.0 closes unless told
        /// `keep-alive`.
        pub fn keep_alive(&self) -> bool {
            let says = |word: &str| {
                self.header("Connection").is_some_and(|value| {
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

        /// Whether a body follows the head. This server reads none, so after one the next
        /// request's start is unknown and the connection must close.
        pub fn has_body(&self) -> bool {
            self.header("Transfer-Encoding").is_some()
                || self
                    .header("Content-Length")
                    .is_some_and(|length| length.trim() != "0")
        }
    }

    /// Why a head cannot be answered, each with its status code.
    #[derive(Debug, PartialEq)]
    pub enum Refusal {
        /// 400: not HTTP, or broken; says what was wrong.
        Malformed(&'static str),
        /// 431: no blank line within [`MAX_HEAD_BYTES`].
        TooLarge,
        /// 505: `HTTP/2.0` or anything but 1.0 and 1.1.
        Version,
    }

    impl Refusal {
        pub fn status(&self) -> u16 {
            match self {
                Refusal::Malformed(_) => 400,
                Refusal::TooLarge => 431,
                Refusal::Version => 505,
            }
        }
    }

    impl fmt::Display for Refusal {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Refusal::Malformed(why) => write!(f, "malformed request: {why}"),
                Refusal::TooLarge => write!(
                    f,
                    "the request's head is over {MAX_HEAD_BYTES} bytes with no blank line"
                ),
                Refusal::Version => write!(f, "this server speaks HTTP/1.0 and HTTP/1.1 only"),
            }
        }
    }

    /// Looks for a whole head at the start of `buffer`. `Ok(None)`: not all here yet, read
    /// more. `Ok(Some((request, length)))`: the head is the first `length` bytes.
    pub fn parse(buffer: &[u8]) -> Result<Option<(Request, usize)>, Refusal> {
        let Some(length) = head_length(buffer) else {
            return if buffer.len() >= MAX_HEAD_BYTES {
                Err(Refusal::TooLarge)
            } else {
                Ok(None)
            };
        };
        if length > MAX_HEAD_BYTES {
            return Err(Refusal::TooLarge);
        }
        let head = std::str::from_utf8(&buffer[..length])
            .map_err(|_| Refusal::Malformed("the head is not UTF-8 text"))?;
        // Lines end with CRLF; a bare LF is accepted too, as HTTP allows (and `nc` sends).
        let mut lines = head.split('\n').map(|line| line.trim_end_matches('\r'));
        let request_line = lines.next().unwrap_or_default();
        let mut request = parse_request_line(request_line)?;
        for line in lines.filter(|line| !line.is_empty()) {
            request.headers.push(parse_header(line)?);
        }
        Ok(Some((request, length)))
    }

    /// Where the head ends: just after the first empty line (`\r\n\r\n`, or `\n\n`).
    fn head_length(buffer: &[u8]) -> Option<usize> {
        let mut line_start = 0;
        for (index, byte) in buffer.iter().enumerate() {
            if *byte == b'\n' {
                let line = &buffer[line_start..index];
                if line.is_empty() || line == b"\r" {
                    // An empty line before the request line is allowed noise; after it, the end.
                    if line_start > 0 {
                        return Some(index + 1);
                    }
                }
                line_start = index + 1;
            }
        }
        None
    }

    /// `GET /hello.txt HTTP/1.1`: three parts, one space between each.
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
            _ if version.starts_with("HTTP/") => return Err(Refusal::Version),
            _ => return Err(Refusal::Malformed("the version is not HTTP/1.x")),
        };
        Ok(Request {
            method: method.to_string(),
            target: target.to_string(),
            minor_version,
            headers: Vec::new(),
        })
    }

    /// `Name: value`. A name has no spaces; a line starting with a space once continued the
    /// header above it, which HTTP/1.1 forbids now, so it is refused rather than guessed at.
    fn parse_header(line: &str) -> Result<(String, String), Refusal> {
        let Some((name, value)) = line.split_once(':') else {
            return Err(Refusal::Malformed("a header line has no colon"));
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(Refusal::Malformed("a header name is empty or has spaces"));
        }
        Ok((name.to_string(), value.trim().to_string()))
    }
}
// ANCHOR_END: parser
