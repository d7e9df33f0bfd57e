//! Lesson 08: a graceful shutdown.
//!
//! A line echo server that stops well. On Ctrl-C (or SIGTERM, what `kill` and service managers
//! send) it stops accepting at once, so newcomers are refused; tells every connected client, in
//! one line, that the server is going; lets a line that is half-way in arrive and be echoed, for
//! a few seconds at most; then closes every connection and exits with status 0. A second Ctrl-C
//! exits at once, for when you cannot wait.
//!
//! The hard part is not the signal but the waiting: std's `accept` and `read` block until
//! something arrives, and std has no portable way to interrupt them from another thread (a
//! `shutdown` of the stream wakes a `read` on Linux and macOS, not on Windows, and std offers
//! nothing that wakes `accept`). So every thread that would wait for ever waits in short turns
//! instead, and looks at the shutdown between turns.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role, count};
use crossbeam_channel::{Receiver, RecvTimeoutError};

// ANCHOR: limits
/// How long clients may take to finish the line they are sending once the shutdown has begun.
/// Long enough for a line already on its way; short enough that stopping never hangs.
const GRACE: Duration = Duration::from_secs(5);
/// How long a thread waits before it looks at the shutdown again. A newcomer may wait this long
/// to be accepted, and the shutdown this long to be noticed.
const TURN: Duration = Duration::from_millis(50);
/// The most newcomers the accept loop takes one after another before it looks at the shutdown:
/// it takes whoever waits at once, but a steady stream of them must not keep it from seeing one.
const MOST_ACCEPTS_IN_A_ROW: u32 = 64;
/// How long a write may wait for a client that does not read. Without it, one such client would
/// keep its thread in `write` for ever, and the shutdown waiting for that thread. (A client that
/// reads, but slowly, may let every write move a little and never wait this long: once the
/// shutdown has begun, its deadline bounds that client instead; see `BeforeDeadline`.)
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// What every connected client hears when the server stops.
const GOODBYE: &str = "The server is shutting down. Goodbye!\n";
/// What a client hears if the grace period ends before its line does.
const CUT_OFF: &str = "The server has shut down; your unfinished line was dropped.\n";
// ANCHOR_END: limits

// ANCHOR: main
fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let grace = match args.extra.first() {
        Some(text) => parse_seconds(text)?,
        None => GRACE,
    };
    let listener = course::listen::bind_with_backlog(args.address, course::listen::CROWD_BACKLOG)?;
    // Before announcing the address: a Ctrl-C that comes as soon as we are listening must find
    // the handler in place, or it would kill the process the abrupt way.
    let shutdown = on_ctrl_c()?;
    println!("listening on {}", listener.local_addr()?);
    serve(listener, &shutdown, grace)?;
    println!("every connection is closed: goodbye");
    Ok(())
}

/// A channel that receives `()` at the first Ctrl-C or SIGTERM. The second one ends the process
/// at once, with the status a Unix shell gives a program stopped by Ctrl-C (130).
fn on_ctrl_c() -> anyhow::Result<Receiver<()>> {
    let (signal, shutdown) = crossbeam_channel::bounded(1);
    let mut already_asked = false;
    // The handler runs on a thread of ctrlc's own, never inside the signal itself, so it may do
    // anything a thread may: print, send on a channel, exit.
    ctrlc::set_handler(move || {
        if already_asked {
            eprintln!("second Ctrl-C: exiting without waiting");
            std::process::exit(130);
        }
        already_asked = true;
        let _ = signal.try_send(());
    })
    .context("installing the Ctrl-C handler")?;
    Ok(shutdown)
}
// ANCHOR_END: main

// ANCHOR: serve
/// Serves clients on `listener` until `shutdown` receives (or its sender is dropped); then says
/// goodbye to everyone, waits at most `grace` for lines in flight, and returns once every
/// connection is closed.
fn serve(listener: TcpListener, shutdown: &Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    // `accept` must not wait for ever, or nobody would look at `shutdown`.
    listener
        .set_nonblocking(true)
        .context("making the listener non-blocking")?;
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
                Ok((stream, peer)) => {
                    failures.over();
                    match start_client(stream, peer, &stop) {
                        Ok(client) => clients.push(client),
                        Err(error) => eprintln!("cannot serve {peer}: {error:#}"),
                    }
                    // Forget the threads that have finished, so the list does not grow for ever.
                    clients.retain(|client| !client.is_finished());
                    // Another newcomer may be waiting already: take it at once.
                    continue;
                }
                // Nobody is waiting to be accepted: this is where the loop spends its time.
                Err(error) if error.kind() == ErrorKind::WouldBlock => TURN,
                // `log_failure` logs as `pause_after` does, but leaves the pause to us.
                Err(error) => failures.log_failure(error),
            };
            break;
        }
        // Waiting on the channel doubles as the pause between tries: a shutdown wakes it at once.
        // (A zero wait only looks.)
        match shutdown.recv_timeout(pause) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    // ANCHOR: stop
    // Closing the listening socket is what makes the system refuse newcomers from now on.
    drop(listener);
    clients.retain(|client| !client.is_finished());
    println!(
        "shutting down: refusing new connections, telling {} goodbye, waiting at most {grace:?} \
         for lines in flight",
        count(clients.len(), "connected client", "connected clients")
    );
    stop.begin(Instant::now() + grace);
    // Every client thread ends by itself soon after the deadline (see serve_client), so these
    // joins are bounded too.
    for client in clients {
        let _ = client.join();
    }
    Ok(())
    // ANCHOR_END: stop
}
// ANCHOR_END: serve

