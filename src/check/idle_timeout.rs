//! The check for exercise 06: an echo server that closes the clients that go quiet, and only
//! those.
//!
//! The learner's `serve(listener, idle)` runs with a short limit, [`IDLE`]. Client A connects
//! and says nothing: within a little more than the limit it must receive the goodbye line, and
//! then see its connection close, really closed: what A sends after the end of the stream must
//! meet a reset within [`RELEASED_WITHIN`]. Clients P, Q, S, T and U each send one line, at
//! moments spread over the first limit, and then go quiet: each must be told goodbye one limit
//! after its line, not before, and not nearly two limits after (a server that looks at silence
//! only once a limit). Meanwhile client B talks, a line every [`TALK_EVERY`], for
//! twice the limit: every line must come back, and B must never be closed. Then client C
//! connects, to show the server still serves newcomers, and client R talks and then breaks its
//! connection with a reset: that is not silence, and the server's log must not take it for a
//! client that left or went quiet.
//!
//! # The input space, and what covers it
//!
//! - Who connects: a silent client (A), five that go quiet after one line (P to U), a talking one
//!   (B, a line every [`TALK_EVERY`] for [`TALK_FOR`], twice the limit), then a newcomer (C) and
//!   a client that breaks its connection (R), over IPv4 loopback.
//! - The limit's boundary: A must be closed within the limit and a margin (not before it: the
//!   goodbye arriving early fails), B, whose silences stay under the limit, must never be closed,
//!   and its time since connecting passes the limit (a limit counted from connect fails).
//! - What arrives: the goodbye line, then the close: a close without a word fails, and so does a
//!   connection left open, or only half closed (`shutdown(Write)`, then a wait for the client),
//!   and so does a goodbye that comes only after [`CLOSED_WITHIN`] (a read timeout of twice the
//!   limit, say), counted from the client's last byte.
//! - What B sends: a line with a byte that is not UTF-8, a line of text, then pieces with no
//!   newline for longer than the limit: every byte comes back, at once (an echo of whole lines,
//!   or of text, fails), and pieces are talk (an idle clock that only a newline restarts fails).
//! - What fails in the APIs: the read timeout's error (WouldBlock on Unix, TimedOut on Windows)
//!   must end only A's connection: C must still be served. A read that fails otherwise (R's
//!   reset: ConnectionReset) is a broken connection, not the limit running out: the given
//!   `serve_client` logs `PEER disconnected abruptly` for it, and a server whose log says `PEER
//!   disconnected` there took every read error for silence (or for a goodbye). Only that line
//!   fails: a server that logs otherwise, or not at all, is not judged by its log.
//! - The limit's value: a whole second, then, for the program started again, [`SHORT_IDLE`],
//!   under one: client Z, silent, must be told goodbye (in the limit's own words, `0.4 s`) and
//!   closed after it, not at once and not a second later. A limit made whole seconds
//!   (`Duration::from_secs(idle.as_secs())`) is zero there, which `set_read_timeout` refuses, and
//!   one rounded up is a second. (Only where the check starts the program: a server already
//!   running has its own limit.)
//! - Not covered: IPv6.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use super::peer::{Client, End, show};
use super::program::LOOPBACK;
use super::{Advice, Check, Exercise, Played, Program, Transcript};

pub const EXERCISE: Exercise = Exercise {
    id: "06_timeouts",
    title: "the echo server that closes quiet clients",
    chapter: "book/src/06-timeouts.md",
};

/// The idle limit the check gives the learner's server.
pub const IDLE: Duration = Duration::from_secs(1);

/// How often client B sends a line.
/// Not a divisor of the limit: a line is never due just as a limit counted from connecting runs
/// out, so such a server fails at the same line every run (the fourth, 200 ms after the limit).
pub const TALK_EVERY: Duration = Duration::from_millis(400);

/// How long client B keeps talking: twice the limit.
pub const TALK_FOR: Duration = Duration::from_secs(2);

/// By when client A, silent, must have its goodbye and the close: the limit, and room to spare
/// for a busy machine. A read timeout longer than the limit (twice it, say) comes later.
const CLOSED_WITHIN: Duration = Duration::from_millis(1700);

