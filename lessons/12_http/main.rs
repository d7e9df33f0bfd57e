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
//!
//! The machinery sits beside this file: `request.rs` parses heads by RFC 9112's rules,
//! `response.rs` writes answers, `files.rs` keeps paths inside FOLDER, `seats.rs` counts seats.

mod files;
mod log;
mod options;
mod request;
mod response;
mod seats;

use std::io::{self, ErrorKind, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

use request::{Refusal, Request};
use response::{Response, Writing};
use seats::{Places, Seat, Seats};

// ANCHOR: limits
/// How many connections are served at once, unless the command line says otherwise. A browser
/// opens several connections to one server (six is common) and keeps them open: seats are per
/// connection, not per person.
const MAX_CLIENTS: usize = 64;
/// How long the head of a request may take to arrive, counted from the moment the server starts
/// waiting for it; also how long a kept-alive connection may sit idle. A client that sends one
/// byte a second (the *slowloris* attack) is closed when this runs out, not kept for ever.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a newcomer who finds every seat taken has, at the door, to send a whole request.
/// Then it takes the seat of whoever has waited longest for a request (see `wait_at_the_door`).
const DOOR_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a connection must have waited for its next request before a newcomer may take its
/// seat: longer than the pause between two requests of a busy client (a round trip).
const MIN_IDLE: Duration = Duration::from_millis(250);
/// How often a newcomer at the door looks again while every seat is answering a request.
const DOOR_POLL: Duration = Duration::from_millis(10);
/// How many newcomers may wait at the door at once, each on a thread of its own for at most
/// DOOR_TIMEOUT: when it is full, a newcomer takes the place of whoever has waited there longest.
/// Also, apart, how many finished connections may be closed gently at once, for at most LINGER.
const MAX_AT_THE_DOOR: usize = 64;
/// How long one write of a response may wait for the client to read. A client that stops
/// reading must not hold its thread for ever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server waits, after its last response on a connection it is closing, for the
/// client to stop sending. See `close_gently`.
const LINGER: Duration = Duration::from_millis(500);
// ANCHOR_END: limits

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let folder = options::site_folder(args.extra.first())?;
    let header_timeout = options::header_timeout(args.extra.get(1), HEADER_TIMEOUT)?;
    let max_clients = options::max_clients(args.extra.get(2), MAX_CLIENTS)?;
    let writing = Writing::from_environment()?;
    let listener = course::listen::bind_with_backlog(args.address, course::listen::CROWD_BACKLOG)?;
    let local = listener.local_addr()?;
    println!("listening on {local}");
    println!(
        "open http://{local}/ in a browser; files come from {}",
        folder.display()
    );
    let site = Arc::new(Site {
        folder,
        header_timeout,
        door_timeout: header_timeout.min(DOOR_TIMEOUT),
        seats: Seats::new(max_clients),
        door: Seats::new(MAX_AT_THE_DOOR),
        closing: Places::new(MAX_AT_THE_DOOR),
        writing,
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
    /// See [`DOOR_TIMEOUT`]; never longer than `header_timeout`.
    door_timeout: Duration,
    /// Every connection being served; see [`MAX_CLIENTS`].
    seats: Arc<Seats>,
    /// Newcomers waiting at the door for a seat; see [`MAX_AT_THE_DOOR`].
    door: Arc<Seats>,
    /// Connections being closed gently; see [`MAX_AT_THE_DOOR`].
    closing: Arc<Places>,
    /// How responses are written (chapter 12 measures the choices).
    writing: Writing,
}

// ANCHOR: accept_loop
/// Gives every connection a seat and a thread. When the seats are all taken, a newcomer waits
/// at the door, on a thread of its own, for a short while; the door gives up places the way the
/// seats do, so that slow clients cannot fill it either.
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
        let site_for_thread = Arc::clone(site);
        if let Some(seat) = site.seats.take(peer, &stream) {
            log::line(format!("{peer} connected"));
            spawn(peer, move || {
                serve_client(stream, peer, seat, Vec::new(), None, &site_for_thread);
            });
        } else if let Ok((place, given_up)) =
            site.door
                .take_from_the_slowest(peer, &stream, false, Duration::ZERO)
        {
            let instead = given_up.map(|slowest| format!(", instead of {slowest}"));
            log::line(format!(
                "{peer} connected; every seat is taken: waiting at the door{}",
                instead.unwrap_or_default()
            ));
            spawn(peer, move || {
                wait_at_the_door(stream, peer, place, &site_for_thread);
            });
        } else {
            log::line(format!("{peer} turned away: no place at the door"));
            response::turn_away_at_once(stream);
        }
    }
}
// ANCHOR_END: accept_loop

/// Starts a client's thread. If the system refuses one, `work` is dropped unrun, and with it
/// the connection and its seat.
fn spawn(peer: SocketAddr, work: impl FnOnce() + Send + 'static) {
    let spawned = thread::Builder::new()
        .name(format!("client {peer}"))
        .spawn(work);
    if let Err(error) = spawned {
        eprintln!("cannot start a thread for {peer}: {error}");
    }
}

