//! The connection plumbing of the chat server: lesson 04 and exercise 04 both use it.
//!
//! Three kinds of thread share the work of a chat server, and they talk only through channels:
//!
//! - one *reader* thread per client turns the bytes it sends into lines, and sends each line to
//!   the broker as an [`Event`];
//! - one *broker* thread owns the room: it alone knows who is here, and decides who gets what;
//! - one *writer* thread per client takes lines from that client's queue and writes them to its
//!   socket.
//!
//! This module is everything but the broker: [`start`] accepts clients and starts their reader
//! and writer threads, and returns the channel of events the broker reads. The broker is the
//! lesson's (`lessons/04_chat.rs`), or yours (`exercises/src/04_chat.rs`).

use std::io::{self, BufRead, BufReader, BufWriter, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use crate::accept::AcceptFailures;

pub mod telnet;
use telnet::TelnetReader;

// ANCHOR: limits
/// The longest line accepted, in bytes, not counting its `\n` or `\r\n`.
pub const MAX_LINE_BYTES: usize = 1024;
/// How many lines may wait for one client. A client that lets this many pile up has stopped
/// reading; the broker cuts it off, so that nobody else ever waits for it. Room for a whole burst
/// of a busy room (200 people each sending 20 lines at once: 3,980 lines for each of them), so
/// that a client that reads, but waits its turn for the processor, is never taken for one that
/// stopped: with 1,024, chapter 11's burst saw lesson 04 cut off readers on two busy cores.
pub const OUTGOING_QUEUE_LINES: usize = 4096;
/// How many events may wait for the broker. When it is full, reader threads wait, so they stop
/// reading their sockets, and TCP tells fast talkers to slow down: back-pressure.
pub const EVENT_QUEUE_LEN: usize = 1024;
/// How long one write of a writer thread waits for a client to take any bytes at all (a write
/// that moves some bytes still waits this long before the next one starts). A client that has
/// stopped reading is normally cut off when its queue fills; this bounds the case where the room
/// is too quiet to fill it, or the client stops reading and then vanishes without its system
/// closing the connection, so its writer would otherwise wait in `write`: for ever for the first
/// (its system answers TCP's probes of the full window), for minutes, until TCP gives up, for
/// the second. Such a client is cut off too, and the room is told so.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a reader thread that is waiting for its client looks up to check whether the
/// connection is over (its writer has closed it). On Linux and macOS, closing the connection
/// wakes the reader at once; Windows does not, and this is what ends the reader there.
pub const READ_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// How long a client that has left (it closed its side of the connection, or the connection
/// broke) has, in all, to take what the server still sends it: the answers to its last lines,
/// and what the room said until the broker heard that it left. A client that half-closes goes
/// on reading, and gets them; one that reads slowly is closed when this time is up. Until then
/// its writer thread and its socket are in use, and its seat stays taken.
pub const LEAVING_TIME: Duration = Duration::from_secs(10);
// ANCHOR_END: limits

// ANCHOR: start
/// Starts accepting clients on `listener`, at most `max_clients` at a time, each with a reader
/// and a writer thread. Returns the broker's inbox: every [`Event`] from every client, in the
/// order they happened. Whoever holds it is the broker.
pub fn start(listener: TcpListener, max_clients: usize) -> io::Result<Receiver<Event>> {
    // Every reader thread gets a clone of `events`; the broker holds the only receiver.
    let (events, broker_inbox) = crossbeam_channel::bounded(EVENT_QUEUE_LEN);
    thread::Builder::new()
        .name("accept loop".into())
        .spawn(move || accept_clients(listener, events, max_clients))?;
    Ok(broker_inbox)
}
// ANCHOR_END: start

// ANCHOR: events
/// Tells clients apart, even two that connect from the same address one after the other.
pub type ClientId = u64;

/// One line for a client, `\n` included. A message for the whole room is one `Arc` that every
/// queue shares, so a thousand listeners do not mean a thousand copies of it.
pub type Line = Arc<str>;

/// What a reader thread tells the broker. The broker handles events one at a time, in the order
/// they arrive: that order is the order in which everyone hears things.
pub enum Event {
    /// A client connected. Its writer thread drains the other end of `outgoing`.
    Connected {
        id: ClientId,
        peer: SocketAddr,
        outgoing: Sender<Line>,
        connection: Arc<TcpStream>,
    },
    /// The client sent a whole line of UTF-8 text (without its line ending).
    Line { id: ClientId, text: String },
    /// The client sent something that is not a line we accept; `why` is told to it alone.
    LineRefused { id: ClientId, why: String },
    /// The client's connection ended. Always the last event from its reader thread.
    Disconnected { id: ClientId, how: Leaving },
}

/// How a client left the room.
#[derive(Debug)]
pub enum Leaving {
    /// It closed its connection between two lines: an ordinary goodbye.
    Closed,
    /// It typed `/quit`.
    Quit,
    /// The connection ended badly; the text says how, for the server's log.
    Lost(String),
    /// It stopped reading what the room sends: its queue filled, or it took nothing for
    /// [`WRITE_TIMEOUT`]. It was cut off.
    TooSlow,
}
// ANCHOR_END: events

// ANCHOR: accept_loop
/// Runs on its own thread: takes each new connection, turns it away if the room is full, and
/// otherwise starts the client's reader and writer threads.
fn accept_clients(listener: TcpListener, events: Sender<Event>, max_clients: usize) {
    let seats = Seats::new(max_clients);
    let mut last_id: ClientId = 0;
    // Some errors last, such as running out of file descriptors: `failures` pauses after each
    // one, rather than fail again at once and spin the processor, and logs a spell of them, not
    // every try.
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
        let peer = match stream.peer_addr() {
            Ok(peer) => peer,
            Err(error) => {
                eprintln!("a client left before it could be served: {error}");
                continue;
            }
        };
        let Some(seat) = seats.take() else {
            turn_away(stream, peer, max_clients);
            continue;
        };
        last_id += 1;
        if let Err(error) = start_client(stream, peer, last_id, seat, events.clone()) {
            // Out of threads: this client is closed, everyone else carries on.
            eprintln!("cannot start the threads for {peer}: {error}");
        }
    }
}