/// How long client A watches in all: long enough to see a goodbye that comes late, and say so.
const WATCH_SILENT: Duration = Duration::from_millis(3500);

/// What client B sends, one piece each [`TALK_EVERY`]: a line that is not UTF-8, a line of text,
/// then pieces of a line that has no end yet, whose bytes must come back as they are, at once.
/// The pieces go on for longer than the limit after the last newline: talk is talk, with or
/// without one. A limit counted from connecting runs out 200 ms before the second piece (number
/// 3); one counted from the last newline runs out 200 ms before the third (number 4).
fn talk_line(number: usize) -> Vec<u8> {
    match number {
        0 => b"caf\xe9, not UTF-8\n".to_vec(),
        1 => b"line 1\n".to_vec(),
        _ => format!("piece {number} of a line, no newline yet; ").into_bytes(),
    }
}

/// The limit the program is started again with: under a second, and not a whole number of
/// seconds.
pub const SHORT_IDLE: Duration = Duration::from_millis(400);

/// By when, under [`SHORT_IDLE`], silent client Z must have the goodbye and the close: the limit
/// and room for a busy machine, but less than a second, which a limit rounded up would take.
const SHORT_CLOSED_WITHIN: Duration = Duration::from_millis(950);

/// The goodbye a silent client must receive under a limit of `idle`: `goodbye(idle)` in the
/// exercise and the lesson.
fn goodbye_for(idle: Duration) -> String {
    format!(
        "you sent nothing for {} s, so the server is closing this connection\n",
        idle.as_secs_f64()
    )
}

/// How long any client waits for an echo. A correct server answers in milliseconds.
const PATIENCE: Duration = Duration::from_secs(1);

/// What a silent client must receive before its connection closes: `goodbye(IDLE)` in the
/// exercise and the lesson.
pub const GOODBYE: &str = "you sent nothing for 1 s, so the server is closing this connection\n";

/// What the learner writes: a server that takes its idle limit as a parameter.
pub trait ServeWithIdle:
    FnOnce(TcpListener, Duration) -> anyhow::Result<()> + Send + 'static
{
}
impl<F: FnOnce(TcpListener, Duration) -> anyhow::Result<()> + Send + 'static> ServeWithIdle for F {}

/// What silent client A saw.
struct Silent {
    received: Vec<u8>,
    /// How long after connecting the connection closed (or failed), if it did.
    closed_after: Option<Duration>,
    /// After the end of the stream: whether the server's socket was gone within
    /// [`RELEASED_WITHIN`] (A's bytes were answered with a reset). `None` when the connection
    /// ended with a reset, or not at all.
    released: Option<bool>,
}

/// The clients that talk once and then go quiet, each with when it sends its one line, counted
/// from connecting: spread over one limit, so that a server which looks at its clients' silence
/// only once a limit (a watchdog) finds one of them quiet for nearly two limits.
const QUIET_AFTER_A_LINE: [(char, Duration); 5] = [
    ('P', Duration::from_millis(100)),
    ('Q', Duration::from_millis(300)),
    ('S', Duration::from_millis(500)),
    ('T', Duration::from_millis(700)),
    ('U', Duration::from_millis(900)),
];

/// What a client that went quiet after one line saw.
struct QuietAfterALine {
    name: char,
    /// When it sent its line, after connecting.
    sent_at: Duration,
    echoed: bool,
    /// What came after the echo.
    received: Vec<u8>,
    /// How long after its line the connection closed (or failed), if it did.
    closed_after: Option<Duration>,
}

/// After A's goodbye and the end of its stream, how long A gives the server to let go of the
/// connection: time for a close that first drains the client's last bytes for a moment, as
/// lesson 12's `close_gently` does.
const RELEASED_WITHIN: Duration = Duration::from_secs(2);

/// The check, for [`super::run`].
pub struct IdleTimeout;

/// Exercise 06's check.
pub const CHECK: IdleTimeout = IdleTimeout;

impl Check for IdleTimeout {
    fn exercise(&self) -> Exercise {
        EXERCISE
    }

