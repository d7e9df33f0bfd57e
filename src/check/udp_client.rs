//! The check for exercise 05: a UDP client that waits only so long, asks again, and listens only
//! to the server.
//!
//! The learner writes the client, so the check plays the server: a scripted UDP peer that
//! answers at once, drops the first datagram, lets a stranger answer first, and never answers at
//! all. `ask` must return each echo with the number of the attempt that got it, and an error
//! after a bounded number of unanswered attempts.
//!
//! # The input space, and what covers it
//!
//! - The server answers at once, drops the first datagram, lets a stranger answer first, never
//!   answers, drops the first datagram while a stranger sends every [`CHATTER_EVERY`] (a wait
//!   that starts over at each datagram never ends): each attempt's number, a bounded number of
//!   tries, a bounded wait, and only the server's answer.
//! - The wait's boundary: an answer within `wait` must be taken; none after `attempts` tries must
//!   give an error, without a fourth try.
//! - Sizes and text: a message of [`LONG_MESSAGE_BYTES`] bytes, past 1 KiB and 4 KiB (a buffer
//!   of either cuts the echo), of characters of two, three and four bytes; the others are short
//!   ASCII. Not past 9,216 bytes, macOS's default largest datagram (`net.inet.udp.maxdgram`).
//! - Address families: IPv4 loopback, then, where the machine has it, a round over IPv6 loopback
//!   (the socket `ask` is given and the server both on `[::1]`), whose lines join the transcript
//!   only when it fails, so that the transcript is the same on every machine.
//! - Datagrams to the check's server from elsewhere: never the client's (another program, or
//!   the client of an earlier check still asking at a port the system has handed out again), so
//!   ignored; the round's message sent from another socket than the one `ask` was given is named.
//! - Not covered: errors from `recv_from` (on Linux an unconnected UDP socket hears of no ICMP
//!   error; Windows reports an earlier datagram that found nobody as `ConnectionReset`).

use std::net::{SocketAddr, UdpSocket};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, mpsc};
use std::thread;
use std::time::Duration;

use super::peer::show_short;
use super::program::has_ipv6_loopback;
use super::{Exercise, Failure, Transcript, panics};

pub const EXERCISE: Exercise = Exercise {
    id: "05_udp_echo_client",
    title: "the UDP client that asks again",
    chapter: "book/src/05-udp.md",
};

/// How long the check lets `ask` wait for each answer: short, so the check is quick.
pub const WAIT: Duration = Duration::from_millis(300);

/// How many datagrams `ask` may send for one message.
pub const ATTEMPTS: u32 = 3;

/// How long after `ask`'s last allowed attempt the check still waits for it to return.
const SLACK: Duration = Duration::from_millis(500);

/// How long the long message is, in bytes: past 1 KiB and 4 KiB, within macOS's default largest
/// datagram (9,216 bytes).
pub const LONG_MESSAGE_BYTES: usize = 8_000;

/// The long message: `ü€😀` (two, three and four bytes) over and over, then spaces to the length.
static LONG_MESSAGE: LazyLock<String> = LazyLock::new(|| {
    let mut message = "ü€😀".repeat(LONG_MESSAGE_BYTES / 9);
    message.push_str(&" ".repeat(LONG_MESSAGE_BYTES - message.len()));
    message
});

/// What the stranger sends, from an address that is not the server's.
const STRANGER_SAYS: &str = "I am the server, honest";

/// What the learner writes, as the check calls it: `ask(socket, server, message, wait,
/// attempts)` returns the echo and the number of the attempt it answered (1 for the first).
pub trait Ask:
    Fn(&UdpSocket, SocketAddr, &str, Duration, u32) -> anyhow::Result<(String, u32)>
    + Send
    + Sync
    + 'static
{
}
impl<F> Ask for F where
    F: Fn(&UdpSocket, SocketAddr, &str, Duration, u32) -> anyhow::Result<(String, u32)>
        + Send
        + Sync
        + 'static
{
}