// ANCHOR: stop_flag
/// The shutdown, as the client threads see it: unset while the server runs, then the moment by
/// which every connection must be closed. Set once, by the accept loop; read by every client.
#[derive(Default)]
struct Stop {
    deadline: OnceLock<Instant>,
}

impl Stop {
    fn begin(&self, deadline: Instant) {
        let _ = self.deadline.set(deadline);
    }

    /// `None` while the server runs.
    fn deadline(&self) -> Option<Instant> {
        self.deadline.get().copied()
    }
}
// ANCHOR_END: stop_flag

fn start_client(
    stream: TcpStream,
    peer: SocketAddr,
    stop: &Arc<Stop>,
) -> anyhow::Result<JoinHandle<()>> {
    // Some systems (macOS, Windows) give an accepted socket the listener's non-blocking mode.
    stream.set_nonblocking(false)?;
    // Reads wait at most one TURN, so the thread notices the shutdown even from a silent client.
    stream.set_read_timeout(Some(TURN))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    println!("{peer} connected");
    let stop = Arc::clone(stop);
    let client = thread::Builder::new()
        .name(format!("client {peer}"))
        .spawn(move || serve_client(stream, peer, &stop))?;
    Ok(client)
}

// ANCHOR: serve_client
/// Echoes whole lines until the client leaves, or the shutdown reaches this client.
fn serve_client(stream: TcpStream, peer: SocketAddr, stop: &Stop) {
    match echo_lines(&stream, stop) {
        Ok(Ending::ClientLeft) => println!("{peer} disconnected"),
        Ok(Ending::ToldGoodbye) => println!("{peer} told goodbye"),
        Ok(Ending::CutOff) => println!("{peer} cut off mid-line at the deadline"),
        Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
    }
} // Dropping the stream closes the connection.

/// How a connection ended, for the log.
enum Ending {
    ClientLeft,
    ToldGoodbye,
    CutOff,
}

fn echo_lines(stream: &TcpStream, stop: &Stop) -> anyhow::Result<Ending> {
    let mut reader = BufReader::new(stream);
    let mut writer = stream;
    // The line being received. Bytes stay here across read timeouts, until its `\n` arrives.
    let mut line = Vec::new();
    loop {
        match read_line_piece(&mut reader, &mut line) {
            Ok(0) => return Ok(Ending::ClientLeft),
            Ok(_) if line.ends_with(b"\n") => {
                BeforeDeadline { stream, stop }
                    .write_all(&line)
                    .context("echoing")?;
                line.clear();
            }
            // A piece of a line: it waits in `line` for the rest. (If the client has closed
            // its side mid-line, the next read says so with 0.)
            Ok(_) => {}
            // A TURN went by in silence (Unix says WouldBlock, Windows TimedOut), or a signal
            // interrupted the read (Interrupted): look at the shutdown, and read again.
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(error) => return Err(error).context("reading"),
        }
        // Between two lines is the moment to stop: nothing is in flight.
        if let Some(deadline) = stop.deadline() {
            // Nothing of the next line has come: not in `line`, nor still in the reader's buffer
            // (one read may bring the end of one line and the start of the next).
            if line.is_empty() && reader.buffer().is_empty() {
                writer
                    .write_all(GOODBYE.as_bytes())
                    .context("saying goodbye")?;
                return Ok(Ending::ToldGoodbye);
            }
            if Instant::now() >= deadline {
                writer
                    .write_all(CUT_OFF.as_bytes())
                    .context("saying goodbye")?;
                return Ok(Ending::CutOff);
            }
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
// ANCHOR_END: serve_client

fn parse_seconds(text: &str) -> anyhow::Result<Duration> {
    // No grace at all is a choice: every connection closes at once.
    course::cli::seconds("GRACE_SECONDS", text, 0.0..=3600.0)
}

const PROGRAM: Program = Program {
    name: "08_shutdown",
    role: Role::Server,
    about: "Lesson 08: a line echo server that shuts down gracefully on Ctrl-C.",
    default_address: "127.0.0.1:65439",
    extra_usage: "[GRACE_SECONDS]",
    max_extra_args: 1,
    try_it: "Connect from other terminals with:\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65439\n  nc 127.0.0.1 65439\n\
             then press Ctrl-C here: every client hears goodbye, and the server exits.\n\n\
             GRACE_SECONDS (default 5) is how long a client may take to finish the line it\n\
             is sending once the shutdown has begun. A second Ctrl-C exits at once.",
};