    fn program_args(&self) -> Vec<String> {
        vec![IDLE.as_secs_f64().to_string()]
    }

    fn advice(&self) -> Advice {
        Advice {
            on_panic: "A timeout is an error like any other: handle it (say goodbye, return), \
                       rather than unwrap it.",
        }
    }

    fn play(&self, program: &mut Program) -> Played {
        let mut transcript = Transcript::default();
        let result = play(program, &mut transcript);
        Played::from_steps(
            result
                .map(|()| transcript.clone())
                .map_err(|stop| (stop, transcript)),
        )
    }
}

/// Serves the learner's server as its program would, with the idle limit the check gives it
/// (its first argument after the address: [`IDLE`], or [`SHORT_IDLE`] when started again).
pub fn serve_as_program(serve: impl ServeWithIdle) -> ! {
    let idle = super::program::given_args()
        .first()
        .and_then(|seconds| {
            crate::cli::seconds("IDLE_SECONDS", seconds, crate::cli::TIMEOUT_SECONDS).ok()
        })
        .unwrap_or(IDLE);
    super::serve_as_program(|listener| serve(listener, idle))
}

/// Connects a scripted client, with a time limit on every wait.
fn connect(server: SocketAddr, name: char) -> Result<Client, String> {
    Client::connect(server).map_err(|_| {
        format!("Client {name} could not connect: is your server accepting connections?")
    })
}

/// Plays the four clients, writing down what happened.
fn play(program: &Program, transcript: &mut Transcript) -> Result<(), String> {
    let server = program.address();
    let silent = connect(server, 'A')?;
    transcript.push("A connects and says nothing");
    let watching = watch_silent(silent);
    let mut quiet_ones = Vec::new();
    for (name, sent_at) in QUIET_AFTER_A_LINE {
        quiet_ones.push(watch_quiet_after_a_line(
            connect(server, name)?,
            name,
            sent_at,
        ));
    }
    transcript.push(
        "P, Q, S, T and U connect, and each sends one line at its own moment (100, 300, 500, 700 \
         and 900 ms after connecting), then says nothing",
    );

    let mut talking = connect(server, 'B')?;
    transcript.push("B connects");
    let mut silent = None;
    let talked = talk(&mut talking, &watching, &mut silent);
    let silent = match silent {
        Some(silent) => silent,
        None => watching
            .recv_timeout(WATCH_SILENT + RELEASED_WITHIN + PATIENCE)
            .unwrap_or(Silent {
                received: Vec::new(),
                closed_after: None,
                released: None,
            }),
    };
    let (silent_lines, silent_wrong) = silent_verdict(&silent);
    match talked {
        Talked::Throughout => transcript.push(format!(
            "B sends something every {} ms for {} s (a line not UTF-8, a line of text, then \
             pieces with no newline), \
             and every byte comes back",
            TALK_EVERY.as_millis(),
            TALK_FOR.as_secs()
        )),
        // A's verdict, below, is the reason.
        Talked::StoppedEarly => {}
        Talked::Dropped { line, reason } => {
            transcript.push(line);
            // When both went wrong, A's verdict comes first: it is what the exercise is about.
            if silent_wrong.is_none() {
                return Err(reason);
            }
        }
    }
    for line in silent_lines {
        transcript.push(line);
    }
    if let Some(reason) = silent_wrong {
        return Err(reason);
    }
    for watching in quiet_ones {
        let quiet = watching
            .recv_timeout(WATCH_SILENT * 2)
            .expect("a quiet client's watch ends by itself");
        if let Err((line, reason)) = quiet_verdict(&quiet) {
            transcript.push(line);
            return Err(reason);
        }
    }
    transcript.push(
        "each of P, Q, S, T and U gets its line back, receives the goodbye about 1 s after it, \
         and sees the server close the connection",
    );
    drop(talking);
    transcript.push("B closes the connection");

    let mut newcomer = connect(server, 'C')?;
    transcript.push("C connects");
    newcomer
        .stream
        .write_all(b"hello\n")
        .map_err(|_| "Client C could not send: the server closed its connection.".to_string())?;
    transcript.push("C sends \"hello\\n\"");
    match newcomer.read_at_most(6, PATIENCE) {
        (echo, _) if echo == b"hello\n" => transcript.push("C receives \"hello\\n\""),
        _ => {
            transcript.push("C receives no echo");
            return Err(
                "After closing client A, your server did not echo client C's line: did A's \
                 timeout end more than A's connection? Handle it in A's own thread, and keep \
                 accepting."
                    .to_string(),
            );
        }
    }
    reset_is_not_silence(program, transcript)?;
    under_a_second(program, transcript)
}

