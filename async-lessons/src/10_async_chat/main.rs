//! Lesson 10: the chat server of lesson 04, with async Rust.
//!
//! The same protocol, the same rules, the same limits, the same broker; only the plumbing
//! changes. Where lesson 04 gave every client a reader thread and a writer thread, this server
//! gives it a reader *task* and a writer *task*, and tokio runs all the tasks on a few threads.
//! The channels are tokio's instead of crossbeam's, because a task must not block its thread
//! while it waits for a channel: it `.await`s instead.
//!
//! - one *reader* task per client turns the bytes it sends into lines, and sends each line to
//!   the broker as an `Event`;
//! - one *broker* task owns the room, exactly as in lesson 04;
//! - one *writer* task per client takes lines from that client's queue and writes them to its
//!   socket.
//!
//! The line formats, the limits on lines, queues and writes, and how a client leaves come from
//! the course library (`src/chat.rs`), so both servers send exactly the same lines. The seats,
//! the longest name and the time to choose one are set below, as lesson 04 sets them (a test,
//! `limits_are_lesson_04s`, keeps them the same).
//!
//! Three files: this one is the lesson, from `main` to the broker's loop; `lines.rs` cuts a
//! client's bytes into lines; `room.rs` is the room, lesson 04's.

mod lines;
mod room;

// How long a client that has left keeps its seat.
#[cfg(test)]
mod leaving_tests;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use course::accept::AcceptFailures;
use course::chat::{
    ClientId, EVENT_QUEUE_LEN, LEAVING_TIME, Leaving, Line, MAX_LINE_BYTES, OUTGOING_QUEUE_LINES,
    WRITE_TIMEOUT, error_line,
};
use course::cli::{Program, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc::{self, Receiver, Sender};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{AbortHandle, JoinError};
use tokio::time::{timeout, timeout_at};

use lines::{LineReader, Received, TelnetReader};
use room::Room;

// ANCHOR: limits
/// How many connections are served at once, unless the command line says otherwise. Each costs
/// two tasks and a socket: far less than two threads, but a flood of connections would still
/// exhaust the file descriptors.
const MAX_CLIENTS: usize = 1000;
/// The longest name, in characters.
const MAX_NAME_CHARS: usize = 20;
/// How long a newcomer has to choose a name, unless the command line says otherwise. Until it
/// has one, a connection hears nothing but holds a seat: without a limit, enough silent
/// connections would hold every seat, and nobody else could get in.
const NAME_TIME: Duration = Duration::from_secs(60);
// ANCHOR_END: limits

// ANCHOR: main
#[tokio::main]
async fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let max_clients = match args.extra.first() {
        Some(text) => parse_max_clients(text)?,
        None => MAX_CLIENTS,
    };
    let name_time = match args.extra.get(1) {
        Some(text) => parse_name_time(text)?,
        None => NAME_TIME,
    };
    let address = args.address;
    let listener = listen(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);

    // Every reader task gets a clone of `events`; the broker holds the only receiver.
    let (events, broker_inbox) = mpsc::channel(EVENT_QUEUE_LEN);
    tokio::spawn(accept_clients(listener, events, max_clients));
    // The broker is a task like the others, on tokio's worker threads. (`main` itself runs on
    // a thread of its own, beside them: a broker there would race ahead of the writers it
    // feeds, as chapter 10 measures.) If the broker ever stopped, `main` would return and the
    // whole server with it, rather than go on accepting clients that nobody would serve.
    tokio::spawn(run_broker(broker_inbox, name_time)).await?;
    Ok(())
}
// ANCHOR_END: main

// ANCHOR: listen
/// How many connections the system may hold completed, waiting for the accept loop to take them.
/// `TcpListener::bind`, tokio's as the standard library's, asks for 128. When a thousand clients
/// connect at once, Linux and macOS drop what does not fit, and those clients wait a second or
/// more for their retry (Windows refuses it, and its client retries for about 2 s). (Linux caps this at `/proc/sys/net/core/somaxconn`, 4096 on recent systems.)
const BACKLOG: u32 = 1024;

/// `TcpListener::bind`, with room for [`BACKLOG`] waiting connections.
fn listen(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // What `bind` does too: on Unix, let a restarted server listen on its port again at once,
    // rather than wait out the old connections. (On Windows this option means something else,
    // and would let another program take the port.)
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}
// ANCHOR_END: listen

