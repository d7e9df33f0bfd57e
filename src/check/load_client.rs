//! The check for exercise 11: the measuring loop of a load generator.
//!
//! Here the learner writes the clients, so the check plays the server: fake servers, one per
//! round, each wrong or slow in a way it knows exactly. For each, `measure` must report
//! exactly the round trips and errors that server's behaviour makes, and, where the server is
//! slow on purpose, times that could be true. A load tool that reports fast numbers for wrong
//! answers fails.
//!
//! # The input space, and what covers it
//!
//! - Who connects: [`CLIENTS`] clients, at once. The first round's server sends no first echo
//!   until all of them are connected (or a client's `timeout` has surely passed), and counts how
//!   many were connected at once: clients that connect one after another fail there.
//! - How the echoes come: each 50 ms late (round 1: every round trip must take at least that,
//!   and the median less than [`SLOW_MEDIAN`]); each in two writes 30 ms apart (round 2: one
//!   read holds only the first byte); every third echo of a connection with one byte changed
//!   (round 3: never a round trip); every second connection closed after three echoes (round
//!   4); one connection never answered (round 5: its client must give up after `timeout`, and
//!   `measure` return); no connection at all (round 6: a port bound but not listening, which
//!   refuses every connection and stays the check's, so nobody else can listen there); no
//!   connection ever made (round 7: a listener whose queue is full, which Linux and macOS leave
//!   unanswered, so every connect must give up after `timeout`; Windows refuses such a request,
//!   after about 2 s of its client's tries, so there the round cannot tell: see
//!   [`super::full_queue`]); each connection's second echo with one byte more after it, in the
//!   same write (round 8: a client that compares only the first bytes of what it read, and
//!   throws the rest away, counts it as a round trip).
//! - What is counted: round trips and errors must add up to clients times messages; an error
//!   ends its client, so every count here is exact, but in round 8, where a right client sees
//!   the byte more at its second message or at its third, depending on how it reads.
//! - Not judged: a write timeout (the messages are too small for a write to wait), and whether
//!   the clock starts before the write or after it (on loopback the difference is too small to
//!   see).
//! - A function that panics, exits, aborts or never returns: named (it runs in a child process
//!   of the check, and each round has a time limit).
//! - Not covered: IPv6, and throughput (round trips per second, which depends on the machine).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use super::full_queue::FullQueue;
use super::{Exercise, Failure, Transcript, panics};

pub const EXERCISE: Exercise = Exercise {
    id: "11_load",
    title: "the load generator that counts every wrong reply",
    chapter: "book/src/11-load.md",
};

/// How many clients `measure` is asked for, in every round.
pub const CLIENTS: usize = 4;
/// How many messages each client sends.
pub const MESSAGES: usize = 6;
/// The `timeout` `measure` is given.
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// How late round 1's server answers each message.
const DELAY: Duration = Duration::from_millis(50);
/// Round 1's median round trip must be below this. A round trip that is right takes `DELAY` and
/// a little; one timed from the client's start, or over every message so far, takes several.
const SLOW_MEDIAN: Duration = Duration::from_millis(150);
/// How long `measure` may take in the first round before the check gives up on it: clients
/// that run one after another take about 4 s there, and must reach that round's verdict (they
/// were never all connected at once).
const FIRST_ROUND_LIMIT: Duration = Duration::from_secs(6);
/// How long `measure` may take in the later rounds (all but the first and the one whose server
/// refuses, which get [`FIRST_ROUND_LIMIT`]). Clients that run at once and give up after
/// `timeout` finish each in well under a second (the round where one client waits for an echo
/// that never comes, in about `timeout`); one that waits much longer than its
/// `timeout`, or for ever, is named here, and the verdict comes within a few seconds.
const ROUND_LIMIT: Duration = Duration::from_secs(3);