/// The program is started again with a limit under a second, [`SHORT_IDLE`], and client Z
/// connects and says nothing: the goodbye, in that limit's words, and the close must come after
/// the limit, and well before a second.
fn under_a_second(program: &Program, transcript: &mut Transcript) -> Result<(), String> {
    let limit = SHORT_IDLE.as_secs_f64();
    let Some(again) = program.start_again_with_args(LOOPBACK, &[limit.to_string()]) else {
        return Ok(());
    };
    transcript.push(format!(
        "(the program is started again, with a limit of {limit} s)"
    ));
    let again = again.map_err(|problem| {
        format!(
            "Your program, started again with a limit of {limit} s, did not start: {}",
            problem.sentence
        )
    })?;
    // Timed from before the connect: the server's clock cannot start earlier, so a goodbye
    // after a whole second is never seen sooner.
    let started = Instant::now();
    let mut silent = connect(again.address(), 'Z')?;
    transcript.push("Z connects and says nothing");
    let goodbye = goodbye_for(SHORT_IDLE);
    let mut received = Vec::new();
    // Watched past the limit for a close that comes late, to say so.
    let deadline = started + SHORT_CLOSED_WITHIN + PATIENCE;
    let closed_after = loop {
        match silent.read_some(deadline) {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(End::Timeout) => break None,
            Err(End::Closed | End::Failed(_)) => break Some(started.elapsed()),
        }
    };
    let shown = show(&received);
    let rounded = "Is the limit made whole seconds? `Duration::from_secs(idle.as_secs())` makes \
                   0.4 s zero, which set_read_timeout refuses, and rounding up makes it a \
                   second: give each read `idle` itself.";
    match closed_after {
        Some(after) if after < SHORT_IDLE * 8 / 10 => {
            let what = if received.is_empty() {
                "with nothing sent".to_string()
            } else {
                format!("after sending {shown}")
            };
            transcript.push(format!(
                "Z's connection closes {} ms after it connected, {what}",
                after.as_millis() / 10 * 10
            ));
            Err(format!(
                "With a limit of {limit} s, client Z was closed {} ms after it connected, {what}, \
                 before it had been silent for the limit. {rounded}",
                after.as_millis() / 10 * 10
            ))
        }
        Some(after) if received == goodbye.as_bytes() && after <= SHORT_CLOSED_WITHIN => {
            transcript.push(format!("Z receives {}", show(goodbye.as_bytes())));
            transcript.push("Z sees the server close the connection");
            Ok(())
        }
        Some(_) | None if received.is_empty() || received == goodbye.as_bytes() => {
            let seen = match closed_after {
                Some(after) => format!(
                    "closed {} ms after it connected",
                    after.as_millis() / 10 * 10
                ),
                None => format!(
                    "still open {} ms after it connected",
                    (SHORT_CLOSED_WITHIN + PATIENCE).as_millis()
                ),
            };
            transcript.push(format!("Z receives {shown}, and its connection is {seen}"));
            Err(format!(
                "With a limit of {limit} s, client Z, silent, received {shown} and its connection \
                 was {seen}, where the goodbye and the close should come soon after {limit} s \
                 (by {} ms). {rounded}",
                SHORT_CLOSED_WITHIN.as_millis()
            ))
        }
        _ => {
            transcript.push(format!("Z receives {shown}"));
            Err(format!(
                "With a limit of {limit} s, client Z received {shown} where {} was expected: \
                 send goodbye(idle), with the limit it was given.",
                show(goodbye.as_bytes())
            ))
        }
    }
}