// ANCHOR: door
/// A newcomer who found every seat taken. If its whole request arrives within the door's short
/// deadline, it takes the seat of the connection that has waited longest for a request, and at
/// least MIN_IDLE: an idle kept-alive connection, or a slow client still dribbling its head. A
/// slow client at the door never finishes its head, so it never takes anyone's seat.
fn wait_at_the_door(mut stream: TcpStream, peer: SocketAddr, place: Seat, site: &Site) {
    let mut buffer = Vec::new();
    let deadline = Instant::now() + site.door_timeout;
    let request = match read_request(&mut stream, &mut buffer, deadline) {
        Ok(Arrival::Request(request)) => request,
        Ok(Arrival::Refused(refusal)) => return refuse(stream, peer, &refusal, site),
        Ok(Arrival::TooSlow) if !request::nothing_yet(&buffer) => {
            log::line(format!(
                "{peer} turned away: no whole request at the door within {:?}",
                site.door_timeout
            ));
            return turn_away(stream, site);
        }
        Ok(Arrival::Closed | Arrival::TooSlow) | Err(_) => return,
    };
    // Its request is read: from now on, newer arrivals cannot push it out of the door (they
    // push out whoever is still sending). If one just did, its connection is closed already.
    if !place.answering() {
        return;
    }
    log::line(format!(
        "{peer} has a whole request at the door: waiting for a seat"
    ));
    let (seat, given_up) = loop {
        match site
            .seats
            .take_from_the_slowest(peer, &stream, true, MIN_IDLE)
        {
            Ok(taken) => break taken,
            // A seat will soon be idle long enough, or soon done answering: wait, within time.
            Err(Some(wait)) if Instant::now() + wait < deadline => thread::sleep(wait),
            Err(None) if Instant::now() + DOOR_POLL < deadline => thread::sleep(DOOR_POLL),
            Err(_) => {
                log::line(format!("{peer} turned away: no seat is idle"));
                return turn_away(stream, site);
            }
        }
    };
    if let Some(slowest) = given_up {
        log::line(format!(
            "{peer} takes the seat of {slowest}, which waited longest for a request"
        ));
    }
    drop(place);
    serve_client(stream, peer, seat, buffer, Some(request), site);
}
// ANCHOR_END: door

// ANCHOR: turn_away
/// Answers 503 to a newcomer whose request was read at the door, and closes gently, so that
/// the answer arrives whole: closing with the request unread would send a reset instead.
fn turn_away(mut stream: TcpStream, site: &Site) {
    let response = Response::text(503, "Every seat is taken: try again in a moment.")
        .with_header("Retry-After", "1");
    if stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_ok() {
        let _ = response.send(&mut stream, false, false, site.writing);
    }
    close_gently(stream, site);
}
// ANCHOR_END: turn_away

/// Runs on the client's own thread: serves its requests, then frees its seat before closing.
fn serve_client(
    mut stream: TcpStream,
    peer: SocketAddr,
    seat: Seat,
    buffer: Vec<u8>,
    first: Option<Request>,
    site: &Site,
) {
    let ending = serve_requests(&mut stream, peer, &seat, buffer, first, site);
    let given_away = seat.given_away();
    // The seat is free the moment the server is done with the connection, before the linger.
    drop(seat);
    match ending {
        _ if given_away => log::line(format!("{peer} closed: its seat went to a newcomer")),
        Ok(Ending::Closed) => log::line(format!("{peer} disconnected")),
        Ok(Ending::Done) => {
            close_gently(stream, site);
            log::line(format!("{peer} served; connection closed"));
        }
        Ok(Ending::Idle) => log::line(format!("{peer} idle for {:?}: closed", site.header_timeout)),
        Ok(Ending::TooSlow) => {
            let response = Response::text(408, "The request's head did not arrive in time.");
            let _ = response.send(&mut stream, false, false, site.writing);
            close_gently(stream, site);
            log::line(format!(
                "{peer} sent no whole request within {:?}: 408, closed",
                site.header_timeout
            ));
        }
        Err(error) => log::line(format!("{peer} disconnected abruptly: {error:#}")),
    }
}

/// How a connection ended, when nothing failed.
enum Ending {
    /// The client closed it between requests.
    Closed,
    /// The server is closing it: the client asked to, or its request was refused.
    Done,
    /// It sat idle, with no request begun, for the whole header timeout.
    Idle,
    /// A request's head began, and did not end in time.
    TooSlow,
}

