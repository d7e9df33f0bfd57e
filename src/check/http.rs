//! The check for exercise 12: a small HTTP/1.1 server that reads its requests however they
//! arrive.
//!
//! The scripted clients send requests every way a network may deliver them, in an order that
//! makes each classic mistake fail at its own step, so the verdict can name it:
//!
//! 1. A sends a request in one write (anyone passes), then the same request **one byte per
//!    write**, on the same connection: a server that takes one read to be one request fails here.
//! 2. B sends **three requests in one write** (pipelining): a server that throws away what
//!    follows a head fails here.
//! 3. C sends requests cut up by the harness's shaper (see [`super::shaper`]).
//! 4. D asks for `Connection: close`: a server that does not read the headers fails here. S
//!    sends the Hosts browsers send (an address and a port, IPv6's in brackets, a name with dots
//!    and a hyphen): a check_host that allows too few characters fails here.
//! 5. O sends DELETE (405), then HTTP/1.0 without Host (200, then a close); P a head of exactly
//!    [`MAX_HEAD_BYTES`] (200) and one of a byte more (431); Q a request with a body (200, then
//!    a close: this server reads no body).
//! 6. The bad inputs, each on a connection of its own: not HTTP (400), a header without a colon
//!    (400), a method in small letters (400), two spaces after the method (400), a space or a
//!    tab in a header's name (400), a version that is not HTTP/1.x (400), headers that never end (431),
//!    a head of exactly MAX_HEAD_BYTES with no blank line, after which the client waits (431 at
//!    once: it can only be longer), and a target that does not start with `/` (1, 400).
//! 7. What RFC 9112 says a server MUST refuse (400, then close), each on a connection of its
//!    own: an HTTP/1.1 request without `Host` (I), an HTTP/1.0 one with the same two (J: the rule
//!    holds for every version, and for a Host said twice), an HTTP/1.1 one with two in different
//!    cases (X), with an invalid one (K), a `Content-Length` that is not a number (2: `abc`; 3:
//!    `+0`, which `u64::from_str` takes), and two `Content-Length`s that differ, with a second
//!    request smuggled behind the first (L).
//! 8. R sends a bad request with 64 KiB behind it: the connection must close, not be reset.
//! 9. M sends half a request and hangs up; N must still be served.
//! 10. W, quiet after its answer, must be closed without a word; V sends one byte every 100 ms
//!     and never ends its head: it must get 408 once the header timeout (1 s here) is up, not
//!     before, and then the close.
//!
//! What the server answers is fixed by the exercise's own code (`respond` and `send`), so the
//! check compares status lines (the code and its RFC 9110 reason phrase), bodies (a refusal's
//! must say something) and the `Connection` header, not the whole bytes.
//!
//! # The input space, and what covers it
//!
//! - How requests are cut: whole, one byte per write, three in one write (pipelining), cut by the
//!   shaper, half a request and a hang-up.
//! - What they hold: GET, HEAD, DELETE and an unknown target; HTTP/1.1 and HTTP/1.0;
//!   `Connection: close`; a body; Hosts valid (`127.0.0.1:65442`, `[::1]:65442`, a name with
//!   `.` and `-`) and not (none, two, two in different cases, one with a `/`); bad request lines
//!   (not HTTP, a method in small letters, two spaces for one),
//!   headers without a colon or with a space or a tab in the name, versions that are not
//!   HTTP/1.x.
//! - The head's limit: exactly [`MAX_HEAD_BYTES`] (served), one byte over with its blank line
//!   (431), exactly the limit with no blank line yet (431 at once), and far past it with no
//!   blank line (431).
//! - How connections end: closed by the server after a refusal, `Connection: close`, HTTP/1.0
//!   or a body, and never reset, even with bytes unread behind a refusal; half a request and a
//!   hang-up.
//! - Time: the head's deadline, whole (V, which keeps sending and must still be cut off), and a
//!   quiet kept-alive connection (W).
//! - Not covered: connections over IPv6 (the program is started on `127.0.0.1:0`; an IPv6
//!   address in a `Host` header is covered, by S).

use std::io::Write;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use super::peer::{self, End};
use super::shaper::Shaper;
use super::{Advice, Check, Exercise, Played, Program, Transcript};

pub const EXERCISE: Exercise = Exercise {
    id: "12_http",
    title: "the HTTP server that reads whole requests",
    chapter: "book/src/12-http.md",
};

/// How long a scripted client waits for a response. A correct server answers in milliseconds;
/// one still waiting for the rest of a head answers 408 once [`HEADER_TIMEOUT`] has run out,
/// well within this, so that what a client receives never depends on which comes first.
const PATIENCE: Duration = Duration::from_secs(3);

/// The header timeout the check gives the server, after its address: how long a request's head
/// may take to arrive, and a kept-alive connection may sit quiet.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(1);

/// How long client R, whose bytes the server left unread, watches for a reset after the end of
/// the stream. A server that closes with bytes unread sends it at once, right behind the end.
const RESET_WAIT: Duration = Duration::from_millis(300);

/// How long past [`HEADER_TIMEOUT`] the check waits for the server to act on it.
const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// A correct server cannot answer 408 before its deadline, which starts once the client has
/// connected: an answer sooner than this after connecting comes from a shorter one.
const TOO_SOON: Duration = Duration::from_millis(900);

/// The pause between the slow client's bytes: far under [`HEADER_TIMEOUT`], so that a timeout
/// counted afresh for each read never runs out.
const TRICKLE_EVERY: Duration = Duration::from_millis(100);