/// What the learner writes: `measure(server, clients, messages, timeout)`, returning the good
/// round trips' times and the number of errors.
pub trait Measure:
    Fn(SocketAddr, usize, usize, Duration) -> (Vec<Duration>, usize) + Send + Sync + 'static
{
}
impl<F> Measure for F where
    F: Fn(SocketAddr, usize, usize, Duration) -> (Vec<Duration>, usize) + Send + Sync + 'static
{
}

/// How a round's fake server answers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Behaviour {
    /// Each echo `DELAY` late, and none until every client is connected.
    Late,
    /// Each echo in two writes: its first byte, then the rest 30 ms later.
    InPieces,
    /// Every third echo of a connection with its first byte changed.
    ChangesEveryThird,
    /// Every second connection (in the order accepted) closed after its third echo.
    ClosesEverySecondAfterThree,
    /// The second connection is never answered.
    IgnoresTheSecond,
    /// Nothing listens: every connection is refused.
    Refuses,
    /// A listener whose queue of waiting connections is full: no connection is ever made.
    QueueFull,
    /// Each connection's second echo with one byte more after it (a second newline), in the
    /// same write.
    OneByteMore,
}

impl Behaviour {
    fn describe(self) -> String {
        match self {
            Behaviour::Late => format!(
                "an echo server that answers each message {} ms late, and the first not before \
                 all {} clients are connected",
                DELAY.as_millis(),
                CLIENTS
            ),
            Behaviour::InPieces => {
                "an echo server that sends each echo in two writes, 30 ms apart".into()
            }
            Behaviour::ChangesEveryThird => {
                "an echo server that changes one byte of every third echo on a connection".into()
            }
            Behaviour::ClosesEverySecondAfterThree => {
                "an echo server that closes every second connection after its third echo".into()
            }
            Behaviour::IgnoresTheSecond => {
                "an echo server that never answers the second client to connect".into()
            }
            Behaviour::Refuses => "a port where nothing listens (every connection refused)".into(),
            Behaviour::QueueFull => "a server whose queue of waiting connections is full (no \
                                     connection is ever made)"
                .into(),
            Behaviour::OneByteMore => "an echo server that sends one byte more (a second \
                                       newline) right after the second echo of each connection, \
                                       in the same write"
                .into(),
        }
    }

    /// The errors this server's behaviour makes, when an error ends its client.
    fn errors(self) -> usize {
        match self {
            Behaviour::Late | Behaviour::InPieces => 0,
            // The third message fails, and the three after it are never sent.
            Behaviour::ChangesEveryThird => CLIENTS * (MESSAGES - 2),
            Behaviour::ClosesEverySecondAfterThree => CLIENTS / 2 * (MESSAGES - 3),
            Behaviour::IgnoresTheSecond => MESSAGES,
            // No connection at all: every client's every message.
            Behaviour::Refuses | Behaviour::QueueFull => CLIENTS * MESSAGES,
            // The byte more shows in the next echo: the third message fails. (A client that
            // reads what came and finds the byte at once fails at the second: see
            // [`Behaviour::allows`].)
            Behaviour::OneByteMore => CLIENTS * (MESSAGES - 2),
        }
    }

    /// Whether `round_trips` and `errors` are right against this server. One answer for each,
    /// but where a byte more can be seen at the second message or the third.
    fn allows(self, round_trips: usize, errors: usize) -> bool {
        match self {
            // Each client fails at its second message (the read that brings the echo brings
            // the byte too) or at its third (the next echo starts with it); never not at all.
            Behaviour::OneByteMore => {
                round_trips + errors == CLIENTS * MESSAGES
                    && (CLIENTS..=2 * CLIENTS).contains(&round_trips)
            }
            _ => errors == self.errors() && round_trips == CLIENTS * MESSAGES - errors,
        }
    }

