//! The check for exercise 02: an echo client that gets the whole reply however it is split.
//!
//! Here the learner writes the client, so the check plays the server: a fake echo server that
//! splits its reply in two, sends a reply longer than one small read, and hangs up halfway through
//! a reply. The learner's `send_line` must return the whole line, and an error for a broken one.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::script::{PATIENCE, show};
use super::{Exercise, Failure, Transcript, panics};

pub const EXERCISE: Exercise = Exercise {
    id: "02_echo_client",
    title: "the echo client that reads the whole reply",
    chapter: "book/src/02-echo.md",
};

/// How long the fake server pauses halfway through a reply. A client that takes one read for the
/// whole reply has long returned by then.
const PAUSE: Duration = Duration::from_secs(1);

/// How the fake server answers in one round.
#[derive(Clone, Copy)]
enum Reply {
    /// The echo in two writes, with a pause between them.
    Split,
    /// The echo in one write.
    Whole,
    /// The first half of the echo, then the server closes the connection.
    HangUpHalfway,
}

/// One call of the learner's `send_line`, and what it should return.
struct Round {
    message: String,
    reply: Reply,
    /// `Some(text)`: send_line must return `Ok(text)`. `None`: it must return an error.
    expected: Option<String>,
    if_wrong: &'static str,
}

fn rounds() -> Vec<Round> {
    vec![
        Round {
            message: "hello".to_string(),
            reply: Reply::Split,
            expected: Some("hello".to_string()),
            if_wrong: "The echo came in two pieces, \"hel\" and a moment later \"lo\\n\". \
                       send_line should keep reading until the newline arrives: one read() is \
                       not one reply. (BufReader's read_line or read_until do the looping.)",
        },
        Round {
            message: "x".repeat(2000),
            reply: Reply::Whole,
            expected: Some("x".repeat(2000)),
            if_wrong: "A 2000-byte message came back whole in one write, and send_line did not \
                       return all of it: does it read once into a small buffer (like the \
                       seed's recv(1024))? Keep reading until the newline.",
        },
        Round {
            message: "are you there?".to_string(),
            reply: Reply::HangUpHalfway,
            expected: None,
            if_wrong: "The server sent half of the echo and then closed the connection. A reply \
                       without its newline is broken: send_line should return an error, not \
                       pretend the half is the whole reply.",
        },
    ]
}

/// What the learner writes: send one line, return the echoed line without its newline.
pub trait SendLine: Fn(SocketAddr, &str) -> anyhow::Result<String> + Send + Sync + 'static {}
impl<F: Fn(SocketAddr, &str) -> anyhow::Result<String> + Send + Sync + 'static> SendLine for F {}

/// Runs the check: the transcript if `send_line` behaved, otherwise what went wrong.
pub fn run(send_line: impl SendLine) -> Result<Transcript, Failure> {
    let _guard = panics::one_check_at_a_time();
    let send_line = std::sync::Arc::new(send_line);
    let mut transcript = Transcript::default();
    for (number, round) in rounds().into_iter().enumerate() {
        transcript.push(format!(
            "round {}: send_line(server, {})",
            number + 1,
            shorten(round.message.as_bytes())
        ));
        if let Err(reason) = play(&round, send_line.clone(), &mut transcript) {
            transcript.push("(the check stops here)");
            let panics = panics::recorded();
            let reason = match panics.first() {
                Some(todo) if todo.starts_with("not yet implemented") => format!(
                    "Exercise not finished: send_line reached a `todo!()`: {todo}.\nReplace it \
                     with your code; the `// TODO:` comments say what goes there."
                ),
                Some(other) => format!("{reason}\nsend_line panicked: {other}."),
                None => reason,
            };
            return Err(Failure {
                exercise: EXERCISE,
                reason,
                transcript,
            });
        }
    }
    Ok(transcript)
}

/// Checks a learner's client, panicking with a readable failure. Never writes a file.
pub fn check_exercise(send_line: impl SendLine) {
    if let Err(failure) = run(send_line) {
        panic!("\n\n{failure}\n");
    }
}

/// Checks the reference solution, and its transcript against the snapshot through insta.
pub fn check_solution(send_line: impl SendLine) {
    match run(send_line) {
        Ok(transcript) => super::assert_matches_snapshot(EXERCISE.id, &transcript),
        Err(failure) => panic!("\n\nthe reference solution fails its own check:\n{failure}\n"),
    }
}

/// Plays one round: the fake server on one side, the learner's `send_line` on the other.
fn play(
    round: &Round,
    send_line: std::sync::Arc<impl SendLine>,
    transcript: &mut Transcript,
) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the check needs a loopback port");
    let server = listener
        .local_addr()
        .expect("a bound listener has an address");

    let (returned_sender, returned) = mpsc::channel();
    let message = round.message.clone();
    thread::spawn(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(|| send_line(server, &message)));
        let _ = returned_sender.send(result);
    });

    let (events_sender, events) = mpsc::channel();
    let (message, reply) = (round.message.clone(), round.reply);
    thread::spawn(move || fake_server(listener, &message, reply, events_sender));

    // The server's side first: it ends by itself within a few PATIENCEs.
    while let Ok(event) = events.recv_timeout(PATIENCE * 3) {
        match event {
            Event::Line(line) => transcript.push(line),
            Event::Problem(line, reason) => {
                transcript.push(line);
                // Still write down what send_line returned: it tells the learner the most.
                record_return(&returned, transcript);
                return Err(reason);
            }
        }
    }
    match record_return(&returned, transcript) {
        Some(got) if matches(&got, &round.expected) => Ok(()),
        _ => Err(round.if_wrong.to_string()),
    }
}