/// Starts a client's writer thread, then its reader thread.
fn start_client(
    stream: TcpStream,
    peer: SocketAddr,
    id: ClientId,
    seat: Seat,
    events: Sender<Event>,
) -> io::Result<()> {
    // No thread may wait on one client for ever; see WRITE_TIMEOUT and READ_CHECK_INTERVAL.
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    stream.set_read_timeout(Some(READ_CHECK_INTERVAL))?;
    // Send each line at once. Otherwise Nagle's algorithm holds a small write back until the
    // last one is acknowledged, and a chat client, which mostly listens, acknowledges late
    // (delayed ACK: at least 40 ms on Linux, 200 ms by default on Windows): a line could wait
    // that long. Lesson 11 shows it (examples/nagle_delayed_ack.rs).
    stream.set_nodelay(true)?;
    start_client_threads(stream, peer, id, seat, events, LEAVING_TIME)
}

/// Starts the writer and reader threads of a client whose socket has its timeouts set.
/// `leaving_time` is [`LEAVING_TIME`], except in tests.
fn start_client_threads(
    stream: TcpStream,
    peer: SocketAddr,
    id: ClientId,
    seat: Seat,
    events: Sender<Event>,
    leaving_time: Duration,
) -> io::Result<()> {
    // Three parties use the socket: the reader reads, the writer writes, and the broker may shut
    // it down. `&TcpStream` can do all three, so they share one socket through an `Arc`.
    let connection = Arc::new(stream);
    // The seat too: the place is free once both threads have finished with the connection.
    let seat = Arc::new(seat);
    let (outgoing, queue) = crossbeam_channel::bounded(OUTGOING_QUEUE_LINES);
    // The writer says here why it stopped; the reader looks, see READ_CHECK_INTERVAL.
    let (writer_says, writer_news) = crossbeam_channel::bounded(1);
    let (writers_connection, writers_seat) = (Arc::clone(&connection), Arc::clone(&seat));
    thread::Builder::new()
        .name(format!("{peer} writer"))
        .spawn(move || write_lines(&writers_connection, queue, writer_says, writers_seat))?;
    // What the reader knows of the writer thread: see `WriterThread`, under "writer".
    let writer = WriterThread {
        news: writer_news,
        ended: None,
        leaving_time,
    };
    // If this spawn fails, `outgoing` is dropped with the closure: the writer thread sees its
    // queue end, closes the connection, and finishes. Nothing is left half-started.
    thread::Builder::new()
        .name(format!("{peer} reader"))
        .spawn(move || read_lines(connection, peer, id, outgoing, events, seat, writer))?;
    Ok(())
}