/// What the scripted server does with the datagrams of one round.
#[derive(Clone, Copy, PartialEq)]
enum Peer {
    /// Echoes the first datagram at once.
    Answers,
    /// Drops the first datagram, as a network may, and echoes the second.
    DropsFirst,
    /// Lets a stranger send the client a datagram first, then echoes.
    StrangerFirst,
    /// Drops every datagram.
    Silent,
    /// Drops the first datagram and echoes the second, while a stranger sends the client a
    /// datagram every [`CHATTER_EVERY`], from before the first until `ask` returns.
    DropsFirstWhileAStrangerChats,
}

/// How often the chatty stranger sends: far more often than [`WAIT`], so that a wait that starts
/// again at each datagram never runs out.
const CHATTER_EVERY: Duration = Duration::from_millis(50);

/// One call of the learner's `ask`, and what it should return.
struct Round {
    message: &'static str,
    peer: Peer,
    /// `Some((echo, attempt))`: ask must return that. `None`: it must return an error.
    expected: Option<(&'static str, u32)>,
    /// Where the server and `ask`'s socket are: IPv4 or IPv6 loopback.
    loopback: &'static str,
}

/// The rounds over IPv4 loopback.
fn rounds() -> [Round; 6] {
    let round = |message, peer, expected| Round {
        message,
        peer,
        expected,
        loopback: "127.0.0.1:0",
    };
    let long = LONG_MESSAGE.as_str();
    [
        round("hello", Peer::Answers, Some(("hello", 1))),
        round(
            "are you there?",
            Peer::DropsFirst,
            Some(("are you there?", 2)),
        ),
        round("hello again", Peer::StrangerFirst, Some(("hello again", 1))),
        round("anyone?", Peer::Silent, None),
        round(long, Peer::Answers, Some((long, 1))),
        round(
            "still there?",
            Peer::DropsFirstWhileAStrangerChats,
            Some(("still there?", 2)),
        ),
    ]
}

/// The round over IPv6 loopback, played where the machine has it.
const OVER_IPV6: Round = Round {
    message: "hello over IPv6",
    peer: Peer::DropsFirst,
    expected: Some(("hello over IPv6", 2)),
    loopback: "[::1]:0",
};

/// How a call of `ask` ended, as far as the check could see.
enum Returned {
    Answer(String, u32),
    /// An error, with its words (`{:#}`), which the verdict quotes and the transcript does not.
    Error(String),
    Panicked,
    NotYet,
}

/// Runs the check: the transcript if all went well, otherwise what went wrong.
pub fn run(ask: impl Ask) -> Result<Transcript, Failure> {
    run_as("05_udp_echo_client.rs", ask)
}

/// Like [`run`], for an answer kept in another file than the exercise's (see `Script::run_as`).
pub fn run_as(answer_file: &str, ask: impl Ask) -> Result<Transcript, Failure> {
    let panics = panics::Recording::start(answer_file);
    let ask = Arc::new(ask);
    let mut transcript = Transcript::default();
    let rounds = rounds();
    for (number, round) in rounds.iter().enumerate() {
        transcript.push(format!(
            "round {}: ask(server, {}, wait {} ms, {ATTEMPTS} attempts)",
            number + 1,
            show_short(round.message.as_bytes()),
            WAIT.as_millis()
        ));
        if let Err(reason) = play(round, Arc::clone(&ask), &mut transcript) {
            transcript.push("(the check stops here)");
            let reason = panics.explain("ask", "ask", reason);
            return Err(Failure {
                exercise: EXERCISE,
                reason,
                transcript,
                seed: None,
            });
        }
    }
    if !has_ipv6_loopback() {
        return Ok(transcript);
    }
    // Passed, the IPv6 round leaves the transcript as it is on a machine without IPv6.
    let mut over_ipv6 = transcript.clone();
    over_ipv6.push(format!(
        "round {}, over IPv6 loopback (the server and ask's socket on [::1]): ask(server, {}, \
         wait {} ms, {ATTEMPTS} attempts)",
        rounds.len() + 1,
        show_short(OVER_IPV6.message.as_bytes()),
        WAIT.as_millis()
    ));
    if let Err(reason) = play(&OVER_IPV6, ask, &mut over_ipv6) {
        over_ipv6.push("(the check stops here)");
        let reason = panics.explain("ask", "ask", reason);
        return Err(Failure {
            exercise: EXERCISE,
            reason: format!(
                "Over IPv6 loopback (the server and the socket ask was given both on [::1]): \
                 {reason}\nUse the socket and the address you are given, whatever their family: \
                 a socket of one family cannot send to an address of the other."
            ),
            transcript: over_ipv6,
            seed: None,
        });
    }
    Ok(transcript)
}

/// Checks a learner's client in a child process (see [`super::check_client_exercise`]).
pub fn check_exercise(ask: impl Ask) {
    super::check_client_exercise(EXERCISE, || run(ask));
}

/// Checks the reference solution in a child process, and its transcript against the snapshot.
pub fn check_solution(ask: impl Ask) {
    super::check_client_solution(EXERCISE, || run(ask));
}

/// Plays one round: the scripted server on this thread, the learner's `ask` on another.
fn play(round: &Round, ask: Arc<impl Ask>, transcript: &mut Transcript) -> Result<(), String> {
    let server = UdpSocket::bind(round.loopback).expect("the check needs a loopback UDP port");
    let server_address = server.local_addr().expect("a bound socket has an address");
    let client = Arc::new(UdpSocket::bind(round.loopback).expect("a loopback UDP port"));
    let client_address = client.local_addr().expect("a bound socket has an address");

    let (returned_sender, returned) = mpsc::channel();
    let for_ask = Arc::clone(&client);
    let message = round.message;
    let chatter = (round.peer == Peer::DropsFirstWhileAStrangerChats)
        .then(|| Chatter::start(round.loopback, client_address));
    thread::spawn(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            ask(&for_ask, server_address, message, WAIT, ATTEMPTS)
        }));
        let _ = returned_sender.send(result);
    });

    let heard = serve_round(round, &server, client_address, transcript);
    if heard.datagrams > ATTEMPTS {
        // Already wrong, whatever ask returns; and a client that never gives up never returns.
        // Answer it once, so that it stops: left sending, it would send for ever to a port the
        // system may hand out again, to a later round's socket, as a stranger nobody planned.
        let _ = server.send_to(b"(the check is over)", client_address);
        return judge(round, heard, &Returned::NotYet);
    }
    let returned = match returned.recv_timeout(WAIT * ATTEMPTS + SLACK) {
        Ok(Ok(Ok((echo, attempt)))) => Returned::Answer(echo, attempt),
        Ok(Ok(Err(error))) => Returned::Error(format!("{error:#}")),
        Ok(Err(_)) => Returned::Panicked,
        Err(_) => Returned::NotYet,
    };
    // Quiet, before the wake-up below: a wait that the stranger keeps restarting would miss it.
    drop(chatter);
    match &returned {
        Returned::Answer(echo, attempt) => transcript.push(format!(
            "ask returns ({}, attempt {attempt})",
            show_short(echo.as_bytes())
        )),
        // The error's words vary from one learner to the next: the transcript notes only that
        // it was one.
        Returned::Error(_) => transcript.push("ask returns an error"),
        Returned::Panicked => transcript.push("ask panics"),
        Returned::NotYet => {
            transcript.push(format!(
                "ask has still not returned {} ms later",
                (WAIT * ATTEMPTS + SLACK).as_millis()
            ));
            // An `ask` stuck in a receive without a limit would wait for ever: wake it, so its
            // thread can end. What it then returns no longer matters.
            let _ = server.send_to(b"(the check is over)", client_address);
        }
    }
    // A datagram that came after the stranger's, before ask returned: ask sent again, when it
    // should have gone on waiting. It is in the server's socket by now, if it was sent.
    let mut heard = heard;
    if round.peer == Peer::StrangerFirst && matches!(returned, Returned::Answer(..)) {
        let _ = server.set_nonblocking(true);
        let mut buffer = vec![0; 65_536];
        if let Ok((_, from)) = server.recv_from(&mut buffer) {
            if from == client_address {
                transcript.push(format!(
                    "the server receives {} again (datagram 2), sent after the stranger's",
                    show_short(round.message.as_bytes())
                ));
                heard.sent_again_at_the_stranger = true;
            }
        }
    }
    judge(round, heard, &returned)
}

