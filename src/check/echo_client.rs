//! The check for exercise 02: an echo client that sends several lines, then collects one echo for
//! each, however the echoes are cut up or run together on their way back.
//!
//! Here the learner writes the client, so the check plays the server: a fake echo server that
//! sends two echoes in one write, splits one echo in two, sends an echo longer than one small
//! read, answers with other words than it was sent (cut up on the way by the harness's shaper),
//! hangs up before the last echo, and hangs up in the middle of one. `send_lines` must return
//! exactly the lines that came back, one per line sent, and an error when one is missing or cut
//! off.
//!
//! # The input space, and what covers it
//!
//! - How the echoes come: two in one write, one split in two, one longer than a small read, one
//!   split in the middle of a two-byte character (`û`, in `crème brûlée ☕`, which has three-byte
//!   `☕` too), other words than were sent, cut up by the shaper.
//! - How the server ends: it hangs up before the last echo, and in the middle of one: both must
//!   give an error, never a short answer.
//! - What the function must do after the last echo: return, and close the connection.
//! - A function that panics, exits or aborts: named (it runs in a child process of the check).
//! - Not covered: an empty list of lines, a server that never answers at all.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use super::peer::{show, show_short};
use super::shaper::Shaper;
use super::step::PATIENCE;
use super::{Exercise, Failure, Transcript, panics};

pub const EXERCISE: Exercise = Exercise {
    id: "02_echo_client",
    title: "the echo client that collects every echo",
    chapter: "book/src/02-echo.md",
};

/// How long the fake server pauses in the middle of a split echo. A client that takes one read
/// for one reply has long returned by then.
const PAUSE: Duration = Duration::from_secs(1);

/// How the fake server sends its echoes back in one round.
#[derive(Clone, Copy)]
enum Reply {
    /// All the echoes in a single write.
    Together,
    /// Each echo in two writes, with a pause in the middle.
    Split,
    /// Other lines than were sent, one write each, cut up or run together by the shaper: a
    /// server need not echo, and the client must return what it really received.
    Other(&'static [&'static str]),
    /// The first echo, then the server closes the connection.
    HangUpAfterFirst,
    /// The first echo and the start of the second, then the server closes the connection.
    HangUpMidEcho,
}

/// One call of the learner's `send_lines`, and what it should return.
struct Round {
    lines: Vec<String>,
    reply: Reply,
    /// `Some(echoes)`: send_lines must return `Ok(echoes)`. `None`: it must return an error.
    expected: Option<Vec<String>>,
    /// What it likely means when send_lines returns something else, and what it returned
    /// suggests nothing better.
    if_wrong: &'static str,
}