    /// What it likely means when the counts are not what this server makes.
    fn if_wrong(self) -> &'static str {
        match self {
            Behaviour::Late => {
                "Every echo came, right, if late: a good load generator counts them all as \
                 round trips, and no errors. If some timed out, the server was waiting for the \
                 other clients: do yours connect at once, each on a thread of its own, or one \
                 after another?"
            }
            Behaviour::InPieces => {
                "Every echo came right, in two pieces: one read returns only what has arrived \
                 (here, the first byte). Read until the whole echo is in (read_exact), then \
                 compare it."
            }
            Behaviour::ChangesEveryThird => {
                "Every third echo was not the message sent: each is an error, never a round \
                 trip, and it ends its client, whose three messages after it count as errors \
                 too. Compare every echo with its message, byte for byte."
            }
            Behaviour::ClosesEverySecondAfterThree => {
                "Two connections closed after their third echo: each client's next message is \
                 an error (the echo can never come: read_exact says UnexpectedEof), and ends \
                 that client, whose messages not sent count as errors too."
            }
            Behaviour::IgnoresTheSecond => {
                "One client never got an echo: its first message is an error once `timeout` \
                 has passed (a read timeout: set_read_timeout), and it ends the client, whose \
                 other messages count as errors too. The others' round trips are good."
            }
            Behaviour::Refuses => {
                "No client could connect: a failed connect is an error that ends its client \
                 before it sends anything, and each of its messages counts as an error, none \
                 as a round trip."
            }
            Behaviour::QueueFull => {
                "No connection could be made: a connect that gives up after `timeout` is an \
                 error that ends its client before it sends anything, and each of its messages \
                 counts as an error, none as a round trip."
            }
            Behaviour::OneByteMore => {
                "The second echo of each connection came with one byte more after it: an echo \
                 followed by more than the message is not exactly the message. A client sees \
                 the byte in the read that brings the echo (an error at the second message), \
                 or at the start of the next echo (an error at the third); either way the error \
                 ends it. Does yours compare only the first bytes of what it read, and throw \
                 the rest away?"
            }
        }
    }
}

const ROUNDS: [Behaviour; 8] = [
    Behaviour::Late,
    Behaviour::InPieces,
    Behaviour::ChangesEveryThird,
    Behaviour::ClosesEverySecondAfterThree,
    Behaviour::IgnoresTheSecond,
    Behaviour::Refuses,
    Behaviour::QueueFull,
    Behaviour::OneByteMore,
];

/// Runs the check: the transcript if `measure` counted right, otherwise what went wrong.
pub fn run(measure: impl Measure) -> Result<Transcript, Failure> {
    run_as("11_load.rs", measure)
}

/// Like [`run`], for an answer kept in another file than the exercise's.
pub fn run_as(answer_file: &str, measure: impl Measure) -> Result<Transcript, Failure> {
    let panics = panics::Recording::start(answer_file);
    let measure = Arc::new(measure);
    let mut transcript = Transcript::default();
    for (number, behaviour) in ROUNDS.into_iter().enumerate() {
        transcript.push(format!("round {}: {}", number + 1, behaviour.describe()));
        if let Err(reason) = play(behaviour, Arc::clone(&measure), &mut transcript) {
            transcript.push("(the check stops here)");
            let reason = panics.explain("measure", "A thread of measure", reason);
            return Err(Failure {
                exercise: EXERCISE,
                reason,
                transcript,
                seed: None,
            });
        }
    }
    Ok(transcript)
}

/// Checks a learner's `measure` in a child process (see [`super::check_client_exercise`]).
pub fn check_exercise(measure: impl Measure) {
    super::check_client_exercise(EXERCISE, || run(measure));
}

/// Checks the reference solution in a child process, and its transcript against the snapshot.
pub fn check_solution(measure: impl Measure) {
    super::check_client_solution(EXERCISE, || run(measure));
}