fn parse_max_clients(text: &str) -> anyhow::Result<usize> {
    course::cli::whole_number("MAX_CLIENTS", text, 1..=course::cli::MOST_AT_ONCE)
}

fn parse_name_time(text: &str) -> anyhow::Result<Duration> {
    // At most an hour: a time far larger would overflow the deadline `Instant::now() + time`,
    // and the broker would panic at the first newcomer. At least a millisecond: less sends
    // every newcomer away before it could say a word.
    course::cli::seconds("NAME_SECONDS", text, course::cli::TIMEOUT_SECONDS)
}

// ANCHOR: events
/// What a reader task tells the broker: lesson 04's events, with tokio's pieces.
enum Event {
    /// A client connected. Its writer task drains the other end of `outgoing`.
    Connected {
        id: ClientId,
        peer: SocketAddr,
        outgoing: Sender<Line>,
        /// Stops the client's writer task, to cut the client off. Lesson 04 shut the socket
        /// down instead, to wake a writer thread stuck in `write`; a task can simply be dropped
        /// where it waits.
        writer: AbortHandle,
    },
    /// The client sent a whole line of UTF-8 text (without its line ending).
    Line { id: ClientId, text: String },
    /// The client sent something that is not a line we accept; `why` is told to it alone.
    LineRefused { id: ClientId, why: String },
    /// The client's connection ended. Always the last event from its reader task.
    Disconnected { id: ClientId, how: Leaving },
}
// ANCHOR_END: events

// ANCHOR: accept_loop
/// Runs as a task: takes each new connection, turns it away if the room is full, and otherwise
/// starts the client's tasks.
async fn accept_clients(listener: TcpListener, events: Sender<Event>, max_clients: usize) {
    // A semaphore is a counter of permits: here, one permit per seat. Dropping a permit gives
    // the seat back, as lesson 04's `Seat` did.
    let seats = Arc::new(Semaphore::new(max_clients));
    let mut last_id: ClientId = 0;
    let mut failures = AcceptFailures::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Some errors last, such as running out of file descriptors: log a spell of them,
                // not every try, and pause (tokio's pause, as in the echo) before each retry.
                tokio::time::sleep(failures.log_failure(error)).await;
                continue;
            }
        };
        failures.over();
        // Each line at once, not held back for an acknowledgement: see lesson 04's plumbing
        // (src/chat.rs) and lesson 11, which measures the difference.
        let _ = stream.set_nodelay(true);
        let Ok(seat) = Arc::clone(&seats).try_acquire_owned() else {
            // A task of its own, so that a flood of refusals never holds up the accept loop.
            tokio::spawn(turn_away(stream, peer, max_clients));
            continue;
        };
        last_id += 1;
        tokio::spawn(read_lines(
            stream,
            peer,
            last_id,
            seat,
            events.clone(),
            LEAVING_TIME,
        ));
    }
}

/// Tells a client that the room is full, then closes its connection.
async fn turn_away(mut stream: TcpStream, peer: SocketAddr, max_clients: usize) {
    println!(
        "{peer} turned away: {} connected already",
        course::cli::count(max_clients, "client is", "clients are")
    );
    let refusal = error_line(&format!(
        "Sorry, the chat is full ({}). Please try again later.",
        course::cli::count(max_clients, "person", "people")
    ));
    match timeout(Duration::from_secs(1), stream.write_all(refusal.as_bytes())).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => eprintln!("could not tell {peer} the chat is full: {error}"),
        Err(_) => eprintln!("could not tell {peer} the chat is full: it took too long"),
    }
    // Close gently, as `course::close::gently` does for lesson 04: say we are done, then read
    // and drop what the client still sends until it closes too, or LINGER passes. Closing with
    // its bytes unread would send a reset that can destroy the refusal before it is read.
    let _ = stream.shutdown().await;
    let mut sink = [0; 4096];
    let drain = async { while let Ok(1..) = stream.read(&mut sink).await {} };
    let _ = timeout(course::close::LINGER, drain).await;
}
// ANCHOR_END: accept_loop