/// The most bytes a head may have: `MAX_HEAD_BYTES` in the exercise and the lesson.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// The request most steps send.
const HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: check\r\nAccept: */*\r\n\r\n";

/// A request with two lengths, 0 and 38, and the 38 bytes after it: a second request.
const SMUGGLED: &[u8] = b"GET /hello HTTP/1.1\r\nHost: check\r\nContent-Length: 0\r\n\
                          Content-Length: 38\r\n\r\nGET /missing HTTP/1.1\r\nHost: check\r\n\r\n";

/// What the server must answer to `GET /hello`.
const HELLO_BODY: &[u8] = b"hello\n";

/// The pause between two one-byte writes, so each surely leaves in a packet of its own.
const BYTE_PAUSE: Duration = Duration::from_millis(1);

/// The check, for [`super::run`].
pub struct Http;

/// Exercise 12's check.
pub const CHECK: Http = Http;

impl Check for Http {
    fn exercise(&self) -> Exercise {
        EXERCISE
    }

    fn program_args(&self) -> Vec<String> {
        vec![HEADER_TIMEOUT.as_secs_f64().to_string()]
    }

    fn advice(&self) -> Advice {
        Advice {
            on_panic: "A request that is broken or cut off is the client's problem: answer it \
                       or close its connection, never panic.",
        }
    }

    fn play(&self, program: &mut Program) -> Played {
        let mut transcript = Transcript::default();
        let seed = Shaper::seed_for_this_run();
        let mut shaper = Shaper::new(seed);
        let stop = play(program.address(), &mut transcript, &mut shaper).err();
        Played {
            transcript,
            stop,
            seed: shaper.was_used().then_some(seed),
            end_judged: false,
        }
    }
}

/// A scripted client: its name, its connection (the harness's one scripted client), and what
/// it has read but not yet used.
struct Client {
    name: char,
    peer: peer::Client,
    unread: Vec<u8>,
}

/// One response, as far as the check cares.
#[derive(Debug, PartialEq)]
struct Response {
    status: u16,
    /// The status line's reason phrase, as in `Not Found`.
    reason: String,
    /// The `Connection` header's value, if any.
    connection: Option<String>,
    body: Vec<u8>,
}

/// What came back when a client waited for a response.
enum Got {
    Response(Response),
    /// These bytes, and then nothing more within [`PATIENCE`] (maybe none at all).
    Stalled(Vec<u8>),
    /// These bytes, and then the connection closed.
    Closed(Vec<u8>),
    /// Bytes that are not an HTTP response.
    Garbage(Vec<u8>),
}

impl Client {
    fn connect(
        server: SocketAddr,
        name: char,
        transcript: &mut Transcript,
    ) -> Result<Client, String> {
        let peer = peer::Client::connect(server).map_err(|_| {
            format!("Client {name} could not connect: is your server accepting connections?")
        })?;
        transcript.push(format!("{name} connects"));
        Ok(Client {
            name,
            peer,
            unread: Vec::new(),
        })
    }

    /// Sends `bytes` in one write.
    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.peer
            .stream
            .write_all(bytes)
            .map_err(|error| self.could_not_send(&error))
    }

    /// Sends `bytes` one byte per write, each in a packet of its own.
    fn send_byte_by_byte(&mut self, bytes: &[u8]) -> Result<(), String> {
        let _ = self.peer.stream.set_nodelay(true);
        for byte in bytes {
            self.send(&[*byte])?;
            thread::sleep(BYTE_PAUSE);
        }
        Ok(())
    }

    /// Sends `bytes` through the shaper: whole, or cut into pieces.
    /// Sends `bytes` cut into pieces, always (the transcript says so, whatever the seed).
    fn send_in_pieces(&mut self, bytes: &[u8], shaper: &mut Shaper) -> Result<(), String> {
        shaper
            .write_in_pieces(&self.peer.stream, bytes)
            .map_err(|error| self.could_not_send(&error))
    }

    fn could_not_send(&self, error: &std::io::Error) -> String {
        format!(
            "Client {} could not send its request ({}): did your server close the connection \
             early?",
            self.name,
            error.kind()
        )
    }

    /// Sends one byte every [`TRICKLE_EVERY`] (a head that never ends) until a response has come
    /// or the connection ends, but for no longer than `until`; then what came, as `receive`.
    fn trickle(&mut self, until: Instant) -> Got {
        loop {
            if self.unread.is_empty() && self.peer.stream.write_all(b"x").is_err() {
                return Got::Closed(Vec::new());
            }
            let next = (Instant::now() + TRICKLE_EVERY).min(until);
            match self.peer.read_some(next) {
                Ok(bytes) => self.unread.extend_from_slice(&bytes),
                Err(End::Timeout) => {}
                Err(End::Closed | End::Failed(_)) => {
                    return Got::Closed(std::mem::take(&mut self.unread));
                }
            }
            if let Some(got) = self.take_response(false) {
                return got;
            }
            if Instant::now() >= until {
                return Got::Stalled(std::mem::take(&mut self.unread));
            }
        }
    }

    /// A whole response, taken out of what was read, or bytes that cannot start one; `None`
    /// while only part of a response has come.
    fn take_response(&mut self, head_only: bool) -> Option<Got> {
        match parse_response(&self.unread, head_only) {
            Parsed::Whole(response, length) => {
                self.unread.drain(..length);
                Some(Got::Response(response))
            }
            Parsed::Garbage => Some(Got::Garbage(std::mem::take(&mut self.unread))),
            Parsed::Partial => None,
        }
    }

    /// After [`receive_close`](Client::receive_close) saw the end: whether a reset followed it
    /// within [`RESET_WAIT`]. A server that shuts down its side and then closes with the
    /// client's bytes unread sends the end of the stream and then a reset; a read after the end
    /// says nothing more, but the socket's pending error (`take_error`) shows the reset.
    fn reset_after_the_end(&self) -> Option<String> {
        let until = Instant::now() + RESET_WAIT;
        loop {
            if let Ok(Some(error)) = self.peer.stream.take_error() {
                return Some(peer::describe_error(&error));
            }
            if Instant::now() >= until {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Reads one response; `head_only` for the answer to HEAD, which has no body.
    fn receive(&mut self, head_only: bool) -> Got {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(got) = self.take_response(head_only) {
                return got;
            }
            match self.peer.read_some(deadline) {
                Ok(bytes) => self.unread.extend_from_slice(&bytes),
                Err(End::Timeout) => return Got::Stalled(std::mem::take(&mut self.unread)),
                // A reset: the connection is over, rudely.
                Err(End::Closed | End::Failed(_)) => {
                    return Got::Closed(std::mem::take(&mut self.unread));
                }
            }
        }
    }

    /// Waits for the server to close the connection. `Err` with the verdict if it does not, or
    /// if the connection was reset instead (`said` is what the client sent, `got` what it got).
    fn receive_close(&mut self, said: &str, got: &str) -> Result<(), String> {
        let name = self.name;
        let what = match self.peer.read_some(Instant::now() + PATIENCE) {
            Err(End::Closed) => return Ok(()),
            Err(End::Failed(how)) => {
                return Err(format!(
                    "Client {name} sent {said}, received {got}, and then its connection was \
                     reset ({how}) instead of closed. A server that closes a connection with \
                     the client's bytes still unread makes the system reset it, and a reset can \
                     destroy a response the client has not read yet. Is close_gently still as \
                     given (stop sending, read and drop what the client still sends, then \
                     close)?"
                ));
            }
            Ok(bytes) => format!("received {:?} more", String::from_utf8_lossy(&bytes)),
            Err(End::Timeout) => {
                format!("its connection stayed open for {} ms", PATIENCE.as_millis())
            }
        };
        Err(format!(
            "Client {name} sent {said}, received {got}, and then {what}, where the server should \
             close the connection."
        ))
    }
}

enum Parsed {
    Whole(Response, usize),
    Partial,
    Garbage,
}

/// Reads a response from the start of `bytes`, if a whole one is there.
fn parse_response(bytes: &[u8], head_only: bool) -> Parsed {
    if bytes.len() >= 5 && !bytes.starts_with(b"HTTP/") {
        return Parsed::Garbage;
    }
    let Some(end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") else {
        return Parsed::Partial;
    };
    let Ok(head) = std::str::from_utf8(&bytes[..end]) else {
        return Parsed::Garbage;
    };
    let mut lines = head.split("\r\n");
    let mut status_line = lines.next().unwrap_or_default().splitn(3, ' ');
    let status = status_line.nth(1).and_then(|code| code.parse().ok());
    let Some(status) = status else {
        return Parsed::Garbage;
    };
    let reason = status_line.next().unwrap_or_default().to_string();
    let mut length = None;
    let mut connection = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Parsed::Garbage;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("Content-Length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("Connection") {
            connection = Some(value.to_ascii_lowercase());
        }
    }
    let Some(length) = length else {
        return Parsed::Garbage;
    };
    let body_length = if head_only { 0 } else { length };
    let total = end + 4 + body_length;
    if bytes.len() < total {
        return Parsed::Partial;
    }
    Parsed::Whole(
        Response {
            status,
            reason,
            connection,
            body: bytes[end + 4..total].to_vec(),
        },
        total,
    )
}

/// How a response reads in the transcript: `200 "hello\n"`.
fn describe(response: &Response) -> String {
    if response.body.is_empty() {
        format!("{} with no body", response.status)
    } else {
        format!(
            "{} {:?}",
            response.status,
            String::from_utf8_lossy(&response.body)
        )
    }
}

/// What arrived, for a verdict's first sentence.
fn describe_got(got: &Got) -> String {
    let shown = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]).into_owned();
        if bytes.len() > 120 {
            format!("{text:?}...")
        } else {
            format!("{text:?}")
        }
    };
    match got {
        Got::Response(response) => format!("a response {}", describe(response)),
        Got::Stalled(bytes) if bytes.is_empty() => {
            format!("nothing within {} ms", PATIENCE.as_millis())
        }
        Got::Stalled(bytes) => format!(
            "{} and then nothing more within {} ms",
            shown(bytes),
            PATIENCE.as_millis()
        ),
        Got::Closed(bytes) if bytes.is_empty() => "no response: the connection closed".to_string(),
        Got::Closed(bytes) => format!("{} and then the connection closed", shown(bytes)),
        Got::Garbage(bytes) => format!("{}, which is not an HTTP response", shown(bytes)),
    }
}

/// Waits for `client`'s next response, which must have `status` and `body` (`None`: any body,
/// as for a refusal, whose words are the server's own). Writes it down; `Err` with the verdict
/// (what arrived, then `if_wrong`) if it is something else.
fn expect(
    client: &mut Client,
    transcript: &mut Transcript,
    what_was_sent: &str,
    status: u16,
    body: Option<&[u8]>,
    head_only: bool,
    if_wrong: &str,
) -> Result<Response, String> {
    let got = client.receive(head_only);
    let wanted = match body {
        Some(body) if !body.is_empty() => {
            format!("{status} {:?}", String::from_utf8_lossy(body))
        }
        Some(_) => format!("{status} with no body"),
        None => format!("{status}"),
    };
    if let Got::Response(response) = got {
        if response.status == status && response.reason != reason_phrase(status) {
            transcript.push(format!(
                "{} receives the status line HTTP/1.1 {status} {}",
                client.name, response.reason
            ));
            return Err(format!(
                "Client {} sent {what_was_sent} and received the status line \"HTTP/1.1 \
                 {status} {}\" where \"HTTP/1.1 {status} {}\" was expected. The reason phrase \
                 after the code is the one the standard gives it (RFC 9110 section 15; RFC 6585 \
                 for 431), which the exercise's send() writes: is send() still as given?",
                client.name,
                response.reason,
                reason_phrase(status)
            ));
        }
        if response.status == status && body.is_none_or(|body| body == response.body) {
            let line = match body {
                None => format!("{} receives {status}", client.name),
                Some(_) => format!("{} receives {}", client.name, describe(&response)),
            };
            transcript.push(line);
            return Ok(response);
        }
        let got = Got::Response(response);
        transcript.push(format!("{} receives {}", client.name, describe_got(&got)));
        return Err(format!(
            "Client {} sent {what_was_sent} and received {} where {wanted} was expected.\n\
             {if_wrong}",
            client.name,
            describe_got(&got)
        ));
    }
    transcript.push(format!("{} receives {}", client.name, describe_got(&got)));
    // Bytes that do not start a response say more than the step's own guess: something was
    // sent that no response holds.
    let guess = match &got {
        Got::Garbage(_) => NOT_A_RESPONSE,
        _ => if_wrong,
    };
    Err(format!(
        "Client {} sent {what_was_sent} and received {} where a response {wanted} was \
         expected.\n{guess}",
        client.name,
        describe_got(&got)
    ))
}

/// After `response` to `what`, the server must close: the response says `Connection: close`,
/// and the connection then closes. `if_kept` is the likely mistake when it does not.
fn closes_after(
    client: &mut Client,
    transcript: &mut Transcript,
    what: &str,
    response: &Response,
    if_kept: &str,
) -> Result<(), String> {
    let name = client.name;
    if response.connection.as_deref() != Some("close") {
        return Err(format!(
            "Client {name} sent {what} and received a response with Connection: {} where \
             Connection: close was expected. {if_kept}",
            response.connection.as_deref().unwrap_or("(none)")
        ));
    }
    if let Err(verdict) = client.receive_close(what, "its response") {
        transcript.push(format!("{name}'s connection does not close as it should"));
        return Err(verdict);
    }
    transcript.push(format!("{name} sees the server close the connection"));
    Ok(())
}

/// `what` must be refused with `status`, a body that says why, and then a close.
fn refused(
    client: &mut Client,
    transcript: &mut Transcript,
    what: &str,
    status: u16,
    if_wrong: &str,
) -> Result<(), String> {
    let name = client.name;
    let response = expect(client, transcript, what, status, None, false, if_wrong)?;
    if response.body.is_empty() {
        return Err(format!(
            "Client {name} sent {what} and received {status} with no body: a refusal says what \
             was wrong, in its body (the given Refusal's Display writes it). Is send() given \
             refusal.to_string()?"
        ));
    }
    if let Err(verdict) = client.receive_close(what, &status.to_string()) {
        transcript.push(format!("{name}'s connection does not close as it should"));
        return Err(format!(
            "{verdict}\nAfter a refused request the server cannot tell where the next one \
             starts, so it must close the connection."
        ));
    }
    transcript.push(format!("{name} sees the server close the connection"));
    Ok(())
}

/// A `GET /hello` whose head, blank line included, is `length` bytes long (padded with a header).
fn head_of(length: usize) -> Vec<u8> {
    let start = b"GET /hello HTTP/1.1\r\nHost: check\r\nX-Padding: ";
    let mut head = start.to_vec();
    head.resize(length - 4, b'x');
    head.extend_from_slice(b"\r\n\r\n");
    head
}

/// The reason phrase RFC 9110 (section 15) gives each status code this server sends; 431 is
/// RFC 6585's (section 5).
fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "",
    }
}

const NOT_A_RESPONSE: &str = "Where a response should start (with \"HTTP/\"), other bytes came: \
                              was a body sent where none belongs (the answer to HEAD has none), \
                              or more of it than its Content-Length says?";

/// For a pipelined request whose answer was wrong: if an answer came at all, the request's
/// bytes were kept and read, and the mistake is elsewhere.
fn pipelined(result: Result<Response, String>, leftovers: &str) -> Result<Response, String> {
    result.map_err(|verdict| match verdict.split_once('\n') {
        Some((what_arrived, guess))
            if guess == leftovers && what_arrived.contains("received a response") =>
        {
            format!(
                "{what_arrived}\nThat request was read and answered, so its bytes were kept; \
                 but not with the answer it asked for: is each request answered for its own \
                 method and target (HEAD: GET's head, without the body; a target that does not \
                 exist: 404)?"
            )
        }
        _ => verdict,
    })
}

const ONE_READ: &str = "Does your read_request take one read() to be one whole request? TCP is \
                        a stream of bytes: a read returns whatever has arrived, perhaps one \
                        byte of the head. Keep reading into the buffer until it holds the blank \
                        line that ends the head.";

/// Plays every client, writing down what happened.
fn play(
    server: SocketAddr,
    transcript: &mut Transcript,
    shaper: &mut Shaper,
) -> Result<(), String> {
    let hello = Some(HELLO_BODY);

    let mut a = Client::connect(server, 'A', transcript)?;
    a.send(HELLO)?;
    transcript.push("A sends GET /hello in one write");
    expect(
        &mut a,
        transcript,
        "GET /hello in one write",
        200,
        hello,
        false,
        "Does your server answer GET /hello with the exercise's respond() and send()?",
    )?;
    a.send_byte_by_byte(HELLO)?;
    transcript.push("A sends GET /hello again, one byte per write");
    expect(
        &mut a,
        transcript,
        "GET /hello one byte per write (on the same connection, after its first request)",
        200,
        hello,
        false,
        ONE_READ,
    )?;
    drop(a);

    let mut b = Client::connect(server, 'B', transcript)?;
    b.send(
        b"GET /hello HTTP/1.1\r\nHost: check\r\n\r\n\
          HEAD /hello HTTP/1.1\r\nHost: check\r\n\r\n\
          GET /missing HTTP/1.1\r\nHost: check\r\n\r\n",
    )?;
    transcript.push("B sends three requests in one write: GET /hello, HEAD /hello, GET /missing");
    let three = "three requests in one write (GET /hello, HEAD /hello, GET /missing)";
    let leftovers = "Does your read_request keep the bytes after a request's head in the buffer? \
                     They are the start of the next request: a client may send several before \
                     reading any answer (pipelining).";
    expect(&mut b, transcript, three, 200, hello, false, ONE_READ)?;
    pipelined(
        expect(&mut b, transcript, three, 200, Some(b""), true, leftovers),
        leftovers,
    )?;
    pipelined(
        expect(&mut b, transcript, three, 404, None, false, leftovers),
        leftovers,
    )?;
    drop(b);

    let mut c = Client::connect(server, 'C', transcript)?;
    for _ in 0..3 {
        c.send_in_pieces(HELLO, shaper)?;
        transcript.push("C sends GET /hello, cut into pieces on its way");
        expect(
            &mut c,
            transcript,
            "GET /hello, cut into pieces on its way (as a network may cut it)",
            200,
            hello,
            false,
            ONE_READ,
        )?;
    }
    drop(c);

    let mut d = Client::connect(server, 'D', transcript)?;
    d.send(b"GET /hello HTTP/1.1\r\nHost: check\r\nConnection: close\r\n\r\n")?;
    transcript.push("D sends GET /hello with the header Connection: close");
    let closing = "GET /hello with the header Connection: close";
    let response = expect(
        &mut d,
        transcript,
        closing,
        200,
        hello,
        false,
        "Does your server answer GET /hello with the exercise's respond() and send()?",
    )?;
    closes_after(
        &mut d,
        transcript,
        closing,
        &response,
        "Does your request::parse read the headers into request.headers? keep_alive() looks \
         for Connection there.",
    )?;
    drop(d);

    // The Hosts browsers and tools really send: an address and a port, IPv6 loopback's address in
    // brackets, a name with dots and a hyphen. A check_host that allows too few characters
    // refuses them, and every browser with them.
    let mut s = Client::connect(server, 'S', transcript)?;
    for host in ["127.0.0.1:65442", "[::1]:65442", "www.example-site.test"] {
        s.send(format!("GET /hello HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())?;
        transcript.push(format!("S sends GET /hello with Host: {host}"));
        expect(
            &mut s,
            transcript,
            &format!("GET /hello with the header Host: {host}"),
            200,
            hello,
            false,
            "Does your check_host refuse a Host that is valid? A browser sends the address and \
             port it was given (Host: 127.0.0.1:8080), an IPv6 address in brackets \
             (Host: [::1]:8080), or a name with dots and hyphens: letters, digits and `-.:[]_~` \
             all belong in one.",
        )?;
    }
    drop(s);

    let mut o = Client::connect(server, 'O', transcript)?;
    o.send(b"DELETE /hello HTTP/1.1\r\nHost: check\r\n\r\n")?;
    transcript.push("O sends DELETE /hello");
    expect(
        &mut o,
        transcript,
        "DELETE /hello",
        405,
        None,
        false,
        "Does your request::parse take any word in capitals as a method? respond() answers the \
         methods this server does not serve with 405.",
    )?;
    o.send(b"GET /hello HTTP/1.0\r\n\r\n")?;
    transcript.push("O sends GET /hello HTTP/1.0, with no Host header");
    let old =
        "GET /hello HTTP/1.0 with no Host header (after DELETE /hello, on the same connection)";
    let response = expect(
        &mut o,
        transcript,
        old,
        200,
        hello,
        false,
        "Does your request::parse accept HTTP/1.0 as well as HTTP/1.1, and does your check_host \
         ask for a Host only in HTTP/1.1 (RFC 9112 section 3.2)? HTTP/1.0 has no such rule.",
    )?;
    closes_after(
        &mut o,
        transcript,
        old,
        &response,
        "An HTTP/1.0 connection closes unless the request says Connection: keep-alive: does \
         your request::parse set minor_version to 0 for HTTP/1.0?",
    )?;
    drop(o);

    // The limit's two sides: a head of exactly MAX_HEAD_BYTES, blank line included, is served;
    // one byte more is refused, though its blank line has come.
    let mut p = Client::connect(server, 'P', transcript)?;
    p.send(&head_of(MAX_HEAD_BYTES))?;
    transcript.push(format!(
        "P sends GET /hello with a head of exactly MAX_HEAD_BYTES ({MAX_HEAD_BYTES} bytes, the \
         blank line included)"
    ));
    expect(
        &mut p,
        transcript,
        &format!("GET /hello with a head of exactly MAX_HEAD_BYTES ({MAX_HEAD_BYTES} bytes)"),
        200,
        hello,
        false,
        "Does your request::parse refuse a head of exactly MAX_HEAD_BYTES? Only a head over the \
         limit is refused: one of MAX_HEAD_BYTES, blank line included, is served.",
    )?;
    p.send(&head_of(MAX_HEAD_BYTES + 1))?;
    transcript.push("P sends GET /hello with a head of MAX_HEAD_BYTES + 1 bytes");
    refused(
        &mut p,
        transcript,
        "GET /hello with a head of MAX_HEAD_BYTES + 1 bytes, blank line included",
        431,
        "Does your request::parse refuse a head over MAX_HEAD_BYTES when its blank line has \
         come too? Counting only heads that have not ended lets a long one through.",
    )?;
    drop(p);

    let mut q = Client::connect(server, 'Q', transcript)?;
    q.send(b"GET /hello HTTP/1.1\r\nHost: check\r\nContent-Length: 5\r\n\r\nhello")?;
    transcript.push("Q sends GET /hello with a body of 5 bytes (Content-Length: 5)");
    let with_body = "GET /hello with a body of 5 bytes (Content-Length: 5)";
    let response = expect(
        &mut q,
        transcript,
        with_body,
        200,
        hello,
        false,
        "Does your body_length accept one Content-Length?",
    )?;
    closes_after(
        &mut q,
        transcript,
        with_body,
        &response,
        "This server reads no body, so after one it cannot tell where the next request starts, \
         and closes: does your body_length return the Content-Length's value? has_body() looks \
         at it.",
    )?;
    drop(q);

    let too_long = format!(
        "GET /hello HTTP/1.1\r\nCookie: {}",
        "x".repeat(MAX_HEAD_BYTES + 1024)
    );
    // A head not ended at exactly the limit: it can only be longer.
    let prefix = "GET /hello HTTP/1.1\r\nHost: check\r\nCookie: ";
    let at_the_limit = format!("{prefix}{}", "x".repeat(MAX_HEAD_BYTES - prefix.len()));
    let bad: [(char, &str, &[u8], u16, &str); 17] = [
        (
            'E',
            "\"hello there\\r\\n\\r\\n\" (not HTTP)",
            b"hello there\r\n\r\n",
            400,
            "Does your request::parse check that the request line has three parts: a method in \
             capitals, a target starting with /, and HTTP/1.0 or HTTP/1.1?",
        ),
        (
            'F',
            "a header line without a colon (\"Host check\")",
            b"GET /hello HTTP/1.1\r\nHost check\r\n\r\n",
            400,
            "Does your request::parse refuse a header line that has no colon? Name: value is the \
             only shape a header has.",
        ),
        (
            'S',
            "get /hello HTTP/1.1 (a method in small letters)",
            b"get /hello HTTP/1.1\r\nHost: check\r\n\r\n",
            400,
            "Does your request::parse check that the method is a word in capitals? Methods are \
             case-sensitive (RFC 9110 section 9.1): `get` is not GET. This exercise answers a \
             method it does not take with 400 (lesson 12 gives the 501 the RFC prefers).",
        ),
        (
            'U',
            "GET  /hello HTTP/1.1 (two spaces after the method)",
            b"GET  /hello HTTP/1.1\r\nHost: check\r\n\r\n",
            400,
            "Does your request::parse split the request line at each single space? It has \
             exactly three parts, one space apart (RFC 9112 section 3): split_whitespace takes \
             two spaces, or a tab, for one, and so reads a line a proxy in front could read \
             another way.",
        ),
        (
            'T',
            "a header whose name has a space (\"User Agent: check\")",
            b"GET /hello HTTP/1.1\r\nHost: check\r\nUser Agent: check\r\n\r\n",
            400,
            "Does your request::parse refuse a header name with a space in it? A name is one \
             token, with no spaces (RFC 9112 section 5.1).",
        ),
        (
            'Z',
            "a header whose name has a tab (\"User\\tAgent: check\")",
            b"GET /hello HTTP/1.1\r\nHost: check\r\nUser\tAgent: check\r\n\r\n",
            400,
            "Does your request::parse refuse a header name with a tab in it, as well as one with \
             a space? A name is one token, with no whitespace of any kind (RFC 9112 section \
             5.1).",
        ),
        (
            'G',
            "GET /hello HTTP/2.0",
            b"GET /hello HTTP/2.0\r\nHost: check\r\n\r\n",
            400,
            "Does your request::parse check the version? This server speaks HTTP/1.0 and HTTP/1.1 \
             only, and answers any other with 400 (lesson 12 gives HTTP/2.0 the 505 the RFC \
             prefers).",
        ),
        (
            'H',
            "a head of more than MAX_HEAD_BYTES with no blank line",
            too_long.as_bytes(),
            431,
            "Does your request::parse refuse with Refusal::HeadTooLarge once the buffer holds \
             MAX_HEAD_BYTES without a blank line? Without a limit, a client that never ends \
             its head makes your buffer grow until memory runs out.",
        ),
        (
            'Y',
            "exactly MAX_HEAD_BYTES of a head, with no blank line, and then nothing",
            at_the_limit.as_bytes(),
            431,
            "Does your request::parse refuse once the buffer holds MAX_HEAD_BYTES without a \
             blank line (>=, not >)? A head that has not ended by then can only be longer than \
             the limit: waiting for one more byte keeps the client waiting for nothing.",
        ),
        (
            '1',
            "GET hello HTTP/1.1 (a target that does not start with /)",
            b"GET hello HTTP/1.1\r\nHost: check\r\n\r\n",
            400,
            "Does your request::parse check that the target starts with /? This server serves \
             paths only, and `hello` is not one.",
        ),
        (
            'I',
            "GET /hello HTTP/1.1 with no Host header",
            b"GET /hello HTTP/1.1\r\nAccept: */*\r\n\r\n",
            400,
            "Does your check_host refuse an HTTP/1.1 request without a Host header? RFC 9112 \
             §3.2 says a server MUST answer it 400.",
        ),
        (
            'J',
            "GET /hello HTTP/1.0 with two Host headers, both \"check\"",
            b"GET /hello HTTP/1.0\r\nHost: check\r\nHost: check\r\n\r\n",
            400,
            "Does your check_host refuse a request with two Host headers, whatever its version, \
             and whatever they say? RFC 9112 §3.2 asks 400 for any request with two, even the \
             same twice, HTTP/1.0 too (only a missing Host is HTTP/1.1's rule alone).",
        ),
        (
            'X',
            "GET /hello with Host: check and host: other",
            b"GET /hello HTTP/1.1\r\nHost: check\r\nhost: other\r\n\r\n",
            400,
            "Does your check_host count the Host headers whatever their case? A header's name \
             is case-insensitive (RFC 9110 section 5.1): host is Host, so this request has two. \
             (Request::headers_named compares names that way.)",
        ),
        (
            'K',
            "GET /hello with Host: check/hello (a path is no host)",
            b"GET /hello HTTP/1.1\r\nHost: check/hello\r\n\r\n",
            400,
            "Does your check_host refuse a Host that is not a host[:port]? Only letters, \
             digits and -.:[]_~ belong in one (RFC 9112 §3.2: 400).",
        ),
        (
            '2',
            "GET /hello with Content-Length: abc",
            b"GET /hello HTTP/1.1\r\nHost: check\r\nContent-Length: abc\r\n\r\n",
            400,
            "Does your body_length refuse a Content-Length that is not a number? Skipping it \
             serves the request as if it had no body, and whatever the client meant as its \
             body is then read as the next request: how request smuggling starts (RFC 9112 \
             §6.3: 400, and close).",
        ),
        (
            '3',
            "GET /hello with Content-Length: +0 (a sign is no digit)",
            b"GET /hello HTTP/1.1\r\nHost: check\r\nContent-Length: +0\r\n\r\n",
            400,
            "Does your body_length refuse a Content-Length that is not a number? A length is \
             digits and nothing else (RFC 9110 §8.6): `+0`, `abc` or an empty value must be \
             refused, or a proxy in front may read the body's end another way. (Rust's \
             u64::from_str takes a leading +: check the digits first.)",
        ),
        (
            'L',
            "GET /hello with Content-Length: 0 and Content-Length: 38, and GET /missing as \
             the 38 bytes after it",
            SMUGGLED,
            400,
            "Does your body_length refuse two Content-Length values that differ? A proxy that \
             believed 38 would pass GET /missing along as a body; a server that believes 0 \
             answers it as a request the proxy never saw: request smuggling (RFC 9112 §6.3: \
             400, and close).",
        ),
    ];
    for (name, what, request, status, if_wrong) in bad {
        let mut client = Client::connect(server, name, transcript)?;
        client.send(request)?;
        transcript.push(format!("{name} sends {what}"));
        refused(&mut client, transcript, what, status, if_wrong)?;
    }

    // R's bad request comes with 64 KiB more behind it, which the server never reads as a
    // request: closed with them unread, the connection would be reset, not closed.
    let mut r = Client::connect(server, 'R', transcript)?;
    let mut request = b"hello there\r\n\r\n".to_vec();
    request.resize(request.len() + 64 * 1024, b'x');
    r.send(&request)?;
    transcript.push("R sends \"hello there\\r\\n\\r\\n\" (not HTTP) and 64 KiB more in one write");
    let with_more = "\"hello there\\r\\n\\r\\n\" (not HTTP) and 64 KiB more";
    refused(
        &mut r,
        transcript,
        with_more,
        400,
        "Does your request::parse check that the request line has three parts: a method in \
         capitals, a target starting with /, and HTTP/1.0 or HTTP/1.1?",
    )?;
    if let Some(how) = r.reset_after_the_end() {
        transcript.push(format!("R's connection is reset after its end ({how})"));
        return Err(format!(
            "Client R sent {with_more}, received 400 and the end of the stream, and then a reset \
             ({how}): your server closed the connection with R's bytes still unread. A reset \
             can destroy a response the client has not read yet (on a slower network, or \
             always on Windows). Is close_gently still as given (stop sending, read and drop \
             what the client still sends, then close)?"
        ));
    }
    drop(r);

    let mut m = Client::connect(server, 'M', transcript)?;
    m.send(b"GET /hello HTTP/1.1\r\nHo")?;
    drop(m);
    transcript.push("M sends half a request and hangs up");
    let mut n = Client::connect(server, 'N', transcript)?;
    n.send(HELLO)?;
    transcript.push("N sends GET /hello");
    expect(
        &mut n,
        transcript,
        "GET /hello after client M hung up in the middle of a request",
        200,
        hello,
        false,
        "Did client M, which hung up halfway through its request, stop your whole server? \
         A connection closed mid-request ends that connection only.",
    )?;
    drop(n);
    deadline(server, transcript)
}