/// Plays one round: the fake server on its threads, the learner's `measure` on another.
fn play(
    behaviour: Behaviour,
    measure: Arc<impl Measure>,
    transcript: &mut Transcript,
) -> Result<(), String> {
    let server = FakeServer::start(behaviour);
    let address = server.address;
    let (returned_sender, returned) = mpsc::channel();
    thread::spawn(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            measure(address, CLIENTS, MESSAGES, TIMEOUT)
        }));
        let _ = returned_sender.send(result);
    });
    let call = format!(
        "measure(server, {CLIENTS} clients, {MESSAGES} messages each, timeout {} ms)",
        TIMEOUT.as_millis()
    );
    // Windows tries a refused connect again for about 2 s before it fails: the same room as
    // the first round's.
    let limit = match behaviour {
        Behaviour::Late | Behaviour::Refuses => FIRST_ROUND_LIMIT,
        _ => ROUND_LIMIT,
    };
    let (mut round_trips, errors) = match returned.recv_timeout(limit) {
        Ok(Ok(counts)) => counts,
        Ok(Err(_)) => {
            transcript.push(format!("{call} panicked"));
            return Err("measure panicked instead of returning what its clients saw.".into());
        }
        Err(_) if behaviour == Behaviour::QueueFull => {
            transcript.push(format!(
                "{call} did not return within {} s",
                limit.as_secs()
            ));
            return Err(format!(
                "measure did not return within {} s, against {}, with a timeout of {} ms.\nDoes \
                 every connect have a limit of `timeout` too? A plain TcpStream::connect waits \
                 for such a server a minute or two; TcpStream::connect_timeout(&server, timeout) \
                 gives up in time. (Read and write timeouts start only once connected.)",
                limit.as_secs(),
                behaviour.describe(),
                TIMEOUT.as_millis()
            ));
        }
        Err(_) if behaviour == Behaviour::Refuses => {
            transcript.push(format!(
                "{call} did not return within {} s",
                limit.as_secs()
            ));
            return Err(format!(
                "measure did not return within {} s, against {}.\nDoes a client whose connect \
                 fails end there, with an error for each of its messages? A connect that is \
                 refused fails at once (on Windows after about 2 s of tries).",
                limit.as_secs(),
                behaviour.describe()
            ));
        }
        Err(_) => {
            transcript.push(format!(
                "{call} did not return within {} s",
                limit.as_secs()
            ));
            return Err(format!(
                "measure did not return within {} s, against {}.\nDoes every read and write \
                 have a limit of `timeout` (set_read_timeout, set_write_timeout), and do the \
                 clients run at once? A client waiting for an echo that never comes must give \
                 up after `timeout`.",
                limit.as_secs(),
                behaviour.describe()
            ));
        }
    };
    let connected_at_most = server.stop();
    let expected_errors = behaviour.errors();
    let expected_trips = CLIENTS * MESSAGES - expected_errors;
    let counts = |trips: usize, errors: usize| format!("{trips} round trips and {errors} errors");
    transcript.push(format!(
        "{call} returned {}",
        counts(round_trips.len(), errors)
    ));
    // (How many were connected at most is not said: the server sees a client leave only a
    // moment after it has, so one after another can look like two at a time.)
    if behaviour == Behaviour::Late && connected_at_most < CLIENTS {
        return Err(format!(
            "Against {}, measure's {CLIENTS} clients were never all connected at once (it \
             returned {}).\nDo your clients connect one after another? Start them all at once, \
             each on a thread of its own, then wait for them all (join).",
            behaviour.describe(),
            counts(round_trips.len(), errors),
        ));
    }
    if !behaviour.allows(round_trips.len(), errors) {
        let expected = match behaviour {
            Behaviour::OneByteMore => format!(
                "{} to {} round trips (and errors for the rest)",
                CLIENTS,
                2 * CLIENTS
            ),
            _ => counts(expected_trips, expected_errors),
        };
        let mut reason = format!(
            "Against {}, measure returned {} where {expected} were expected.\n{}",
            behaviour.describe(),
            counts(round_trips.len(), errors),
            behaviour.if_wrong()
        );
        if round_trips.len() + errors != CLIENTS * MESSAGES {
            reason = format!(
                "Against {}, measure returned {} where {} were expected: they add up to {}, \
                 not the {} messages it was asked for.\nCount each message once: as a round \
                 trip if its echo was right, as an error otherwise, and the messages a failed \
                 client never sent as errors too.",
                behaviour.describe(),
                counts(round_trips.len(), errors),
                counts(expected_trips, expected_errors),
                round_trips.len() + errors,
                CLIENTS * MESSAGES
            );
        }
        return Err(reason);
    }
    if behaviour == Behaviour::Late {
        round_trips.sort();
        let fastest = round_trips.first().copied().unwrap_or_default();
        let median = round_trips[round_trips.len() / 2];
        if fastest < DELAY {
            transcript.push(format!(
                "a round trip took less than the {} ms the server waits",
                DELAY.as_millis()
            ));
            return Err(format!(
                "A round trip took {fastest:?}, less than the {} ms the server waited before \
                 each echo.\nIs the clock started after the message is sent, or stopped before \
                 the echo has arrived? Time from just before the write to just after the whole \
                 echo is read.",
                DELAY.as_millis()
            ));
        }
        if median >= SLOW_MEDIAN {
            transcript.push(format!(
                "the median round trip took {} ms or more",
                SLOW_MEDIAN.as_millis()
            ));
            return Err(format!(
                "The median round trip took {median:?}, though the server answers each message \
                 {} ms late: a round trip that right takes little more.\nIs each round trip timed \
                 on its own, from just before its write? One timed from the client's start, or \
                 from before the connect, counts the messages before it too.",
                DELAY.as_millis()
            ));
        }
        transcript.push(format!(
            "every round trip took at least {} ms, and the median less than {} ms",
            DELAY.as_millis(),
            SLOW_MEDIAN.as_millis()
        ));
    }
    Ok(())
}