/// Client R talks, then breaks its connection with a reset, and the server's log is read for
/// what it made of that: a read error other than the limit running out must not end the client
/// as a quiet one.
fn reset_is_not_silence(program: &Program, transcript: &mut Transcript) -> Result<(), String> {
    let mut breaking = connect(program.address(), 'R')?;
    // The server logs a client by the address it sees: R's own.
    let seen_as = breaking.address;
    let sent = breaking.stream.write_all(b"bye\n").is_ok();
    let (echo, _) = breaking.read_at_most(4, PATIENCE);
    if !sent || echo != b"bye\n" {
        transcript.push("R connects, sends \"bye\\n\", and receives no echo");
        return Err(
            "Client R, a newcomer after C, got no echo of its line: your server stopped serving \
             new clients."
                .to_string(),
        );
    }
    // The echo is back, so the server's thread is reading again when the reset comes: its read
    // fails with ConnectionReset, at once.
    breaking.reset();
    transcript.push("R connects, sends \"bye\\n\", receives it, and resets its connection");
    let quiet_leave = format!("{seen_as} disconnected");
    let logged = program.printed_line(&quiet_leave, PATIENCE);
    if logged.as_deref().map(str::trim_end) == Some(quiet_leave.as_str()) {
        transcript.push("the server logs R as `disconnected`, not `disconnected abruptly`");
        return Err(format!(
            "Client R broke its connection with a reset, and your server logged \
             `{quiet_leave}`, as for a client that closed or went quiet: does echo return \
             Ok(()) for every read error? Only WouldBlock (Unix) and TimedOut (Windows) mean the \
             limit ran out; return any other error (`Err(error) => return \
             Err(error).context(\"reading\")`), so that serve_client logs it as `disconnected \
             abruptly`."
        ));
    }
    Ok(())
}

/// What A saw, as transcript lines, and what it likely means if it was wrong.
fn silent_verdict(silent: &Silent) -> (Vec<String>, Option<String>) {
    let limit = IDLE.as_secs();
    let text = String::from_utf8_lossy(&silent.received).into_owned();
    let closed = "A sees the server close the connection".to_string();
    match (silent.received.is_empty(), silent.closed_after) {
        (_, Some(after)) if after < IDLE * 8 / 10 => (
            vec![format!(
                "A's connection closes {} ms after it connected, before the limit of {limit} s",
                after.as_millis() / 100 * 100
            )],
            Some(format!(
                "Client A was closed before it had been silent for {limit} s: close a client \
                 only when a read has waited the whole limit and got nothing."
            )),
        ),
        (false, Some(after)) if text == GOODBYE && after > CLOSED_WITHIN => (
            vec![
                format!("A receives {text:?}"),
                format!(
                    "A's connection closes about {} s after it connected, where the limit is \
                     {limit} s",
                    seconds(after)
                ),
            ],
            Some(format!(
                "Client A, silent since it connected, got its goodbye, and its connection closed \
                 only about {} s after it connected, though the idle limit is {limit} s (and {} \
                 ms is the most the check allows): is each read's time limit longer than idle? \
                 Give each read exactly idle (stream.set_read_timeout(Some(idle))), and return \
                 as soon as the goodbye is sent.",
                seconds(after),
                CLOSED_WITHIN.as_millis()
            )),
        ),
        (true, None) => (
            vec![format!(
                "A receives nothing in {} ms, and its connection stays open",
                WATCH_SILENT.as_millis()
            )],
            Some(format!(
                "Client A, silent since it connected, received nothing in {} ms and its \
                 connection stayed open, though the idle limit is {limit} s: does each read have \
                 a time limit? Set one with stream.set_read_timeout(Some(idle)). When it runs \
                 out, read returns an error of kind WouldBlock (Unix) or TimedOut (Windows): \
                 then send goodbye(idle), and return.",
                WATCH_SILENT.as_millis()
            )),
        ),
        (true, Some(_)) => (
            vec![format!("{closed}, without a word")],
            Some(
                "Client A's connection was closed with no line saying why: when the read times \
                 out, send goodbye(idle) before returning, so a silent client can tell it was \
                 closed for its silence, not by a crash. (A timed-out read fails with \
                 WouldBlock on Unix and TimedOut on Windows: match both.)"
                    .to_string(),
            ),
        ),
        (false, closed_after) if text != GOODBYE => {
            let mut lines = vec![format!("A receives {text:?}")];
            if closed_after.is_some() {
                lines.push(closed);
            }
            (
                lines,
                Some(format!(
                    "Client A received {text:?} where {GOODBYE:?} was expected: send exactly \
                     goodbye(idle), once, and nothing else."
                )),
            )
        }
        (false, None) => (
            vec![
                format!("A receives {text:?}"),
                "A's connection stays open".to_string(),
            ],
            Some(
                "Client A received the goodbye line, but its connection stayed open: return \
                 after sending it, so the stream is dropped and the connection closes."
                    .to_string(),
            ),
        ),
        (false, Some(_)) if silent.released == Some(false) => (
            vec![
                format!("A receives {text:?}"),
                "A sees the end of the stream, but the connection stays open: what A sends \
                 after it is taken in for 2 s"
                    .to_string(),
            ],
            Some(format!(
                "Client A got the goodbye and the end of the stream, but its connection was not \
                 closed: for {} s after, the server's side still took in what A sent. Did your \
                 server only shut down its sending side (shutdown(Write)), and wait for the \
                 client to close? A client that never does would hold the connection, and its \
                 thread, for ever: after the goodbye, return, so that the stream is dropped and \
                 the connection closes.",
                RELEASED_WITHIN.as_secs()
            )),
        ),
        (false, Some(_)) => (vec![format!("A receives {text:?}"), closed], None),
    }
}

