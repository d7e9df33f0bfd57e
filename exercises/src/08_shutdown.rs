//! Exercise 08: shut down gracefully.
//!
//! This is lesson 08's line echo server, except that it ignores its `shutdown` channel: it never
//! stops accepting, never tells anyone, and `serve` never returns. Make it stop well when
//! `shutdown` receives `()` (or its sender is dropped): refuse newcomers at once, tell each
//! connected client `GOODBYE` between two lines, let a line half-way in finish for at most
//! `grace`, then return `Ok(())` once every connection is closed.
//!
//! Check it:       cargo test -p exercises 08
//! Try it by hand: cargo run -p exercises --bin ex08_shutdown
//!                 then, in two more terminals: nc 127.0.0.1 65439; then Ctrl-C the server
//! Hints are in the book, chapter "08: A graceful shutdown".

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use course::accept::AcceptFailures;
#[allow(unused_imports)] // `RecvTimeoutError` is for the wait in your loop: see its TODO.
use crossbeam_channel::{Receiver, RecvTimeoutError};

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

// ANCHOR: serve
/// Serves clients on `listener` until `shutdown` receives (or its sender is dropped), then shuts
/// down, giving lines in flight at most `grace` to arrive.
// Until you write the TODOs, `shutdown` and `grace` go unused and the loop never ends.
#[allow(unused_variables, unreachable_code)]
pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
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
                Err(error) if error.kind() == ErrorKind::WouldBlock => TURN,
                // Logs the failure; the pause is `pause`.
                Err(error) => failures.log_failure(error),
            };
            break;
        }
        // TODO: instead of sleeping, wait up to `pause` for the shutdown (a zero wait only
        // looks), and leave the loop when it comes: `()`, or the sender dropped, both mean stop.
        thread::sleep(pause);
    }
    // TODO: once the loop is left: close the listener at once (newcomers are refused), tell
    // the client threads through `stop` (the deadline is now + grace), and join every client
    // thread before returning.
    Ok(())
}
// ANCHOR_END: serve

/// The shutdown as the client threads see it: unset while the server runs, then the deadline.
#[derive(Default)]
#[allow(dead_code)] // The shutdown you write sets the deadline, and the clients read it.
struct Stop {
    deadline: OnceLock<Instant>,
}

#[allow(dead_code)] // Your shutdown calls `begin`; your `echo_lines` calls `deadline`.
impl Stop {
    fn begin(&self, deadline: Instant) {
        let _ = self.deadline.set(deadline);
    }

    /// `None` while the server runs.
    fn deadline(&self) -> Option<Instant> {
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

#[allow(unused_variables, unused_mut)] // `writer` is yours for GOODBYE and CUT_OFF: see the TODO.
// ANCHOR: echo_lines
/// Echoes whole lines until the client leaves, or the shutdown reaches this client.
fn echo_lines(stream: &TcpStream, stop: &Stop) -> anyhow::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut writer = stream;
    let mut line = Vec::new();
    loop {
        match read_line_piece(&mut reader, &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) if line.ends_with(b"\n") => {
                BeforeDeadline { stream, stop }.write_all(&line)?;
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
        // TODO: once the shutdown has begun (`stop.deadline()` is set): between two lines
        // (nothing of the next one received yet), write GOODBYE and return; mid-line, keep
        // reading until the line ends, or until the deadline passes: then write CUT_OFF and
        // return. Returning drops the stream, which closes the connection.
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
// ANCHOR_END: echo_lines
