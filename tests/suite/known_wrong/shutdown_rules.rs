//! Not an answer itself: exercise 08's server, copied from the reference solution item for item,
//! with its two rules (how `serve` winds down once the shutdown comes, and what a client's thread
//! does at each turn once it has begun) made swappable. So each known-wrong shutdown differs from
//! the reference solution in exactly the rule it gets wrong, and
//! `exercise_08_the_given_server_is_the_same_everywhere` in tests/suite/check_proofs.rs fails if this
//! copy drifts.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use course::accept::AcceptFailures;
use crossbeam_channel::{Receiver, RecvTimeoutError};

/// The two rules a learner writes in exercise 08.
#[derive(Clone, Copy)]
pub struct Rules {
    pub wind_down: fn(TcpListener, &Stop, Duration, Vec<JoinHandle<()>>),
    /// `true` when the client's thread has said its last words and must return.
    pub at_a_turn:
        fn(&[u8], &BufReader<&TcpStream>, &mut &TcpStream, &Stop) -> std::io::Result<bool>,
    /// Whether a dropped sender (the channel disconnected) stops the accept loop, as `()` does.
    pub disconnected_stops: bool,
    /// Whether the accept loop takes `WouldBlock` ("nobody is waiting") for a failed accept.
    pub would_block_is_a_failure: bool,
    /// Whether the accept loop takes a failed accept for "nobody is waiting": no log, no pause.
    pub failure_is_quiet: bool,
    /// Whether a failed accept ends `serve`, with the error (a `?` on accept).
    pub failure_ends_serve: bool,
    /// Whether the echo is a plain `write_all`, which a client reading slowly holds past the
    /// deadline, in place of the given `BeforeDeadline`.
    pub echo_ignores_the_deadline: bool,
}

/// The reference solution's rules.
pub const RIGHT: Rules = Rules {
    wind_down: right_wind_down,
    at_a_turn: right_at_a_turn,
    disconnected_stops: true,
    would_block_is_a_failure: false,
    failure_is_quiet: false,
    failure_ends_serve: false,
    echo_ignores_the_deadline: false,
};

/// The rules of the server in this process (one answer per process).
static RULES: OnceLock<Rules> = OnceLock::new();

fn rules() -> Rules {
    RULES.get().copied().unwrap_or(RIGHT)
}

// The given server, item for item as in solutions/src/08_shutdown.rs, but for the rules.

/// What every connected client hears when the server stops.
pub const GOODBYE: &str = "The server is shutting down. Goodbye!\n";
/// What a client hears if the grace period ends before its line does.
pub const CUT_OFF: &str = "The server has shut down; your unfinished line was dropped.\n";
/// How long a thread waits before it looks at the shutdown again.
const TURN: Duration = Duration::from_millis(50);
/// The most newcomers the accept loop takes one after another before it looks at the shutdown:
/// it takes whoever waits at once, but a steady stream of them must not keep it from seeing one.
const MOST_ACCEPTS_IN_A_ROW: u32 = 64;
/// How long a write may wait for a client that does not read, so that one such client cannot keep
/// its thread in `write` for ever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves clients on `listener` until `shutdown` receives (or its sender is dropped), then shuts
/// down, giving lines in flight at most `grace` to arrive.
pub fn serve_with(
    listener: TcpListener,
    shutdown: Receiver<()>,
    grace: Duration,
    rules: Rules,
) -> anyhow::Result<()> {
    let _ = RULES.set(rules);
    listener.set_nonblocking(true)?;
    let stop = Arc::new(Stop::default());
    let mut clients: Vec<JoinHandle<()>> = Vec::new();
    // After a failed accept (out of file descriptors, say): pause, and log the spell of failures
    // (not every try), as every server in the course does.
    let mut failures = AcceptFailures::new();
    loop {
        // Take whoever waits, one after another, then look at the shutdown; at most
        // MOST_ACCEPTS_IN_A_ROW of them, or a steady stream would keep it from being seen.
        let mut pause = Duration::ZERO;
        for _ in 0..MOST_ACCEPTS_IN_A_ROW {
            pause = match listener.accept() {
                Ok((stream, _peer)) => {
                    failures.over();
                    match start_client(stream, &stop) {
                        Ok(client) => clients.push(client),
                        Err(error) => eprintln!("cannot serve a client: {error:#}"),
                    }
                    clients.retain(|client| !client.is_finished());
                    // Another newcomer may be waiting already: take it at once.
                    continue;
                }
                Err(error)
                    if error.kind() == ErrorKind::WouldBlock && !rules.would_block_is_a_failure =>
                {
                    TURN
                }
                Err(_) if rules.failure_is_quiet => TURN,
                Err(error) if rules.failure_ends_serve => return Err(error.into()),
                // Logs the failure; the pause is `pause`.
                Err(error) => failures.log_failure(error),
            };
            break;
        }
        // Waiting on the channel is the pause between tries; a shutdown ends it at once.
        match shutdown.recv_timeout(pause) {
            Err(RecvTimeoutError::Disconnected) if !rules.disconnected_stops => {}
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    (rules.wind_down)(listener, &stop, grace, clients);
    Ok(())
}

/// The shutdown as the client threads see it: unset while the server runs, then the deadline.
#[derive(Default)]
pub struct Stop {
    deadline: OnceLock<Instant>,
}

impl Stop {
    pub fn begin(&self, deadline: Instant) {
        let _ = self.deadline.set(deadline);
    }

    /// `None` while the server runs.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.get().copied()
    }
}

fn start_client(stream: TcpStream, stop: &Arc<Stop>) -> anyhow::Result<JoinHandle<()>> {
    // Some systems give an accepted socket the listener's non-blocking mode.
    stream.set_nonblocking(false)?;
    // Reads wait at most one TURN, so the thread notices the shutdown even from a silent client.
    stream.set_read_timeout(Some(TURN))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let stop = Arc::clone(stop);
    Ok(thread::spawn(move || {
        if let Err(error) = echo_lines(&stream, &stop) {
            eprintln!("a client's connection failed: {error:#}");
        }
    }))
}

/// Echoes whole lines until the client leaves, or the shutdown reaches this client.
fn echo_lines(stream: &TcpStream, stop: &Stop) -> anyhow::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut writer = stream;
    let mut line = Vec::new();
    loop {
        match read_line_piece(&mut reader, &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) if line.ends_with(b"\n") => {
                if rules().echo_ignores_the_deadline {
                    writer.write_all(&line)?;
                } else {
                    BeforeDeadline { stream, stop }.write_all(&line)?;
                }
                line.clear();
            }
            Ok(_) => {}
            // A TURN went by in silence (Unix says WouldBlock, Windows TimedOut), or a signal
            // interrupted the read (Interrupted): look at the shutdown, and read again.
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(error) => return Err(error.into()),
        }
        if (rules().at_a_turn)(&line, &reader, &mut writer, stop)? {
            return Ok(());
        }
    }
}