// ANCHOR: keep_alive
/// Reads requests one after another on one connection and answers each: HTTP/1.1 keeps the
/// connection open unless someone says `Connection: close`. Bytes after one request's head are
/// the start of the next (a client may send several before reading: *pipelining*), so they stay
/// in `buffer`. `first` is a request already read at the door.
fn serve_requests(
    stream: &mut TcpStream,
    peer: SocketAddr,
    seat: &Seat,
    mut buffer: Vec<u8>,
    mut first: Option<Request>,
    site: &Site,
) -> anyhow::Result<Ending> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    if site.writing.nodelay {
        stream.set_nodelay(true)?;
    }
    loop {
        let request = match first.take() {
            Some(request) => request,
            None => {
                seat.waiting();
                let deadline = Instant::now() + site.header_timeout;
                let request = match read_request(stream, &mut buffer, deadline)? {
                    Arrival::Request(request) => request,
                    Arrival::Closed => return Ok(Ending::Closed),
                    Arrival::TooSlow if request::nothing_yet(&buffer) => return Ok(Ending::Idle),
                    Arrival::TooSlow => return Ok(Ending::TooSlow),
                    Arrival::Refused(refusal) => {
                        let response = Response::text(refusal.status(), &refusal.to_string());
                        log::line(format!(
                            "{peer} refused with {}: {refusal}",
                            response.status
                        ));
                        response.send(stream, false, false, site.writing)?;
                        return Ok(Ending::Done);
                    }
                };
                if !seat.answering() {
                    return Ok(Ending::Closed); // the seat went to a newcomer meanwhile
                }
                request
            }
        };
        // After a body this server does not read, the next request's start is unknown.
        let keep_alive = request.keep_alive() && !request.has_body();
        let response = respond(&request, seat.number, site);
        // The target is the client's text: escaped, it cannot send control codes to a terminal.
        log::line(format!(
            "{peer} {} {} -> {}",
            request.method,
            request.target.escape_debug(),
            response.status
        ));
        response.send(stream, request.method == "HEAD", keep_alive, site.writing)?;
        if !keep_alive {
            return Ok(Ending::Done);
        }
    }
}
// ANCHOR_END: keep_alive

/// Answers a refused head and closes: after one, where the next request starts is unknown.
fn refuse(mut stream: TcpStream, peer: SocketAddr, refusal: &Refusal, site: &Site) {
    log::line(format!(
        "{peer} refused with {}: {refusal}",
        refusal.status()
    ));
    let response = Response::text(refusal.status(), &refusal.to_string());
    if stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_ok() {
        let _ = response.send(&mut stream, false, false, site.writing);
    }
    close_gently(stream, site);
}

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
    let mut chunk = [0; 4096];
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
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Arrival::TooSlow);
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut chunk) {
            Ok(0) if request::nothing_yet(buffer) => return Ok(Arrival::Closed),
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

// ANCHOR: close_gently
/// Closes a connection so that the last response reaches the client. Closing a socket with
/// unread bytes in it makes the system send a *reset*: what the server had not yet sent is lost,
/// and what had arrived may be erased before the client reads it (RFC 9112, section 9.6). So: say we are done sending (`shutdown`), then
/// read and drop whatever the client still sends, until it closes too or LINGER passes. When
/// [`MAX_AT_THE_DOOR`] connections are already lingering, this one closes at once.
fn close_gently(mut stream: TcpStream, site: &Site) {
    let _ = stream.shutdown(Shutdown::Write);
    let Some(_place) = site.closing.take() else {
        return;
    };
    let until = Instant::now() + LINGER;
    let mut sink = [0; 4096];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) => return,
            Err(error) if error.kind() != ErrorKind::Interrupted => return,
            _ => {}
        }
    }
}
// ANCHOR_END: close_gently

// ANCHOR: respond
/// Decides the answer to one request: the live page, a file, or why not.
fn respond(request: &Request, number: u64, site: &Site) -> Response {
    match request.method.as_str() {
        "GET" | "HEAD" => {}
        "POST" | "PUT" | "DELETE" | "CONNECT" | "OPTIONS" | "TRACE" | "PATCH" => {
            return Response::text(405, "this server only answers GET and HEAD")
                .with_header("Allow", "GET, HEAD");
        }
        // A method nobody here has heard of (RFC 9110 §9.1).
        _ => return Response::text(501, "this server knows no such method"),
    }
    if request.has_body() {
        return Response::text(400, "a GET or HEAD request has no body here");
    }
    if request.path() == "/" {
        return Response::html(live_page(number, site));
    }
    match files::file_path(&site.folder, request.path()) {
        Ok(path) => files::serve_file(&path, &site.folder),
        Err(status) => Response::status(status),
    }
}
// ANCHOR_END: respond

// ANCHOR: live_page
/// The page at `/`: every open connection, this one marked. Load it in a browser and you see
/// the browser's own connections, often more than one.
fn live_page(number: u64, site: &Site) -> String {
    let rows: String = site
        .seats
        .rows()
        .iter()
        .map(|row| {
            format!(
                "<tr{}><td>{}</td><td>{}</td><td>{} s</td><td>{}</td></tr>\n",
                if row.number == number {
                    " class=\"you\""
                } else {
                    ""
                },
                row.number,
                row.peer,
                row.connected_for.as_secs(),
                row.requests,
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
             top folder); nothing outside it is served. HEADER_SECONDS (default 10, at most 3600) is how long\n\
             a request's head may take to arrive, and how long an idle connection stays open.\n\
             MAX_CLIENTS (default 64) is how many connections are served at once; when all are\n\
             taken, a newcomer's whole request takes the seat of whoever waited longest for one.",
};