// ANCHOR: reader
/// Runs as the client's reader task: starts its writer task, introduces the client to the
/// broker, then sends it every line the client sends, until the connection ends.
/// `leaving_time` is lesson 04's `LEAVING_TIME`, except in tests.
async fn read_lines(
    stream: TcpStream,
    peer: SocketAddr,
    id: ClientId,
    seat: OwnedSemaphorePermit,
    events: Sender<Event>,
    leaving_time: Duration,
) {
    // Two halves that two tasks can own: one reads, the other writes. The two tasks share the
    // seat too, as lesson 04's threads do: it is free once both have finished.
    let (mut reading, writing) = stream.into_split();
    let seat = Arc::new(seat);
    let (outgoing, queue) = mpsc::channel(OUTGOING_QUEUE_LINES);
    let mut writer = tokio::spawn(write_lines(writing, queue, Arc::clone(&seat)));
    let connected = Event::Connected {
        id,
        peer,
        outgoing,
        writer: writer.abort_handle(),
    };
    // `send` waits while the broker's inbox is full: back-pressure, as in lesson 04. But this
    // task waits without holding a thread, so the thread runs other clients meanwhile.
    if events.send(connected).await.is_err() {
        return; // The broker has stopped, and with it the server.
    }
    // telnet's commands are not text: see `lines.rs`. (It borrows `reading`, which the end
    // below needs again.)
    let mut lines = LineReader::new(TelnetReader::new(&mut reading));
    let how = loop {
        // Wait for whichever comes first: the client's next line, or the end of its writer.
        // Lesson 04's writer shut the socket down to wake its reader; here the reader waits on
        // both, and the branch that loses is dropped (cancelled) where it stands.
        let received = tokio::select! {
            received = lines.next_line() => received,
            ended = &mut writer => break how_the_writer_ended(ended),
        };
        let event = match received {
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
            Ok(Received::End { mid_line: true }) => {
                break Leaving::Lost("closed the connection mid-line".into());
            }
            Err(error) => break Leaving::Lost(error.to_string()),
        };
        if events.send(event).await.is_err() {
            return;
        }
    };
    // This task's share of the seat goes back now; the writer's, when it has finished.
    drop(seat);
    let _ = events.send(Event::Disconnected { id, how }).await;
    // The broker now lets go of the queue, and the writer sends what is left in it, as in
    // lesson 04: a writer that has not handed it all to the system within LEAVING_TIME is
    // dropped where it waits, and its share of the seat with it. (A writer that ended first was polled to
    // its end in the loop above; `is_finished` says so, and it is not awaited twice.)
    if !writer.is_finished() {
        // As lesson 04: a writer that does not finish sending, by then or because a write
        // timed out, is dropped, and the close throws away what the system still holds.
        let sent = matches!(timeout(leaving_time, &mut writer).await, Ok(Ok(Ok(()))));
        if !sent {
            let _ = course::close::discard_unsent_on_close(reading.as_ref());
            writer.abort();
        }
    }
}

/// How the client left, when its writer task ended before its reader.
fn how_the_writer_ended(ended: Result<Result<(), Leaving>, JoinError>) -> Leaving {
    match ended {
        // The broker let go of the queue (after `/quit`, or a name chosen too late), and
        // everything was sent.
        Ok(Ok(())) => Leaving::Closed,
        // The client took nothing for WRITE_TIMEOUT (cut off), or the connection broke (lost).
        Ok(Err(how)) => how,
        // The broker aborted the writer: the client was cut off, and the room told already.
        Err(error) if error.is_cancelled() => Leaving::TooSlow,
        Err(_) => Leaving::Lost("its writer task failed".into()),
    }
}
// ANCHOR_END: reader