/// Reads what has arrived into `line`, up to the end of a line: one read at most, so that the
/// caller looks at the shutdown after every read, even while a client sends its line slowly, a
/// byte at a time (`read_until` would read on until the `\n`). Returns how many bytes it took:
/// 0 when the client has closed its side.
fn read_line_piece(reader: &mut BufReader<&TcpStream>, line: &mut Vec<u8>) -> io::Result<usize> {
    let arrived = reader.fill_buf()?;
    let piece = match arrived.iter().position(|&byte| byte == b'\n') {
        Some(end) => end + 1,
        None => arrived.len(),
    };
    line.extend_from_slice(&arrived[..piece]);
    reader.consume(piece);
    Ok(piece)
}

/// The client's stream, for its echo: once the shutdown has begun, each write may wait only until
/// the deadline. A client that reads its echo slowly lets every write make a little progress,
/// never stalling a whole WRITE_TIMEOUT, so `write_all` on the stream itself would go on for as
/// long as that client liked, and the shutdown would wait for it.
struct BeforeDeadline<'a> {
    stream: &'a TcpStream,
    stop: &'a Stop,
}

impl Write for BeforeDeadline<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if let Some(deadline) = self.stop.deadline() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let late = "the shutdown's deadline came before the echo was sent";
                return Err(io::Error::new(ErrorKind::TimedOut, late));
            }
            self.stream
                .set_write_timeout(Some(left.min(WRITE_TIMEOUT)))?;
        }
        // A small piece at a time (2 KiB), so that the deadline is looked at between pieces on
        // every system: macOS's write timeout limits each wait for room, not the whole call
        // (XNU's sosend), and one call handed the whole echo could go on for as long as a slow
        // reader keeps making a little room.
        let piece = &bytes[..bytes.len().min(1 << 11)];
        let mut stream = self.stream;
        let written = stream.write(piece);
        // The goodbye or cut-off that may follow has its whole WRITE_TIMEOUT again.
        if self.stop.deadline().is_some() {
            self.stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
        }
        written
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// The reference solution's rules, as plain functions.

/// Once the shutdown has come.
pub fn right_wind_down(
    listener: TcpListener,
    stop: &Stop,
    grace: Duration,
    clients: Vec<JoinHandle<()>>,
) {
    // Closed listener: the system refuses newcomers from now on.
    drop(listener);
    stop.begin(Instant::now() + grace);
    // Each client thread ends by itself by the deadline, so these joins are bounded.
    for client in clients {
        let _ = client.join();
    }
}

/// At each turn of a client's thread.
pub fn right_at_a_turn(
    line: &[u8],
    reader: &BufReader<&TcpStream>,
    writer: &mut &TcpStream,
    stop: &Stop,
) -> std::io::Result<bool> {
    if let Some(deadline) = stop.deadline() {
        // Between two lines nothing is in flight: the moment to say goodbye.
        // Nothing of the next line has come: not in `line`, nor still in the reader's buffer
        // (one read may bring the end of one line and the start of the next).
        if line.is_empty() && reader.buffer().is_empty() {
            writer.write_all(GOODBYE.as_bytes())?;
            return Ok(true);
        }
        if Instant::now() >= deadline {
            writer.write_all(CUT_OFF.as_bytes())?;
            return Ok(true);
        }
    }
    Ok(false)
}