fn rounds() -> Vec<Round> {
    let round = |lines: &[&str], reply, ok: bool, if_wrong| Round {
        lines: lines.iter().map(|line| line.to_string()).collect(),
        reply,
        expected: ok.then(|| lines.iter().map(|line| line.to_string()).collect()),
        if_wrong,
    };
    let long = "x".repeat(2000);
    vec![
        round(
            &["hello", "world"],
            Reply::Together,
            true,
            "Both echoes came back in one write, \"hello\\nworld\\n\", and send_lines did not \
             return [\"hello\", \"world\"]. One read() can hold several replies: split what you \
             read at each newline, and keep what follows for the next reply. (A BufReader does \
             exactly that, as long as you keep the same one for every reply.)",
        ),
        round(
            &["split"],
            Reply::Split,
            true,
            "The echo came in two pieces, \"spl\" and a moment later \"it\\n\", and send_lines \
             did not return [\"split\"]. One read() is not one reply: keep reading until the \
             newline arrives.",
        ),
        round(
            &[&long, "y"],
            Reply::Together,
            true,
            "A 2000-byte echo came back, and send_lines did not return all of it: does it read \
             once into a small buffer, like the seed's recv(1024)? Keep reading until the \
             newline.",
        ),
        round(
            &[
                "  spaces around  ",
                "a carriage return\r",
                "\ttabs\t",
                "",
                "after an empty line",
            ],
            Reply::Together,
            true,
            "Echoes with spaces, tabs or a carriage return at their ends, or an empty one, came \
             back changed: remove the newline from each echo, and nothing else; an empty line is \
             an echo too. (trim() and trim_end() remove \
             spaces too, and lines() a \"\\r\" before the newline.)",
        ),
        Round {
            lines: vec!["ping".into(), "ping".into(), "hello".into()],
            reply: Reply::Other(&["pong", "PONG", "hello to you too"]),
            expected: Some(vec![
                "pong".into(),
                "PONG".into(),
                "hello to you too".into(),
            ]),
            if_wrong: "The server answered with other words than it was sent, cut up on the \
                       way, and send_lines did not return them: return exactly the lines that \
                       came back, one per line sent.",
        },
        round(
            &["crème brûlée ☕"],
            Reply::Split,
            true,
            "The echo came in two pieces, cut between the two bytes of \"û\", and send_lines \
             did not return it whole. Does it make text of each read on its own (from_utf8 or \
             from_utf8_lossy on a piece)? Half a character is not text: collect the bytes up to \
             the newline first, then make text of the whole line. (\\xc3\\xbb is \"û\"; \
             \\xef\\xbf\\xbd is \"�\", U+FFFD, which from_utf8_lossy puts in place of bytes \
             that are not a whole character.)",
        ),
        round(
            &["are you", "there?"],
            Reply::HangUpAfterFirst,
            false,
            "The server echoed the first line and then closed the connection, and send_lines \
             did not return an error. A missing echo (or one without its newline) means the \
             reply is broken: return an error, rather than pretend all is well.",
        ),
        round(
            &["cut", "short"],
            Reply::HangUpMidEcho,
            false,
            "The server sent \"cut\\nsho\" and closed the connection in the middle of the second \
             echo, and send_lines did not return an error. An echo without its newline was cut \
             off: read_until returns what it has when the connection ends, so check that the \
             line really ends with \"\\n\", and return an error if not.",
        ),
    ]
}

/// What the learner writes: send every line, then return one echo per line, without newlines.
pub trait SendLines:
    Fn(SocketAddr, &[&str]) -> anyhow::Result<Vec<String>> + Send + Sync + 'static
{
}
impl<F> SendLines for F where
    F: Fn(SocketAddr, &[&str]) -> anyhow::Result<Vec<String>> + Send + Sync + 'static
{
}

/// Runs the check: the transcript if `send_lines` behaved, otherwise what went wrong.
pub fn run(send_lines: impl SendLines) -> Result<Transcript, Failure> {
    run_as("02_echo_client.rs", send_lines)
}

/// Like [`run`], for an answer kept in another file than the exercise's (see `Script::run_as`).
pub fn run_as(answer_file: &str, send_lines: impl SendLines) -> Result<Transcript, Failure> {
    let panics = panics::Recording::start(answer_file);
    let seed = Shaper::seed_for_this_run();
    let mut shaper = Shaper::new(seed);
    let send_lines = Arc::new(send_lines);
    let mut transcript = Transcript::default();
    for (number, round) in rounds().into_iter().enumerate() {
        transcript.push(format!(
            "round {}: send_lines(server, {})",
            number + 1,
            show_list(&round.lines)
        ));
        let round_seed = seed ^ shaper.below(usize::MAX) as u64;
        let shaped = matches!(round.reply, Reply::Other(_));
        if let Err(reason) = play(
            &round,
            Arc::clone(&send_lines),
            Shaper::new(round_seed),
            &mut transcript,
        ) {
            transcript.push("(the check stops here)");
            let reason = panics.explain("send_lines", "send_lines", reason);
            return Err(Failure {
                exercise: EXERCISE,
                reason,
                transcript,
                seed: shaped.then_some(seed),
            });
        }
    }
    Ok(transcript)
}

/// Checks a learner's client in a child process (see [`super::check_client_exercise`]).
pub fn check_exercise(send_lines: impl SendLines) {
    super::check_client_exercise(EXERCISE, || run(send_lines));
}