/// A round's echo server, on threads of its own.
struct FakeServer {
    address: SocketAddr,
    /// For [`Behaviour::Refuses`]: a socket bound to the port, not listening, so connections
    /// to it are refused, and no other program can take the port meanwhile.
    _refusing: Option<socket2::Socket>,
    /// For [`Behaviour::QueueFull`]: the listener nobody can finish connecting to.
    _full: Option<FullQueue>,
    stopping: Arc<AtomicBool>,
    most_connected: Arc<AtomicUsize>,
    accepting: thread::JoinHandle<()>,
}

/// How many connections are open now, and a way to wait until all the clients are.
#[derive(Default)]
struct Connected {
    now: Mutex<usize>,
    changed: Condvar,
}

impl FakeServer {
    fn start(behaviour: Behaviour) -> FakeServer {
        if behaviour == Behaviour::Refuses {
            return FakeServer::refusing();
        }
        if behaviour == Behaviour::QueueFull {
            let full = FullQueue::new().expect("the check needs a listener with a full queue");
            return FakeServer {
                address: full.address,
                _refusing: None,
                _full: Some(full),
                stopping: Arc::new(AtomicBool::new(false)),
                most_connected: Arc::new(AtomicUsize::new(0)),
                accepting: thread::spawn(|| {}),
            };
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("the check needs a loopback port");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        listener
            .set_nonblocking(true)
            .expect("a listener can stop blocking");
        let stopping = Arc::new(AtomicBool::new(false));
        let most_connected = Arc::new(AtomicUsize::new(0));
        let connected = Arc::new(Connected::default());
        let accepting = {
            let (stopping, most_connected) = (Arc::clone(&stopping), Arc::clone(&most_connected));
            thread::spawn(move || {
                let mut accepted = 0;
                while !stopping.load(Ordering::Relaxed) {
                    let stream = match listener.accept() {
                        Ok((stream, _)) => stream,
                        Err(_) => {
                            thread::sleep(Duration::from_millis(2));
                            continue;
                        }
                    };
                    accepted += 1;
                    let _ = stream.set_nonblocking(false);
                    let connected = Arc::clone(&connected);
                    {
                        let mut now = lock(&connected.now);
                        *now += 1;
                        most_connected.fetch_max(*now, Ordering::Relaxed);
                        connected.changed.notify_all();
                    }
                    let number = accepted;
                    thread::spawn(move || {
                        let _ = echo(stream, behaviour, number, &connected);
                        *lock(&connected.now) -= 1;
                        connected.changed.notify_all();
                    });
                }
            })
        };
        FakeServer {
            address,
            _refusing: None,
            _full: None,
            stopping,
            most_connected,
            accepting,
        }
    }

    /// A port that refuses every connection: bound, never listening.
    fn refusing() -> FakeServer {
        use socket2::{Domain, Socket, Type};
        let socket =
            Socket::new(Domain::IPV4, Type::STREAM, None).expect("the check needs a TCP socket");
        let any_port: SocketAddr = "127.0.0.1:0".parse().expect("a loopback address");
        socket
            .bind(&any_port.into())
            .expect("the check needs a loopback port");
        let address = socket
            .local_addr()
            .ok()
            .and_then(|address| address.as_socket())
            .expect("a bound socket has an address");
        FakeServer {
            address,
            _refusing: Some(socket),
            _full: None,
            stopping: Arc::new(AtomicBool::new(false)),
            most_connected: Arc::new(AtomicUsize::new(0)),
            accepting: thread::spawn(|| {}),
        }
    }

    /// Stops accepting, and says how many clients were connected at once at most.
    fn stop(self) -> usize {
        self.stopping.store(true, Ordering::Relaxed);
        let _ = self.accepting.join();
        self.most_connected.load(Ordering::Relaxed)
    }
}

/// Serves the `number`th connection (from 1) the way `behaviour` says, until the client leaves.
fn echo(
    stream: TcpStream,
    behaviour: Behaviour,
    number: usize,
    connected: &Connected,
) -> std::io::Result<()> {
    // A client that never leaves cannot keep this thread: every wait has a limit. It is twice
    // the longest round's, so that a client without a timeout of its own is still waiting, certainly,
    // when the check stops waiting for `measure` (and not released by this end just then).
    stream.set_read_timeout(Some(FIRST_ROUND_LIMIT * 2))?;
    stream.set_write_timeout(Some(FIRST_ROUND_LIMIT * 2))?;
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    for echoed in 1.. {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        match behaviour {
            Behaviour::Late => {
                // No first echo before everyone is here, or until a client's `timeout` has
                // surely passed: clients that come one after another show it.
                if echoed == 1 {
                    let now = lock(&connected.now);
                    drop(connected.changed.wait_timeout_while(
                        now,
                        TIMEOUT + Duration::from_millis(100),
                        |now| *now < CLIENTS,
                    ));
                }
                thread::sleep(DELAY);
                writer.write_all(&line)?;
            }
            Behaviour::InPieces => {
                writer.write_all(&line[..1])?;
                thread::sleep(Duration::from_millis(30));
                writer.write_all(&line[1..])?;
            }
            Behaviour::ChangesEveryThird => {
                if echoed % 3 == 0 {
                    line[0] = line[0].wrapping_add(1);
                }
                writer.write_all(&line)?;
            }
            Behaviour::ClosesEverySecondAfterThree => {
                writer.write_all(&line)?;
                if number % 2 == 0 && echoed == 3 {
                    return Ok(());
                }
            }
            Behaviour::IgnoresTheSecond => {
                if number != 2 {
                    writer.write_all(&line)?;
                }
            }
            Behaviour::OneByteMore => {
                if echoed == 2 {
                    line.push(b'\n');
                }
                writer.write_all(&line)?;
            }
            // A refusing port accepts nobody, so no connection comes here.
            Behaviour::Refuses | Behaviour::QueueFull => return Ok(()),
        }
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