// ANCHOR: writer
/// Runs as the client's writer task: writes the queued lines, in order, until the broker lets
/// go of the queue. `Err` says how the client is to be reported gone. Its share of the client's
/// seat goes back when it ends.
async fn write_lines(
    mut socket: OwnedWriteHalf,
    mut queue: Receiver<Line>,
    seat: Arc<OwnedSemaphorePermit>,
) -> Result<(), Leaving> {
    let mut lines = Vec::new();
    let mut bytes = Vec::new();
    // Each time the task runs, it takes *everything* queued for the client, and writes it
    // together: as few system calls as the socket takes, not one per line. A
    // writer that wrote line by line fell behind the broker in a burst (chapter 10 measures
    // it), and the broker cut off clients that were reading all the time. `recv_many` waits
    // for at least one line, and says 0 only once the broker has let go and the queue is empty.
    while queue.recv_many(&mut lines, OUTGOING_QUEUE_LINES).await > 0 {
        bytes.clear();
        for line in lines.drain(..) {
            bytes.extend_from_slice(line.as_bytes());
        }
        // No task may wait on one client for ever; see WRITE_TIMEOUT. The timer is for each
        // `write`, which returns as soon as the socket takes some bytes: a client that keeps
        // taking them is reading, however long the whole batch takes.
        let mut unsent = &bytes[..];
        while !unsent.is_empty() {
            let taken = within_write_timeout(socket.write(unsent)).await?;
            if taken == 0 {
                return Err(Leaving::Lost(
                    "the connection takes no more bytes".to_string(),
                ));
            }
            unsent = &unsent[taken..];
        }
    }
    // The broker let go: everything is sent; close our side, so the client reads the end. The
    // seat goes back first: if the reader has finished too, the client finds its place free
    // when it tries again.
    drop(seat);
    within_write_timeout(socket.shutdown()).await
}

/// Runs `write`, giving up after [`WRITE_TIMEOUT`]. A client that took no bytes for that long
/// has stopped reading: it is cut off, and the room is told so, as lesson 04's writer does,
/// rather than hear that it left.
async fn within_write_timeout<T>(write: impl Future<Output = io::Result<T>>) -> Result<T, Leaving> {
    match timeout(WRITE_TIMEOUT, write).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(error)) => Err(Leaving::Lost(error.to_string())),
        Err(_) => Err(Leaving::TooSlow),
    }
}
// ANCHOR_END: writer

// ANCHOR: run_broker
/// The broker: lesson 04's, with `.await` on the inbox. It handles events one at a time, and
/// between two `.await`s nothing else touches the room, so it still needs no lock.
async fn run_broker(mut events: Receiver<Event>, name_time: Duration) {
    let mut room = Room::new(name_time);
    loop {
        // Wait for the next event, but no longer than until a newcomer's time to choose a name
        // runs out: nothing else would wake the broker then. (`recv` is cancel-safe: if the
        // timer wins, no event is lost.)
        let next = match room.next_name_deadline() {
            Some(deadline) => timeout_at(deadline.into(), events.recv()).await.ok(),
            None => Some(events.recv().await),
        };
        match next {
            Some(Some(Event::Connected {
                id,
                peer,
                outgoing,
                writer,
            })) => room.arrive(id, peer, outgoing, writer),
            Some(Some(Event::Line { id, text })) => room.hear(id, &text),
            Some(Some(Event::LineRefused { id, why })) => room.send_to(id, error_line(&why)),
            Some(Some(Event::Disconnected { id, how })) => room.remove(id, how),
            None => {} // someone's time is up: see below
            // The accept loop and every reader are gone: nobody can ever send another event.
            Some(None) => return,
        }
        room.send_away_the_nameless(Instant::now());
        room.cut_off_the_slow();
        // tokio never interrupts a task. In a burst, events keep coming, and the broker would
        // go on filling queues while the writers it woke waited behind it, until their queues
        // were full and their clients cut off, though they read all the time. So when a queue
        // is half full, the broker steps aside and lets the writers run. (Lesson 04's threads
        // need no such thing: the system shares the processor between them.)
        if room.a_writer_lags() {
            tokio::task::yield_now().await;
        }
    }
}
// ANCHOR_END: run_broker

const PROGRAM: Program = Program {
    name: "10_async_chat",
    role: Role::Server,
    about: "Lesson 10: lesson 04's chat room, with tokio tasks instead of threads.",
    default_address: "127.0.0.1:65442",
    extra_usage: "[MAX_CLIENTS] [NAME_SECONDS]",
    max_extra_args: 2,
    try_it: "Join from two or more other terminals with any of:\n  \
             cargo run --bin 04_chat_client -- 127.0.0.1:65442\n  nc 127.0.0.1 65442\n  \
             telnet 127.0.0.1 65442\n\
             Type a name first, then chat; /help lists the commands.\n\n\
             MAX_CLIENTS is how many connections are served at once (default 1000); the next\n\
             one is told the chat is full and closed. NAME_SECONDS is how long a newcomer has to\n\
             choose a name (default 60; 0.5 means half a second) before it is told so and closed.\n\
             The tests pass small numbers to check these limits without opening a thousand\n\
             connections or waiting a minute.",
};