/// Checks the reference solution in a child process, and its transcript against the snapshot.
pub fn check_solution(send_lines: impl SendLines) {
    super::check_client_solution(EXERCISE, || run(send_lines));
}

/// What the fake server saw of the client, beyond the lines it wrote down.
struct ServerSide {
    /// The client did something no reply can excuse; what it likely means.
    problem: Option<String>,
    /// The client kept the connection open after the last echo, until the server gave up.
    kept_open: bool,
}

/// Plays one round: the fake server on one side, the learner's `send_lines` on the other.
fn play(
    round: &Round,
    send_lines: Arc<impl SendLines>,
    shaper: Shaper,
    transcript: &mut Transcript,
) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the check needs a loopback port");
    let server = listener
        .local_addr()
        .expect("a bound listener has an address");

    let (returned_sender, returned) = mpsc::channel();
    let lines = round.lines.clone();
    thread::spawn(move || {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let result = panic::catch_unwind(AssertUnwindSafe(|| send_lines(server, &lines)));
        let _ = returned_sender.send(result);
    });

    let (events_sender, events) = mpsc::channel();
    let (lines, reply) = (round.lines.clone(), round.reply);
    let (side_sender, side) = mpsc::channel();
    thread::spawn(move || {
        let seen = fake_server(listener, &lines, reply, shaper, &events_sender);
        let _ = side_sender.send(seen);
    });

    // The server's side first: it ends by itself within a few PATIENCEs.
    while let Ok(line) = events.recv_timeout(PATIENCE * 3) {
        transcript.push(line);
    }
    let seen = side.recv_timeout(PATIENCE).unwrap_or(ServerSide {
        problem: Some("The client never connected to the server.".to_string()),
        kept_open: false,
    });
    let returned = record_return(&returned, transcript);
    if let Some(problem) = seen.problem {
        return Err(problem);
    }
    if returned.as_ref().map(Returned::echoes) != Some(round.expected.clone()) {
        return Err(judge_return(round, returned.as_ref()));
    }
    if seen.kept_open {
        return Err(format!(
            "send_lines returned what it should, but only after the server gave up waiting \
             {} s for the client to close.\n\
             send_lines should return, and close the connection (drop the stream), as soon as \
             the last echo has arrived. Reading until the server closes (read_to_end) waits \
             forever on an echo server, which never closes first.",
            PATIENCE.as_secs()
        ));
    }
    Ok(())
}

/// What send_lines returned.
enum Returned {
    Echoes(Vec<String>),
    /// An error, with its message.
    Error(String),
}

impl Returned {
    /// `Some(echoes)` for `Ok`, `None` for an error: comparable with [`Round::expected`].
    fn echoes(&self) -> Option<Vec<String>> {
        match self {
            Returned::Echoes(echoes) => Some(echoes.clone()),
            Returned::Error(_) => None,
        }
    }
}

/// The verdict on a return that was not the expected one: what came back, then what that
/// likely means, read off what came back before the round's own guess.
fn judge_return(round: &Round, returned: Option<&Returned>) -> String {
    let expected = match &round.expected {
        Some(echoes) => format!("Ok({})", show_list(echoes)),
        None => "an error".to_string(),
    };
    let what_came = match returned {
        None => "send_lines never returned (or panicked)".to_string(),
        Some(Returned::Echoes(echoes)) => format!("send_lines returned Ok({})", show_list(echoes)),
        Some(Returned::Error(message)) => format!("send_lines returned an error ({message:?})"),
    };
    let first = format!("{what_came}, where {expected} was expected.");
    let likely = match (returned, &round.expected) {
        (Some(Returned::Echoes(echoes)), Some(wanted))
            if *echoes == round.lines && round.lines != *wanted =>
        {
            "Those are the lines send_lines sent, not what came back: return the lines the \
             server sent, whatever they say."
                .to_string()
        }
        (Some(Returned::Echoes(echoes)), Some(wanted))
            if echoes.len() == wanted.len() && echoes != wanted && {
                let (mut a, mut b) = (echoes.clone(), wanted.clone());
                a.sort();
                b.sort();
                a == b
            } =>
        {
            "The right echoes, in another order: return them in the order they arrived.".to_string()
        }
        (Some(Returned::Error(_)), Some(_)) => {
            format!("Every echo did arrive, whole. {}", round.if_wrong)
        }
        _ => round.if_wrong.to_string(),
    };
    format!("{first}\n{likely}")
}