/// Tells a client that the room is full, then closes its connection.
fn turn_away(mut stream: TcpStream, peer: SocketAddr, max_clients: usize) {
    println!(
        "{peer} turned away: {} connected already",
        crate::cli::count(max_clients, "client is", "clients are")
    );
    let refusal = error_line(&format!(
        "Sorry, the chat is full ({}). Please try again later.",
        crate::cli::count(max_clients, "person", "people")
    ));
    // One short line fits in a new connection's empty send buffer, so this write does not wait.
    // The timeout is there in case it ever would: a flood must not hold up the accept loop.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    if let Err(error) = stream.write_all(refusal.as_bytes()) {
        eprintln!("could not tell {peer} the chat is full: {error}");
    }
    // Not a plain drop: if the client has typed already, closing with its bytes unread would
    // send a reset that can destroy the refusal before the client reads it.
    crate::close::gently(stream);
}

/// Counts the open connections. The accept loop takes a [`Seat`] for each, and a client's two
/// threads share it: it is given back when both have finished with the connection.
struct Seats {
    taken: Arc<AtomicUsize>,
    max: usize,
}

/// One connection's place in the count. Dropping it frees the place.
struct Seat(Arc<AtomicUsize>);

impl Seats {
    fn new(max: usize) -> Seats {
        Seats {
            taken: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// A seat, or `None` when all are taken.
    fn take(&self) -> Option<Seat> {
        // Only the accept loop takes seats, so nobody can take the last one between this check
        // and the increment; other threads only ever give seats back.
        if self.taken.load(Ordering::SeqCst) >= self.max {
            return None;
        }
        self.taken.fetch_add(1, Ordering::SeqCst);
        Some(Seat(Arc::clone(&self.taken)))
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
// ANCHOR_END: accept_loop

// ANCHOR: reader
/// Runs on the client's reader thread: introduces the client to the broker, then sends it every
/// line the client sends, until the connection ends, from either side.
fn read_lines(
    connection: Arc<TcpStream>,
    peer: SocketAddr,
    id: ClientId,
    outgoing: Sender<Line>,
    events: Sender<Event>,
    seat: Arc<Seat>,
    mut writer: WriterThread,
) {
    // Sent from here, not from the accept loop, so the broker hears of the client before any of
    // its lines, and only if this thread really started.
    let connected = Event::Connected {
        id,
        peer,
        outgoing,
        connection: Arc::clone(&connection),
    };
    if events.send(connected).is_err() {
        return; // The broker has stopped, and with it the server.
    }
    // telnet's commands are not text: see `telnet`.
    let mut lines = LineReader::new(TelnetReader::new(&*connection), MAX_LINE_BYTES);
    let how = loop {
        let event = match lines.next_line() {
            Ok(Received::Line(bytes)) => match String::from_utf8(bytes) {
                Ok(text) => Event::Line { id, text },
                Err(_) => Event::LineRefused {
                    id,
                    why: "line refused: it is not UTF-8 text".into(),
                },
            },
            Ok(Received::TooLong) => Event::LineRefused {
                id,
                why: format!("line refused: it is longer than {MAX_LINE_BYTES} bytes"),
            },
            Ok(Received::End { mid_line: false }) => break Leaving::Closed,
            // The client's connection closed halfway through a line: its program crashed, was
            // killed, or closed it mid-message.
            Ok(Received::End { mid_line: true }) => {
                break Leaving::Lost("closed the connection mid-line".into());
            }
            // The read timeout (READ_CHECK_INTERVAL) expired: Unix says WouldBlock, Windows
            // TimedOut. A quiet client is no fault; a closed connection ends this thread.
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                match writer.how_it_ended() {
                    Some(_) => break Leaving::Closed,
                    None => continue,
                }
            }
            Err(error) => break Leaving::Lost(error.to_string()),
        };
        if events.send(event).is_err() {
            return;
        }
    };
    // Whatever the reader saw last (often 0 bytes, as the writer closed the connection), a
    // writer that gave up on the client is the real story: the room must hear it was cut off,
    // not that it said goodbye.
    let how = match writer.how_it_ended() {
        Some(WriterEnded::Stalled) => Leaving::TooSlow,
        _ => how,
    };
    // This thread's share of the seat goes back now; the writer's, when it has finished.
    drop(seat);
    let _ = events.send(Event::Disconnected { id, how });
    // The broker now lets go of the client's queue, and the writer sends what is left in it:
    // the answers to the client's last lines, and what the room said meanwhile. A client that
    // half-closed still reads, and gets them all; one that reads slowly gets LEAVING_TIME.
    writer.finish(&connection);
}

/// What reading a client's next line produced.
#[derive(Debug, PartialEq)]
enum Received {
    /// One whole line, without its `\n` or `\r\n`.
    Line(Vec<u8>),
    /// A line grew longer than [`MAX_LINE_BYTES`]. The rest of it is skipped.
    TooLong,
    /// The client closed its side; `mid_line` says whether it left half a line behind.
    End { mid_line: bool },
}

/// Cuts a client's bytes into lines, and keeps no more than one line's worth of them (besides
/// what waits in its `BufReader`'s buffer, of a fixed size). (The standard `read_line` would keep
/// reading a line without end, as long as the client sends.)
struct LineReader<R> {
    input: BufReader<R>,
    /// The start of a line whose end has not arrived yet. Its room is set aside once, for the
    /// longest line and a `\r`, and it never grows beyond that.
    partial: Vec<u8>,
    /// Whether we are throwing away the rest of a line that was too long.
    skipping: bool,
    /// The longest line accepted, in bytes, not counting its line ending.
    max_line_bytes: usize,
}

impl<R: Read> LineReader<R> {
    fn new(input: R, max_line_bytes: usize) -> LineReader<R> {
        LineReader {
            input: BufReader::new(input),
            partial: Vec::with_capacity(max_line_bytes + 1),
            skipping: false,
            max_line_bytes,
        }
    }

    fn next_line(&mut self) -> io::Result<Received> {
        loop {
            let available = match self.input.fill_buf() {
                Ok(available) => available,
                // A signal interrupted the wait; nothing went wrong, so wait again.
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                let mid_line = self.skipping || !self.partial.is_empty();
                return Ok(Received::End { mid_line });
            }
            let newline = available.iter().position(|&byte| byte == b'\n');
            let piece = &available[..newline.unwrap_or(available.len())];
            // The line so far may be one byte longer than the limit: that byte may be the `\r`
            // of a `\r\n` ending, which does not count. Whether it is, only the next byte tells,
            // and it may not have arrived yet.
            let fits = self.partial.len() + piece.len() <= self.max_line_bytes + 1;
            if !self.skipping && fits {
                self.partial.extend_from_slice(piece);
            }
            let used = piece.len() + usize::from(newline.is_some());
            self.input.consume(used);

            if self.skipping {
                self.skipping = newline.is_none();
                continue;
            }
            if !fits {
                // Too long, whatever comes next: report it once, and skip the rest of it.
                self.partial.clear();
                self.skipping = newline.is_none();
                return Ok(Received::TooLong);
            }
            if newline.is_some() {
                // telnet ends lines with `\r\n`; the `\r` is part of the ending, not the text.
                let text = self.partial.strip_suffix(b"\r").unwrap_or(&self.partial);
                let received = if text.len() > self.max_line_bytes {
                    Received::TooLong
                } else {
                    Received::Line(text.to_vec())
                };
                self.partial.clear();
                return Ok(received);
            }
        }
    }
}
// ANCHOR_END: reader

// ANCHOR: writer
/// Runs on the client's writer thread: writes each queued line, in order, until the broker lets
/// go of the queue (the client left, or was cut off) or the connection breaks. Says why it
/// stopped on `ended`, for the reader thread, and gives back its share of the client's seat.
fn write_lines(
    connection: &TcpStream,
    queue: Receiver<Line>,
    ended: Sender<WriterEnded>,
    seat: Arc<Seat>,
) {
    let mut socket = BufWriter::new(connection);
    let mut how = WriterEnded::Done;
    // The loop ends when the queue is empty and the broker has dropped its `Sender`.
    for line in &queue {
        let mut written = socket.write_all(line.as_bytes());
        // Flush once the queue is empty for the moment: a burst of lines leaves in a few large
        // writes, and no line waits in the buffer while nothing else is coming.
        if written.is_ok() && queue.is_empty() {
            written = socket.flush();
        }
        if let Err(error) = written {
            // The write timeout expired (Unix says WouldBlock, Windows TimedOut): the client
            // took nothing for WRITE_TIMEOUT. Any other error: the connection broke.
            if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
                how = WriterEnded::Stalled;
            }
            break;
        }
    }
    // Tell the reader first, then close: whatever wakes the reader, the news is there. And give
    // the seat back before the client reads the end: if the reader has finished too, the
    // client finds its place free when it tries again.
    let _ = ended.send(how);
    drop(seat);
    // Closing both directions tells the client we are done. On Linux and macOS it also wakes
    // the reader thread (its read returns 0 bytes); Windows does not wake a blocked read
    // (rust-lang/rust#121594), so there the reader finds `ended` within READ_CHECK_INTERVAL.
    let _ = connection.shutdown(Shutdown::Both);
}

/// Why a client's writer thread stopped. Its reader thread may be waiting in `read` on the
/// connection the writer has just closed, so the writer leaves this note for it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum WriterEnded {
    /// The broker let go of the queue, or the connection broke.
    Done,
    /// The client took no bytes for [`WRITE_TIMEOUT`]: it stopped reading, and is cut off.
    Stalled,
}

/// What the reader knows of its client's writer thread.
struct WriterThread {
    /// Where the writer says why it stopped.
    news: Receiver<WriterEnded>,
    /// What it said, once it has: a channel hands a message out only once.
    ended: Option<WriterEnded>,
    /// How long the writer has to finish once the client has left: [`LEAVING_TIME`], except in
    /// tests.
    leaving_time: Duration,
}

impl WriterThread {
    /// Why the writer stopped, or `None` while it runs. Looks, without waiting.
    fn how_it_ended(&mut self) -> Option<WriterEnded> {
        if self.ended.is_none() {
            self.ended = match self.news.try_recv() {
                Ok(how) => Some(how),
                Err(TryRecvError::Empty) => None,
                // The thread is gone without a word: it can only have panicked.
                Err(TryRecvError::Disconnected) => Some(WriterEnded::Done),
            };
        }
        self.ended
    }