/// Whether a client that went quiet after one line was told goodbye one limit after its line:
/// a transcript line and the likely mistake when it was not.
fn quiet_verdict(quiet: &QuietAfterALine) -> Result<(), (String, String)> {
    let name = quiet.name;
    let limit = IDLE.as_secs();
    let sent_at = quiet.sent_at.as_millis();
    if !quiet.echoed {
        return Err((
            format!("{name} sends a line {sent_at} ms after connecting, and gets no echo"),
            format!(
                "Client {name} sent a line {sent_at} ms after connecting and got no echo of it \
                 within {} s: every byte comes back, at once.",
                PATIENCE.as_secs()
            ),
        ));
    }
    let text = String::from_utf8_lossy(&quiet.received).into_owned();
    match quiet.closed_after {
        Some(after) if after < IDLE * 8 / 10 => Err((
            format!(
                "{name}, quiet after its line, is closed {} ms after that line, before the limit \
                 of {limit} s",
                after.as_millis() / 100 * 100
            ),
            format!(
                "Client {name} sent a line {sent_at} ms after connecting, and its connection was \
                 closed only {} ms after that line, before it had been silent for {limit} s: \
                 count silence from a client's last byte.",
                after.as_millis() / 100 * 100
            ),
        )),
        Some(after) if text == GOODBYE && after > CLOSED_WITHIN => Err((
            format!(
                "{name}, quiet after its line, receives the goodbye and the close only about {} \
                 ms after that line",
                after.as_millis() / 100 * 100
            ),
            format!(
                "Client {name} sent a line {sent_at} ms after connecting and then said nothing, \
                 and was told goodbye only about {} ms after that line, though the limit is \
                 {limit} s (and {} ms the most the check allows): does your server look at its \
                 clients' silence only now and then (a watchdog that wakes once a limit, say)? A \
                 client that goes quiet just after a look is then silent for nearly two limits \
                 before the next look sees it. A read timeout of idle counts each client's \
                 silence from its own last byte.",
                after.as_millis() / 100 * 100,
                CLOSED_WITHIN.as_millis()
            ),
        )),
        Some(_) if text == GOODBYE => Ok(()),
        _ => Err((
            format!(
                "{name}, quiet after its line, receives {text:?}{}",
                match quiet.closed_after {
                    Some(_) => ", and the connection closes",
                    None => ", and its connection stays open",
                }
            ),
            format!(
                "Client {name} sent a line {sent_at} ms after connecting and then said nothing: \
                 {} s after that line it should have received {GOODBYE:?} and seen the \
                 connection close, but it received {text:?}{}.",
                limit,
                match quiet.closed_after {
                    Some(_) => "",
                    None => " and its connection stayed open",
                }
            ),
        )),
    }
}