/// The header timeout: the server was given [`HEADER_TIMEOUT`]. W gets an answer and then says
/// nothing: it must be closed without a word. V sends the start of a head and then a byte every
/// [`TRICKLE_EVERY`], never ending it: the deadline is for the whole head, so V must get 408
/// and a close, however often its bytes come. Both run at once.
fn deadline(server: SocketAddr, transcript: &mut Transcript) -> Result<(), String> {
    let timeout = format!("{} s", HEADER_TIMEOUT.as_secs());
    let mut w = Client::connect(server, 'W', transcript)?;
    w.send(HELLO)?;
    transcript.push("W sends GET /hello");
    expect(
        &mut w,
        transcript,
        "GET /hello",
        200,
        Some(HELLO_BODY),
        false,
        "Does your server answer GET /hello with the exercise's respond() and send()?",
    )?;
    let w_answered = Instant::now();

    let v_connected = Instant::now();
    let mut v = Client::connect(server, 'V', transcript)?;
    v.send(b"GET /hello HTTP/1.1\r\nHost: check\r\nX-Slow: ")?;
    transcript.push(format!(
        "V sends the start of a head, then one byte every {} ms, never ending it",
        TRICKLE_EVERY.as_millis()
    ));
    let slow = format!(
        "the start of a head and then one byte every {} ms (the server was given a header \
         timeout of {timeout})",
        TRICKLE_EVERY.as_millis()
    );
    let got = v.trickle(v_connected + HEADER_TIMEOUT + DEADLINE_MARGIN);
    let waited = v_connected.elapsed();
    match &got {
        Got::Response(response) if response.status == 408 => {
            if response.reason != reason_phrase(408) {
                return Err(format!(
                    "Client V sent {slow} and received the status line \"HTTP/1.1 408 {}\" \
                     where \"HTTP/1.1 408 Request Timeout\" was expected: is send() still as \
                     given?",
                    response.reason
                ));
            }
            if waited < TOO_SOON {
                transcript.push(format!("V receives 408 after {} ms", waited.as_millis()));
                return Err(format!(
                    "Client V sent {slow} and received 408 after {} ms, before the header \
                     timeout had run out. Is your deadline the one read_request is given?",
                    waited.as_millis()
                ));
            }
            transcript.push("V receives 408 once the header timeout has run out");
        }
        Got::Stalled(_) => {
            transcript.push(format!("V receives {}", describe_got(&got)));
            return Err(format!(
                "Client V sent {slow}, and {} s after it connected had received nothing. Is \
                 the deadline for the whole head? Give each read only the time left until \
                 `deadline`: a timeout counted afresh for each read never runs out while bytes \
                 keep coming, and a client that sends one now and then holds its connection, \
                 and a thread, for ever.",
                (HEADER_TIMEOUT + DEADLINE_MARGIN).as_secs()
            ));
        }
        Got::Closed(bytes) if bytes.is_empty() => {
            transcript.push("V receives no response: the connection closed");
            return Err(format!(
                "Client V sent {slow}, and its connection was closed without a response. Does \
                 your read_request return Arrival::TooSlow when the deadline passes? The given \
                 serve_client answers that with 408 when part of a head has come; an error \
                 (from a read that timed out) ends the connection without a word."
            ));
        }
        _ => {
            transcript.push(format!("V receives {}", describe_got(&got)));
            return Err(format!(
                "Client V sent {slow} and received {} where a response 408 was expected, once \
                 the deadline had passed.",
                describe_got(&got)
            ));
        }
    }
    v.receive_close(&slow, "408")?;
    transcript.push("V sees the server close the connection");

    // W has been quiet since its answer, longer than the header timeout by now.
    match w
        .peer
        .read_some(w_answered + HEADER_TIMEOUT + DEADLINE_MARGIN)
    {
        Err(End::Closed) => {
            transcript.push("W, quiet since its answer, sees the server close the connection");
            Ok(())
        }
        Ok(bytes) => {
            transcript.push(format!("W receives {:?}", String::from_utf8_lossy(&bytes)));
            Err(format!(
                "Client W got its answer and then said nothing, and received {:?}: a connection \
                 quiet between requests is closed without a word (the given serve_client does \
                 that when read_request returns Arrival::TooSlow with nothing read).",
                String::from_utf8_lossy(&bytes)
            ))
        }
        Err(End::Timeout) => {
            transcript.push("W's connection stays open");
            Err(format!(
                "Client W got its answer and then said nothing, and its connection was still \
                 open {} s later (the server was given a header timeout of {timeout}, which is \
                 also how long a kept-alive connection may sit quiet). Does your read_request \
                 give its reads a timeout, the time left until `deadline`, and return \
                 Arrival::TooSlow when it runs out?",
                (HEADER_TIMEOUT + DEADLINE_MARGIN).as_secs()
            ))
        }
        Err(End::Failed(how)) => {
            transcript.push(format!("W's connection is reset ({how})"));
            Err(format!(
                "Client W got its answer and then said nothing, and its connection was reset \
                 ({how}) instead of closed."
            ))
        }
    }
}