    /// Waits, up to the leaving time, for the writer to send what is left and finish. If it
    /// has not by then, closes the connection under it: the write it waits in fails (at once
    /// on Linux; where a system does not wake a blocked write, WRITE_TIMEOUT ends it), and it
    /// finishes, giving back its share of the seat. The close then throws away what the system
    /// still holds for the client, rather than go on delivering it after the seat is free.
    /// A writer that gave up because a write timed out is handled the same way: the client
    /// took nothing for WRITE_TIMEOUT, and what the system holds for it goes too.
    fn finish(mut self, connection: &TcpStream) {
        if self.how_it_ended().is_some() {
            return;
        }
        match self.news.recv_timeout(self.leaving_time) {
            // Everything was handed to the system, or the connection broke: an ordinary close.
            Ok(WriterEnded::Done) | Err(RecvTimeoutError::Disconnected) => {}
            Ok(WriterEnded::Stalled) => {
                let _ = crate::close::discard_unsent_on_close(connection);
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = crate::close::discard_unsent_on_close(connection);
                let _ = connection.shutdown(Shutdown::Both);
            }
        }
    }
}
// ANCHOR_END: writer

// ANCHOR: lines
// Every line a client receives is made by one of these four functions: the formats are decided
// here once, and each one makes its text printable, and the sender's name too (a server may
// take any name: exercise 04's does).

/// `alice: hello`: a message from `from` to the room.
pub fn chat_line(from: &str, text: &str) -> Line {
    Line::from(format!("{}: {}\n", printable(from), printable(text)))
}

/// `alice (private): hello`: a message from `from` to one client.
pub fn private_line(from: &str, text: &str) -> Line {
    Line::from(format!(
        "{} (private): {}\n",
        printable(from),
        printable(text)
    ))
}

/// `* bob joined`: news from the server.
pub fn notice_line(text: &str) -> Line {
    Line::from(format!("* {}\n", printable(text)))
}

/// `! the name bob is taken`: the server refusing something a client sent.
pub fn error_line(text: &str) -> Line {
    Line::from(format!("! {}\n", printable(text)))
}

/// `text`, with every control and format character replaced by `�`. Control characters are how
/// a terminal is told what to do: ESC starts sequences that move the cursor, clear the screen, or
/// recolour it. Format characters are how text is told what to do: U+202E makes what follows
/// display right to left, so a line can show in another order than it was sent in. A client may
/// send either, but neither must reach another client's screen.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || crate::unicode::is_format(c) {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}
// ANCHOR_END: lines

// The property tests of `LineReader`: every way to cut a stream into reads gives the same lines.
#[cfg(test)]
mod line_reader_tests;

// How a client's threads end when the server ends the connection, whatever wakes them.
#[cfg(test)]
mod ending_tests;