/// A stranger that sends the client a datagram every [`CHATTER_EVERY`] until dropped.
struct Chatter {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Chatter {
    fn start(loopback: &str, client: SocketAddr) -> Chatter {
        let stranger = UdpSocket::bind(loopback).expect("a loopback UDP port");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                let _ = stranger.send_to(STRANGER_SAYS.as_bytes(), client);
                thread::sleep(CHATTER_EVERY);
            }
        });
        Chatter {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Chatter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the scripted server saw of the client in one round.
struct Heard {
    /// How many datagrams with the right message arrived.
    datagrams: u32,
    /// Something the client sent that no answer can excuse, in words.
    problem: Option<String>,
    /// The client sent its message again when the stranger's datagram came.
    sent_again_at_the_stranger: bool,
    /// The round's message came from another socket than the one `ask` was given.
    from_another_socket: bool,
}

/// The scripted server's side of one round. Every wait has a limit.
fn serve_round(
    round: &Round,
    server: &UdpSocket,
    client: SocketAddr,
    transcript: &mut Transcript,
) -> Heard {
    let mut heard = Heard {
        datagrams: 0,
        problem: None,
        sent_again_at_the_stranger: false,
        from_another_socket: false,
    };
    let mut buffer = vec![0; 65_536];
    // The longest the client may take between two datagrams, with room to spare.
    let _ = server.set_read_timeout(Some(WAIT + SLACK));
    // Enough to see a client that never stops: one more datagram than it may send.
    while heard.datagrams <= ATTEMPTS {
        let (size, from) = match server.recv_from(&mut buffer) {
            Ok(received) => received,
            Err(_) => {
                let silence = (WAIT + SLACK).as_millis();
                let line = match heard.datagrams {
                    0 => format!("the server receives nothing within {silence} ms"),
                    _ => format!("the server receives nothing more within {silence} ms"),
                };
                transcript.push(line);
                if heard.datagrams == 0 && heard.from_another_socket {
                    heard.problem = Some(format!(
                        "{} came from another socket than the one ask was given: send with \
                         that socket, whose address is where the server's answer goes.",
                        show_short(round.message.as_bytes())
                    ));
                }
                return heard;
            }
        };
        let text = String::from_utf8_lossy(&buffer[..size]).into_owned();
        // Not from the client's socket: a datagram from elsewhere on this machine (another
        // program, or the client of an earlier check still asking at a port now reused), never
        // the client's; unless it is the round's message, sent from another socket.
        if from != client {
            heard.from_another_socket |= text == round.message;
            continue;
        }
        if text != round.message {
            transcript.push(format!(
                "the server receives {}",
                show_short(text.as_bytes())
            ));
            heard.problem = Some(format!(
                "ask should send the message, {}, and nothing else.",
                show_short(round.message.as_bytes())
            ));
            return heard;
        }
        heard.datagrams += 1;
        let number = heard.datagrams;
        let echo = match round.peer {
            Peer::Answers => true,
            Peer::DropsFirst | Peer::DropsFirstWhileAStrangerChats => number == 2,
            Peer::StrangerFirst => {
                let stranger = UdpSocket::bind("127.0.0.1:0").expect("a loopback UDP port");
                let _ = stranger.send_to(STRANGER_SAYS.as_bytes(), client);
                transcript.push(format!(
                    "the server receives {} (datagram {number}); first, a stranger sends \
                     {STRANGER_SAYS:?} to the client",
                    show_short(text.as_bytes())
                ));
                // Give the stranger's datagram time to arrive first.
                thread::sleep(Duration::from_millis(50));
                let _ = server.send_to(&buffer[..size], client);
                transcript.push(format!(
                    "then the server echoes {}",
                    show_short(text.as_bytes())
                ));
                return heard;
            }
            Peer::Silent => false,
        };
        if echo {
            let _ = server.send_to(&buffer[..size], client);
            transcript.push(format!(
                "the server receives {} (datagram {number}) and echoes it",
                show_short(text.as_bytes())
            ));
            return heard;
        }
        let meanwhile = match round.peer {
            Peer::DropsFirstWhileAStrangerChats => format!(
                "; meanwhile a stranger sends {STRANGER_SAYS:?} to the client every {} ms",
                CHATTER_EVERY.as_millis()
            ),
            _ => String::new(),
        };
        transcript.push(format!(
            "the server receives {} (datagram {number}) and drops it{meanwhile}",
            show_short(text.as_bytes())
        ));
    }
    heard
}

/// Compares what happened with what should have, and names the likely mistake.
fn judge(round: &Round, heard: Heard, returned: &Returned) -> Result<(), String> {
    if let Some(problem) = heard.problem {
        return Err(problem);
    }
    if heard.datagrams > ATTEMPTS {
        return Err(format!(
            "The server received {} {} times, when ask may try {ATTEMPTS} times: stop \
             after the last attempt, and return an error saying nobody answered. (A client \
             that never gives up hangs for ever when the server is down.)",
            show_short(round.message.as_bytes()),
            heard.datagrams
        ));
    }
    match (round.peer, round.expected, returned) {
        (Peer::StrangerFirst, _, Returned::Answer(..)) if heard.sent_again_at_the_stranger => {
            Err(format!(
                "A stranger's datagram came first, and ask sent {} again at once, before `wait` \
                 was up: a stranger's datagram is neither the answer nor the end of the wait. \
                 Ignore it, and wait for what is left of `wait` (a deadline: \
                 Instant::now() + wait).",
                show_short(round.message.as_bytes())
            ))
        }
        (_, Some((echo, attempt)), Returned::Answer(got, got_attempt))
            if got == echo && *got_attempt == attempt =>
        {
            Ok(())
        }
        (_, None, Returned::Error(_)) if heard.datagrams == ATTEMPTS => Ok(()),
        (Peer::DropsFirstWhileAStrangerChats, _, Returned::NotYet) if heard.datagrams == 1 => {
            Err(format!(
                "The server dropped {} and a stranger sent the client a datagram every {} ms: \
                 ask never sent again, and was still waiting long after. Does each stranger's \
                 datagram start the wait over? Then a stranger who sends often enough keeps \
                 your client waiting for ever: keep a deadline (Instant::now() + wait) and wait \
                 only for what is left of it.",
                show_short(round.message.as_bytes()),
                CHATTER_EVERY.as_millis()
            ))
        }
        (_, _, Returned::NotYet) if heard.datagrams == 1 && round.peer != Peer::Answers => {
            Err(format!(
                "The server received {} once, dropped it, and ask was still waiting long \
                 after: a lost datagram is never answered, so a wait without a limit lasts for \
                 ever. Give the wait a limit (socket.set_read_timeout(Some(wait))), and send \
                 again when it runs out.",
                show_short(round.message.as_bytes())
            ))
        }
        (_, _, Returned::NotYet) => Err(format!(
            "ask had not returned {} ms after its last allowed attempt: does every wait \
             have a limit, and does ask stop after {ATTEMPTS} attempts?",
            SLACK.as_millis()
        )),
        (Peer::DropsFirst | Peer::DropsFirstWhileAStrangerChats, _, Returned::Error(words))
            if heard.datagrams == 1 =>
        {
            Err(format!(
                "The server dropped the first datagram, and ask returned an error ({words:?}) \
                 without sending {} again: UDP loses datagrams without telling anyone, so when \
                 the wait runs out, send again, up to {ATTEMPTS} attempts in all. A wait that \
                 runs out is WouldBlock on Unix and TimedOut on Windows: match both. (And when \
                 no time is left of the wait, send again: a read timeout of zero is refused.)",
                show_short(round.message.as_bytes())
            ))
        }
        (
            Peer::StrangerFirst | Peer::DropsFirstWhileAStrangerChats,
            _,
            Returned::Answer(got, _),
        ) if got == STRANGER_SAYS => Err(format!(
            "ask returned {STRANGER_SAYS:?}, which came from a stranger, not from the server: \
             anyone can send a datagram to your port. Compare the sender's address that \
             recv_from returns with `server`, and keep waiting when they differ."
        )),
        (_, Some((_, attempt)), Returned::Answer(got, got_attempt))
            if got == round.message && *got_attempt != attempt =>
        {
            Err(format!(
                "ask returned the echo as answering attempt {got_attempt}, but it answered \
                 datagram {attempt}: count the attempts from 1, one for each datagram sent."
            ))
        }
        (_, Some((echo, _)), Returned::Answer(got, _)) if got.len() < echo.len() => Err(format!(
            "ask returned {} bytes of the {}-byte echo: the datagram was cut. recv_from fills \
             at most the buffer it is given, and the rest of the datagram is lost (std's docs: \
             \"excess bytes may be discarded\"): give it room for the largest datagram there \
             is, 65,536 bytes.",
            got.len(),
            echo.len()
        )),
        (_, Some((echo, _)), Returned::Answer(got, _)) => Err(format!(
            "ask returned {} where the echo {} was expected: return the bytes of the server's \
             datagram, all of them and nothing else.",
            show_short(got.as_bytes()),
            show_short(echo.as_bytes())
        )),
        (_, Some(_), Returned::Error(words)) if heard.datagrams == 0 => Err(format!(
            "ask returned an error ({words:?}), and the server received nothing: does ask send \
             the message to `server`, through the socket it is given?"
        )),
        (_, Some((echo, _)), Returned::Error(words)) if echo.len() > 1024 => Err(format!(
            "ask returned an error ({words:?}) for a {}-byte message, though the server echoed \
             it whole: is the buffer recv_from is given smaller than the datagram? Give it room \
             for the largest datagram there is, 65,536 bytes.",
            echo.len()
        )),
        (_, Some(_), Returned::Error(words)) => Err(format!(
            "ask returned an error ({words:?}), though the server answered: did ask take the \
             server's answer for a stranger's? Compare the sender's address recv_from gives \
             with `server` as two SocketAddr values (==): text put together by hand can differ \
             for the same address (IPv6 needs brackets), and the IP alone lets a stranger on \
             another port through. Or did a call fail? Only a wait that runs out (WouldBlock \
             on Unix, TimedOut on Windows) means \"send again\"; a stranger's datagram means \
             \"wait for what is left\". (A read timeout of zero is refused: when no time is \
             left, send again instead.)"
        )),
        (_, None, Returned::Answer(got, _)) => Err(format!(
            "Nobody answered, and ask returned {} anyway: when every attempt goes \
             unanswered, return an error.",
            show_short(got.as_bytes())
        )),
        (_, None, Returned::Error(_)) => Err(format!(
            "ask gave up after sending {} datagrams, when {ATTEMPTS} attempts were allowed: \
             send again each time the wait runs out, {ATTEMPTS} times in all.",
            heard.datagrams
        )),
        (_, _, Returned::Panicked) => Err("ask panicked.".to_string()),
    }
}