/// Plays a client that sends one line `sent_at` after connecting, then goes quiet, on a thread
/// of its own: what it hears, and when the connection closes, counted from its line.
fn watch_quiet_after_a_line(
    mut client: Client,
    name: char,
    sent_at: Duration,
) -> Receiver<QuietAfterALine> {
    let (sender, receiver) = mpsc::channel();
    let connected = Instant::now();
    thread::spawn(move || {
        thread::sleep(sent_at.saturating_sub(connected.elapsed()));
        let line = format!("{name} says one thing, then nothing\n");
        let sent = Instant::now();
        let echoed = client.stream.write_all(line.as_bytes()).is_ok()
            && client.read_at_most(line.len(), PATIENCE).0 == line.as_bytes();
        let mut received = Vec::new();
        let deadline = sent + WATCH_SILENT;
        let closed_after = loop {
            if !echoed {
                break None;
            }
            match client.read_some(deadline) {
                Ok(bytes) => received.extend_from_slice(&bytes),
                Err(End::Timeout) => break None,
                Err(End::Closed | End::Failed(_)) => break Some(sent.elapsed()),
            }
        };
        let _ = sender.send(QuietAfterALine {
            name,
            sent_at,
            echoed,
            received,
            closed_after,
        });
    });
    receiver
}

/// A duration in whole seconds, rounded: what a verdict says, the same from run to run.
fn seconds(duration: Duration) -> u64 {
    (duration.as_millis() as u64 + 500) / 1000
}

/// Watches client A on a thread of its own, until the server closes it or the watch ends.
fn watch_silent(mut client: Client) -> Receiver<Silent> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let started = Instant::now();
        let deadline = started + WATCH_SILENT;
        let mut received = Vec::new();
        let mut released = None;
        let closed_after = loop {
            match client.read_some(deadline) {
                Ok(bytes) => received.extend_from_slice(&bytes),
                Err(End::Timeout) => break None,
                Err(End::Closed) => {
                    let closed_after = started.elapsed();
                    released = Some(let_go(&mut client));
                    break Some(closed_after);
                }
                // A reset: closed, if rudely.
                Err(End::Failed(_)) => break Some(started.elapsed()),
            }
        };
        let _ = sender.send(Silent {
            received,
            closed_after,
            released,
        });
    });
    receiver
}

/// After the end of the stream, whether the server let go of the connection: A sends a byte every
/// 100 ms, and a socket the server has closed answers with a reset, which the next write or read
/// reports. A server that only shut down its sending side takes the bytes in, without a word.
fn let_go(client: &mut Client) -> bool {
    let deadline = Instant::now() + RELEASED_WITHIN;
    while Instant::now() < deadline {
        if client.stream.write_all(b"?").is_err() {
            return true;
        }
        // The pace of the probe, not a wait for the server: the read below waits for the reset.
        match client.read_some(Instant::now() + Duration::from_millis(100)) {
            Err(End::Failed(_)) => return true,
            Err(End::Closed) => thread::sleep(Duration::from_millis(100)),
            Ok(_) | Err(End::Timeout) => {}
        }
    }
    false
}

/// How client B's talking went.
enum Talked {
    /// Every line came back, for the whole of [`TALK_FOR`].
    Throughout,
    /// A's verdict came in, and was wrong: no need to go on.
    StoppedEarly,
    /// B lost its echo or its connection: a transcript line, and the likely mistake.
    Dropped { line: String, reason: String },
}