/// Writes down what send_lines returned, if it did (within [`PATIENCE`], without panicking).
fn record_return(
    returned: &mpsc::Receiver<thread::Result<anyhow::Result<Vec<String>>>>,
    transcript: &mut Transcript,
) -> Option<Returned> {
    match returned.recv_timeout(PATIENCE) {
        Ok(Ok(Ok(echoes))) => {
            transcript.push(format!("send_lines returns Ok({})", show_list(&echoes)));
            Some(Returned::Echoes(echoes))
        }
        // The error's own words vary from one learner to the next: the transcript only notes
        // that it was an error, and the verdict quotes it.
        Ok(Ok(Err(error))) => {
            transcript.push("send_lines returns an error");
            Some(Returned::Error(format!("{error:#}")))
        }
        Ok(Err(_)) => {
            transcript.push("send_lines panics");
            None
        }
        Err(_) => {
            transcript.push(format!(
                "send_lines has not returned {} s after the server closed",
                PATIENCE.as_secs()
            ));
            None
        }
    }
}

/// The fake echo server for one round. Ends by itself: every wait has a limit.
fn fake_server(
    listener: TcpListener,
    lines: &[String],
    reply: Reply,
    mut shaper: Shaper,
    events: &mpsc::Sender<String>,
) -> ServerSide {
    let say = |line: String| {
        let _ = events.send(line);
    };
    // The transcript's line, `the server receives ...`, is also the verdict's first sentence.
    let problem = |line: String, reason: &str| {
        let first = line.replacen("the server", "The server", 1);
        let _ = events.send(line);
        ServerSide {
            problem: Some(format!("{first}.\n{reason}")),
            kept_open: false,
        }
    };
    // accept() has no time limit of its own; a client that never connects is caught by the
    // limits on waiting for this thread and for send_lines.
    let Ok((stream, _)) = listener.accept() else {
        return problem(
            "the server cannot accept".into(),
            "The check's server failed.",
        );
    };
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let _ = stream.set_write_timeout(Some(PATIENCE));

    // Take in every line before answering any, as if they all arrived at once.
    let mut reader = BufReader::new(&stream);
    let mut received = Vec::new();
    for wanted in lines {
        let mut line = Vec::new();
        let _ = reader.read_until(b'\n', &mut line);
        if line != format!("{wanted}\n").as_bytes() {
            let seen = if line.is_empty() {
                format!(
                    "the server receives nothing more within {} s",
                    PATIENCE.as_secs()
                )
            } else {
                format!("the server receives {}", show_short(&line))
            };
            // Whole lines came, then silence: the client is waiting for an echo before it sends
            // the rest. Anything else that came is a line without its end.
            let advice = if line.is_empty() && !received.is_empty() {
                "send_lines should send all its lines before reading any echo: this server \
                 answers once every line has come, as a server may, and a client that waits for \
                 each echo before sending the next line waits for ever."
            } else {
                "send_lines should send each line followed by a newline (\"\\n\"), all of them \
                 before reading any echo: that is how the server knows where each line ends."
            };
            return problem(seen, advice);
        }
        received.push(line);
    }
    let all: Vec<u8> = received.concat();
    say(format!("the server receives {}", show_short(&all)));

    let mut writer = &stream;
    match reply {
        Reply::Together => {
            let _ = writer.write_all(&all);
            say(format!(
                "the server sends {} in one write",
                show_short(&all)
            ));
        }
        Reply::Split => {
            for echo in &received {
                let middle = echo.len() / 2;
                let _ = writer.write_all(&echo[..middle]);
                say(format!(
                    "the server sends {} and waits {} s",
                    show(&echo[..middle]),
                    PAUSE.as_secs()
                ));
                // The pause is a read with a time limit, so we see what the client does
                // meanwhile. Reading 0 bytes means it shut its sending side: a client may do
                // that as soon as it has sent everything (a half-close), or it may have closed
                // altogether. Either way the rest of the echo goes out; a client that already
                // returned will show it by what it returned.
                let _ = stream.set_read_timeout(Some(PAUSE));
                let mut byte = [0; 1];
                match (&stream).read(&mut byte) {
                    Err(error)
                        if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Ok(0) => say("the client shuts its sending side during the pause".into()),
                    Ok(_) => {
                        say("the client sends more during the pause".into());
                        return ServerSide {
                            problem: Some(
                                "send_lines should send its lines and nothing else.".to_string(),
                            ),
                            kept_open: false,
                        };
                    }
                    Err(_) => {
                        say("the client's connection is gone before the rest of the echo".into());
                        return ServerSide {
                            problem: None,
                            kept_open: false,
                        };
                    }
                }
                let _ = writer.write_all(&echo[middle..]);
                say(format!("the server sends {}", show(&echo[middle..])));
            }
        }
        Reply::Other(replies) => {
            // Each reply in a write of its own, but the shaper may cut it up on its way, or hold
            // it back to go out together with the next.
            let mut held = Vec::new();
            for (number, reply) in replies.iter().enumerate() {
                held.extend_from_slice(format!("{reply}\n").as_bytes());
                if number + 1 == replies.len() || !shaper.hold_back() {
                    let _ = shaper.write(&stream, &held);
                    held.clear();
                }
            }
            let all: String = replies.iter().map(|reply| format!("{reply}\n")).collect();
            say(format!("the server sends {}", show_short(all.as_bytes())));
        }
        Reply::HangUpMidEcho => {
            let first = &received[0];
            let start_of_second = &received[1][..received[1].len() / 2];
            let sent = [first.as_slice(), start_of_second].concat();
            let _ = writer.write_all(&sent);
            let _ = stream.shutdown(Shutdown::Both);
            say(format!(
                "the server sends {} and closes the connection",
                show(&sent)
            ));
            return ServerSide {
                problem: None,
                kept_open: false,
            };
        }
        Reply::HangUpAfterFirst => {
            let _ = writer.write_all(&received[0]);
            let _ = stream.shutdown(Shutdown::Both);
            say(format!(
                "the server sends {} and closes the connection",
                show(&received[0])
            ));
            return ServerSide {
                problem: None,
                kept_open: false,
            };
        }
    }
    wait_for_the_client_to_close(&stream, &say)
}

/// A client should hang up once it has its echoes. One that waits for the server to close first
/// (read_to_end, say) would wait forever on a real echo server.
fn wait_for_the_client_to_close(stream: &TcpStream, say: &impl Fn(String)) -> ServerSide {
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let mut rest = Vec::new();
    match (&*stream).read_to_end(&mut rest) {
        Ok(_) if rest.is_empty() => {
            say("the client closes the connection".to_string());
            ServerSide {
                problem: None,
                kept_open: false,
            }
        }
        Ok(_) => {
            say(format!(
                "the client sends {} after its lines",
                show_short(&rest)
            ));
            ServerSide {
                problem: Some("send_lines should send its lines and nothing else.".to_string()),
                kept_open: false,
            }
        }
        Err(_) => {
            say(format!(
                "the client keeps the connection open for {} s after the last echo, so the \
                 server closes it",
                PATIENCE.as_secs()
            ));
            let _ = stream.shutdown(Shutdown::Both);
            ServerSide {
                problem: None,
                kept_open: true,
            }
        }
    }
}

fn show_list(items: &[String]) -> String {
    let shown: Vec<String> = items
        .iter()
        .map(|item| show_short(item.as_bytes()))
        .collect();
    format!("[{}]", shown.join(", "))
}