fn matches(got: &Result<String, ()>, expected: &Option<String>) -> bool {
    match (got, expected) {
        (Ok(text), Some(want)) => text == want,
        (Err(()), None) => true,
        _ => false,
    }
}

/// Writes down what send_line returned; `None` if it never did (or panicked).
fn record_return(
    returned: &mpsc::Receiver<thread::Result<anyhow::Result<String>>>,
    transcript: &mut Transcript,
) -> Option<Result<String, ()>> {
    match returned.recv_timeout(PATIENCE) {
        Ok(Ok(Ok(text))) => {
            transcript.push(format!(
                "send_line returns Ok({})",
                shorten(text.as_bytes())
            ));
            Some(Ok(text))
        }
        // The error's own words vary from one learner to the next: the transcript only notes
        // that it was an error.
        Ok(Ok(Err(_))) => {
            transcript.push("send_line returns an error");
            Some(Err(()))
        }
        Ok(Err(_)) => {
            transcript.push("send_line panics");
            None
        }
        Err(_) => {
            transcript.push(format!(
                "send_line has not returned after {} more s",
                PATIENCE.as_secs()
            ));
            None
        }
    }
}

enum Event {
    Line(String),
    /// Something the client did wrong, seen from the server: the line, and what it likely means.
    Problem(String, String),
}

/// The fake echo server for one round. Ends by itself: every wait has a limit.
fn fake_server(listener: TcpListener, message: &str, reply: Reply, events: mpsc::Sender<Event>) {
    let say = |line: String| {
        let _ = events.send(Event::Line(line));
    };
    let problem = |line: String, reason: &str| {
        let _ = events.send(Event::Problem(line, reason.to_string()));
    };
    // accept() has no time limit of its own; a client that never connects is caught by the
    // limit on waiting for send_line to return.
    let Ok((stream, _)) = listener.accept() else {
        return problem(
            "the server cannot accept".into(),
            "The check's server failed.",
        );
    };
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let _ = stream.set_write_timeout(Some(PATIENCE));
    let mut reader = BufReader::new(&stream);
    let mut line = Vec::new();
    let _ = reader.read_until(b'\n', &mut line);
    let wanted = format!("{message}\n");
    if line != wanted.as_bytes() {
        let seen = if line.is_empty() {
            format!(
                "the server receives nothing within {} s",
                PATIENCE.as_secs()
            )
        } else {
            format!("the server receives {}", shorten(&line))
        };
        return problem(
            seen,
            "send_line should send the message followed by a newline (\"\\n\"): that is how \
             the server knows the line is complete.",
        );
    }
    say(format!("the server receives {}", shorten(&line)));

    let mut writer = &stream;
    let middle = line.len() / 2;
    match reply {
        Reply::Whole => {
            let _ = writer.write_all(&line);
            say(format!("the server sends {}", shorten(&line)));
        }
        Reply::Split => {
            let _ = writer.write_all(&line[..middle]);
            say(format!(
                "the server sends {} and waits {} s",
                show(&line[..middle]),
                PAUSE.as_secs()
            ));
            // The pause is a read with a time limit: if the client closes meanwhile, we see it.
            let _ = stream.set_read_timeout(Some(PAUSE));
            let mut byte = [0; 1];
            match (&stream).read(&mut byte) {
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                _ => {
                    return say(
                        "the client closes the connection before the rest of the reply".to_string(),
                    );
                }
            }
            let _ = writer.write_all(&line[middle..]);
            say(format!("the server sends {}", show(&line[middle..])));
        }
        Reply::HangUpHalfway => {
            let _ = writer.write_all(&line[..middle]);
            let _ = stream.shutdown(Shutdown::Both);
            return say(format!(
                "the server sends {} and closes the connection",
                show(&line[..middle])
            ));
        }
    }
    // A client should hang up once it has its line. One that waits for the server to close
    // first (read_to_end, say) would wait forever on a real echo server.
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let mut rest = Vec::new();
    match (&stream).read_to_end(&mut rest) {
        Ok(_) if rest.is_empty() => say("the client closes the connection".to_string()),
        Ok(_) => problem(
            format!("the client sends {} after its line", shorten(&rest)),
            "send_line should send one line and nothing else.",
        ),
        Err(_) => problem(
            format!(
                "the client keeps the connection open for {} s after the reply",
                PATIENCE.as_secs()
            ),
            "send_line should return as soon as the newline arrives, closing the connection \
             (drop the stream). Reading until the server closes (read_to_end) waits forever on \
             an echo server, which never closes first.",
        ),
    }
}

/// Long texts in a transcript: the start and the length are enough.
fn shorten(bytes: &[u8]) -> String {
    if bytes.len() <= 30 {
        return show(bytes);
    }
    let start = show(&bytes[..12]);
    format!(
        "{}...\" ({} bytes)",
        start.trim_end_matches('"'),
        bytes.len()
    )
}