/// Client B talks for [`TALK_FOR`], keeping an eye on A's verdict as it comes in.
fn talk(client: &mut Client, watching: &Receiver<Silent>, silent: &mut Option<Silent>) -> Talked {
    let started = Instant::now();
    // When B last sent a newline: a server that counts silence from there fails later.
    let mut last_newline = started;
    let mut number = 0;
    while started.elapsed() < TALK_FOR {
        let line = talk_line(number);
        let sent_at = Instant::now();
        let sent = client.stream.write_all(&line).is_ok();
        let (echo, end) = match sent {
            true => client.read_at_most(line.len(), PATIENCE),
            false => (Vec::new(), End::Closed),
        };
        // When the first bytes of the reply came, counted from B's write.
        let answered_after = sent_at.elapsed();
        if echo != line {
            let after = seconds(started.elapsed());
            let mut received = echo;
            // Show the whole wrong reply, not just as many bytes as the echo would have had.
            received.append(&mut client.early);
            while !received.contains(&b'\n') {
                match client.read_some(Instant::now() + Duration::from_millis(200)) {
                    Ok(bytes) => received.extend_from_slice(&bytes),
                    Err(_) => break,
                }
            }
            let what = if received.is_empty() {
                "no echo".to_string()
            } else {
                show(&received)
            };
            let sent = show(&line);
            // B waited for the echo of a piece with no newline, saying nothing meanwhile, and the
            // goodbye came a whole limit later: the server kept the piece to itself, and B's wait
            // was the silence it then counted, rightly.
            if !line.ends_with(b"\n")
                && received.starts_with(GOODBYE.as_bytes())
                && answered_after >= IDLE * 8 / 10
            {
                return Talked::Dropped {
                    line: format!(
                        "B sends {sent}, with no newline, receives no echo of it, and about {} s \
                         later (B saying nothing while it waits) receives {what}",
                        seconds(answered_after)
                    ),
                    reason: format!(
                        "Client B sent {sent}, with no newline, and got no echo of it: it waited, \
                         and about {} s later received {what}.\nDoes your server echo whole \
                         lines only (read_line, lines())? Every byte comes back as soon as it \
                         arrives: echo what each read returns.",
                        seconds(answered_after)
                    ),
                };
            }
            // Nothing back on a connection still open: the server waits for more.
            let waits = received.is_empty() && matches!(end, End::Timeout);
            let likely = if !line.ends_with(b"\n") && waits {
                "B's last piece had no newline: every byte comes back as soon as it arrives. Does \
                 your server echo whole lines only (read_line, lines())? Echo what each read \
                 returns."
                    .to_string()
            } else if !line.ends_with(b"\n") && sent_at.duration_since(last_newline) >= IDLE {
                format!(
                    "B had been talking all along, in pieces with no newline for the last {} s: \
                     does your server restart its idle clock only when a whole line arrives? \
                     Any bytes are talk. A read timeout does that by itself: each read, whatever \
                     it brings, waits the whole limit afresh.",
                    seconds(sent_at.duration_since(last_newline))
                )
            } else if std::str::from_utf8(&line).is_err() {
                "B's line held a byte that is not UTF-8: every byte comes back, whatever it is. \
                 Does your server read text (read_line, lines(), from_utf8), which fails on such \
                 bytes? Echo bytes."
                    .to_string()
            } else {
                "The idle limit must count silence, not time since connecting. A read timeout \
                 does that by itself: each read waits the whole limit afresh."
                    .to_string()
            };
            return Talked::Dropped {
                line: format!(
                    "B, talking all along, sends {sent} about {after} s after connecting, and \
                     receives {what}"
                ),
                reason: format!(
                    "Client B, which sent something every {} ms, received {what} in place of the \
                     echo of {sent}, about {after} s after it connected.\n{likely}",
                    TALK_EVERY.as_millis()
                ),
            };
        }
        if line.ends_with(b"\n") {
            last_newline = sent_at;
        }
        number += 1;
        thread::sleep(TALK_EVERY);
        if silent.is_none() {
            if let Ok(verdict) = watching.try_recv() {
                let wrong = silent_verdict(&verdict).1.is_some();
                *silent = Some(verdict);
                if wrong {
                    return Talked::StoppedEarly;
                }
            }
        }
    }
    Talked::Throughout
}
