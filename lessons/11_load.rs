//! Lesson 11: a load generator, to measure a server instead of guessing.
//!
//! N clients connect at once, and each sends M messages of a given size, one at a time: it sends
//! a message, waits for it to come back, checks it byte for byte, and sends the next. A reply
//! that is wrong, missing or late counts as an error, never as a success: a server that answers
//! fast but wrongly must not look fast. At the end it prints what redis-benchmark and wrk print:
//! clients, round trips, errors, round trips per second, and the latency percentiles.
//!
//! With `--chat` it measures a chat server instead (lesson 04's protocol): every client joins
//! with a name, and each message is timed from its send to its arrival at every other client.
//! With `--chat --burst`, each client sends all its messages at once instead of one at a time.
//! With `--spawn` it starts the server itself, and on Linux also reports the server's footprint:
//! its peak threads, resident memory and open files, read from /proc.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, ErrorKind, IsTerminal, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use course::cli::{Parsed, Program, Role};

/// Each client is a thread (two in chat mode). A small stack lets a thousand of them fit in
/// little memory: a client needs only a few buffers, and those live on the heap.
const CLIENT_STACK_BYTES: usize = 128 * 1024;
/// How often the progress line and the server's footprint are brought up to date.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
const FOOTPRINT_EVERY: Duration = Duration::from_millis(50);
/// A chat line may hold at most 1024 bytes (lesson 04's limit) and a newline.
const CHAT_MAX_SIZE: usize = 1025;
/// The longest line accepted from a chat server, in bytes, newline included. A room's message is
/// a name and at most 1024 bytes; the longest news, the list of who is here, is about 22 KB with
/// a thousand people. A server that sends more without a newline is not talking in lines, and a
/// client that kept reading would hold all of it in memory, a thousand clients at once.
const MAX_SERVER_LINE_BYTES: usize = 64 * 1024;
/// A client gives up after this many failures in a row, and its remaining messages count as
/// errors. Without it, clients a server turns away would reconnect as fast as they can, and a
/// run would measure a storm of refusals (and use up the system's ports) rather than the server.
const GIVE_UP_AFTER: u64 = 3;

fn main() -> course::cli::MainResult {
    let Some(options) = Options::parse(std::env::args().skip(1))? else {
        println!("{}", PROGRAM.help());
        return Ok(());
    };
    // A server we start ourselves is killed when `spawned` is dropped, on every way out of main.
    let spawned = match &options.spawn {
        Some(command) => Some(SpawnedServer::start(command)?),
        None => None,
    };
    let address = spawned
        .as_ref()
        .map_or(options.address, |server| server.address);
    let pid = spawned
        .as_ref()
        .map(|server| server.child.id())
        .or(options.pid);
    let progress = Arc::new(Progress::default());
    let footprint = pid.map(|pid| FootprintWatch::start(pid, Arc::clone(&progress)));
    let reporter = progress.report_on_stderr(options.mode);
    let outcome = match options.mode {
        Mode::Echo => run_echo(address, &options, &progress),
        Mode::Chat => run_chat(address, &options, &progress),
    };
    progress.finished.store(true, Ordering::Relaxed);
    let _ = reporter.join();
    let outcome = outcome?;
    let footprint = footprint.and_then(FootprintWatch::stop);

    if options.json {
        println!("{}", outcome.json(&options, footprint.as_ref()));
    } else {
        print!("{}", outcome.table(&options, address, footprint.as_ref()));
    }
    drop(spawned);
    if outcome.errors.total() > 0 {
        return Err(anyhow::anyhow!("{}", outcome.errors.summary(options.timeout)).into());
    }
    Ok(())
}

// ANCHOR: run_echo
/// Runs N echo clients at once, and gathers what each one saw.
fn run_echo(
    address: SocketAddr,
    options: &Options,
    progress: &Arc<Progress>,
) -> anyhow::Result<Outcome> {
    // The clients connect first, then all start together: connecting a thousand clients takes
    // time, and it should not count as time spent on round trips.
    let start = Arc::new(Barrier::new(options.clients + 1));
    let mut clients = Vec::with_capacity(options.clients);
    for number in 0..options.clients {
        let (start, progress, options) =
            (Arc::clone(&start), Arc::clone(progress), options.clone());
        let client = thread::Builder::new()
            .name(format!("client {number}"))
            .stack_size(CLIENT_STACK_BYTES)
            .spawn(move || echo_client(number, address, &options, &start, &progress));
        clients.push(client.with_context(|| too_many_threads(number))?);
    }
    start.wait();
    let began = Instant::now();
    progress.started(began);
    let tallies = join_all(clients)?;
    Ok(Outcome::from_tallies(tallies, began.elapsed()))
}

/// One client: connects, waits for the start, then does its round trips one after another.
fn echo_client(
    number: usize,
    address: SocketAddr,
    options: &Options,
    start: &Barrier,
    progress: &Progress,
) -> Tally {
    let mut tally = Tally::default();
    let mut connection = connect(address, options.timeout);
    start.wait();
    let began = Instant::now();
    let mut reply = vec![0; options.size];
    let mut sequence = 0;
    let mut failures_in_a_row = 0;
    while options.wants_another(sequence, began) {
        if failures_in_a_row == GIVE_UP_AFTER {
            // Every message it will not send is one that gets no reply: an error too.
            let left = options.messages.map_or(0, |messages| messages - sequence);
            tally.errors.abandoned += left;
            tally.gave_up = true;
            progress.errors.fetch_add(left, Ordering::Relaxed);
            break;
        }
        let message = echo_message(number, sequence, options.size);
        let result = match &mut connection {
            Ok(stream) => round_trip(stream, &message, &mut reply, options.timeout),
            Err(error) => Err(Failure::Unconnected(format!("{error:#}"))),
        };
        match result {
            Ok(latency) => {
                tally.latencies_us.push(micros(latency));
                progress.done.fetch_add(1, Ordering::Relaxed);
                failures_in_a_row = 0;
            }
            Err(failure) => {
                failures_in_a_row += 1;
                tally.record(failure, || format!("client {number}, message {sequence}"));
                progress.errors.fetch_add(1, Ordering::Relaxed);
                // After a wrong or late reply the stream is out of step (a late echo would be
                // taken for the next one), so the next message goes over a fresh connection.
                connection = connect(address, options.timeout);
            }
        }
        sequence += 1;
    }
    tally
}

// ANCHOR_END: run_echo

// ANCHOR: round_trip
/// Sends one message and reads exactly as many bytes back, within `timeout`.
fn round_trip(
    stream: &mut TcpStream,
    message: &[u8],
    reply: &mut [u8],
    timeout: Duration,
) -> Result<Duration, Failure> {
    let sent = Instant::now();
    let deadline = sent + timeout;
    stream
        .write_all(message)
        .map_err(|error| Failure::from_io(error, "sending"))?;
    // One read is not one reply: the echo may come back in pieces, so read until it is whole.
    let mut filled = 0;
    let mut shortened = false;
    while filled < reply.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::Late(filled));
        }
        if filled > 0 {
            // Only a reply that comes in pieces pays for this extra system call.
            let _ = stream.set_read_timeout(Some(left));
            shortened = true;
        }
        match stream.read(&mut reply[filled..]) {
            Ok(0) => return Err(Failure::Closed(reply[..filled].to_vec())),
            Ok(count) => filled += count,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(Failure::from_io(error, "reading").late_after(filled)),
        }
    }
    let latency = sent.elapsed();
    if shortened {
        let _ = stream.set_read_timeout(Some(timeout));
    }
    match reply
        .iter()
        .zip(message)
        .position(|(got, sent)| got != sent)
    {
        None => Ok(latency),
        Some(at) => Err(Failure::Wrong(format!(
            "the reply differs from the message at byte {at}: got \"{}\" where \"{}\" was sent{}",
            excerpt(reply, at),
            excerpt(message, at),
            chat_hint(reply)
        ))),
    }
}
// ANCHOR_END: round_trip

/// The message a client sends: its number and the message's, so that a reply meant for another
/// client or another message cannot pass for this one, then filler up to `size`, then a newline
/// (the line servers, lesson 07's pool and the chat, need one).
fn echo_message(client: usize, sequence: u64, size: usize) -> Vec<u8> {
    let mut message = format!("{client:06} {sequence:09} ").into_bytes();
    let mut filler = (b'a'..=b'z').cycle();
    while message.len() < size {
        message.extend(filler.next());
    }
    message.truncate(size.saturating_sub(1));
    message.push(b'\n');
    message
}

fn connect(address: SocketAddr, timeout: Duration) -> anyhow::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|error| course::explain::connect_error(address, error))?;
    // Small messages go out at once rather than waiting to be merged with the next (Nagle's
    // algorithm): a round trip waits for its reply, so there is no next to wait for.
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

// ANCHOR: chat_client
/// Runs N chat clients: all join, then each sends its messages one at a time (or, with `--burst`,
/// all at once), and each message counts as done when every other client has received it.
fn run_chat(
    address: SocketAddr,
    options: &Options,
    progress: &Arc<Progress>,
) -> anyhow::Result<Outcome> {
    if options.clients < 2 {
        bail!("--chat needs at least 2 clients: a message goes to everyone but its sender");
    }
    if options.size > CHAT_MAX_SIZE {
        bail!(
            "--chat sends lines of at most {CHAT_MAX_SIZE} bytes, the chat's limit, not {}",
            options.size
        );
    }
    let room = Arc::new(Room::new(options.clients));
    let mut clients = Vec::with_capacity(options.clients);
    for number in 0..options.clients {
        let (room, progress, options) = (Arc::clone(&room), Arc::clone(progress), options.clone());
        let client = thread::Builder::new()
            .name(format!("chatter {number}"))
            .stack_size(CLIENT_STACK_BYTES)
            .spawn(move || chat_client(number, address, &options, room, &progress));
        clients.push(client.with_context(|| too_many_threads(number))?);
    }
    room.everyone_joined.wait();
    let began = Instant::now();
    progress.started(began);
    let mut tallies = join_all(clients)?;
    let elapsed = began.elapsed();
    tallies.push(std::mem::take(&mut *lock(&room.receiving_errors)));
    Ok(Outcome::from_tallies(tallies, elapsed))
}

/// What the chat clients share: where each sender's messages on their way stand.
struct Room {
    /// One slot per client: the messages it sent last, and how many have yet to receive each.
    slots: Vec<(Mutex<Slot>, Condvar)>,
    /// Everyone has a name: the messages may start.
    everyone_joined: Barrier,
    /// Everyone has sent everything: the clients may leave (leaving earlier would make a
    /// message still on its way look lost).
    everyone_done: Barrier,
    /// Wrong lines that readers received, to be counted with the senders' errors.
    receiving_errors: Mutex<Tally>,
}

/// A sender's messages on their way: one at a time, or a whole burst.
#[derive(Default)]
struct Slot {
    /// The number of the first of them.
    first: u64,
    sent: Option<Instant>,
    /// For each of them, how many of the others have yet to receive it.
    waiting_for: Vec<usize>,
    /// For each of them, when the last of the others received it.
    completed: Vec<Option<Duration>>,
    /// How many of them have yet to reach everyone.
    unfinished: usize,
}

impl Room {
    fn new(clients: usize) -> Room {
        Room {
            slots: (0..clients).map(|_| Default::default()).collect(),
            everyone_joined: Barrier::new(clients + 1),
            everyone_done: Barrier::new(clients),
            receiving_errors: Mutex::new(Tally::default()),
        }
    }
}

fn chat_client(
    number: usize,
    address: SocketAddr,
    options: &Options,
    room: Arc<Room>,
    progress: &Progress,
) -> Tally {
    let mut tally = Tally::default();
    let joined = join(number, address, options.timeout);
    room.everyone_joined.wait();
    let (stream, reader) = match joined {
        Ok((stream, reader)) => {
            let (shared, size) = (Arc::clone(&room), options.size);
            let listener = thread::Builder::new()
                .name(format!("chatter {number} reading"))
                .stack_size(CLIENT_STACK_BYTES)
                .spawn(move || read_room(reader, number, &shared, size));
            match listener {
                Ok(listener) => (stream, listener),
                Err(_) => {
                    tally.record(Failure::Unconnected(too_many_threads(number)), || {
                        format!("client {number}")
                    });
                    room.everyone_done.wait();
                    return tally;
                }
            }
        }
        Err(failure) => {
            // A client that could not join sends nothing; its messages count as errors.
            for _ in 0..options.messages_or_one() {
                tally.record(failure.clone(), || format!("client {number} joining"));
            }
            room.everyone_done.wait();
            return tally;
        }
    };
    let mut writer = &stream;
    let mut sequence = 0;
    let began = Instant::now();
    while options.wants_another(sequence, began) {
        // One message at a time; with `--burst`, all of them in one write.
        let count = if options.burst {
            options.messages_or_one()
        } else {
            1
        };
        let (slot, arrived) = &room.slots[number];
        let sent = Instant::now();
        *lock(slot) = Slot {
            first: sequence,
            sent: Some(sent),
            waiting_for: vec![options.clients - 1; count as usize],
            completed: vec![None; count as usize],
            unfinished: count as usize,
        };
        let sent_us = micros(sent.duration_since(began));
        let lines: String = (sequence..sequence + count)
            .map(|message| chat_text(message, sent_us, options.size) + "\n")
            .collect();
        if let Err(error) = writer.write_all(lines.as_bytes()) {
            let failure = Failure::from_io(error, "sending");
            for message in sequence..sequence + count {
                tally.record(failure.clone(), || {
                    format!("client {number}, message {message}")
                });
            }
            progress.errors.fetch_add(count, Ordering::Relaxed);
            break;
        }
        let slot = lock(slot);
        let (slot, _) = arrived
            .wait_timeout_while(slot, options.timeout, |slot| slot.unfinished > 0)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (index, completed) in slot.completed.iter().enumerate() {
            match completed {
                Some(fan_out) => {
                    tally.latencies_us.push(micros(*fan_out));
                    progress.done.fetch_add(1, Ordering::Relaxed);
                }
                None => {
                    let reached = options.clients - 1 - slot.waiting_for[index];
                    let failure = Failure::Undelivered {
                        reached,
                        of: options.clients - 1,
                    };
                    let message = sequence + index as u64;
                    tally.record(failure, || format!("client {number}, message {message}"));
                    progress.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        sequence += count;
    }
    room.everyone_done.wait();
    // Wakes the reader thread with the end of the stream: it stops at once.
    let _ = stream.shutdown(Shutdown::Both);
    let _ = reader.join();
    tally
}
// ANCHOR_END: chat_client

/// Connects, reads the welcome, gives the name `loadN`, and waits for the room's welcome.
fn join(
    number: usize,
    address: SocketAddr,
    timeout: Duration,
) -> Result<(TcpStream, BufReader<TcpStream>), Failure> {
    let stream =
        connect(address, timeout).map_err(|error| Failure::Unconnected(format!("{error:#}")))?;
    let mut reader = BufReader::new(
        stream
            .try_clone()
            .map_err(|error| Failure::from_io(error, "cloning"))?,
    );
    let welcome = read_line(&mut reader)?;
    if !welcome.starts_with("* ") {
        return Err(Failure::Wrong(format!(
            "the server greeted with {welcome:?}"
        )));
    }
    (&stream)
        .write_all(format!("load{number}\n").as_bytes())
        .map_err(|error| Failure::from_io(error, "sending a name"))?;
    let answer = read_line(&mut reader)?;
    if !answer.starts_with(&format!("* Welcome, load{number}!")) {
        return Err(Failure::Wrong(format!(
            "the name load{number} got {answer:?}"
        )));
    }
    // From here on the reader thread reads, and may wait as long as the room is quiet.
    let _ = stream.set_read_timeout(None);
    Ok((stream, reader))
}

/// A room message's text: its number, when it was sent (microseconds since the sender started),
/// and filler up to `size` with the newline.
fn chat_text(sequence: u64, sent_us: u32, size: usize) -> String {
    let mut text = format!("{sequence} {sent_us} ");
    let mut filler = ('a'..='z').cycle();
    while text.len() + 1 < size {
        text.extend(filler.next());
    }
    text.truncate(size.saturating_sub(1).max(1));
    text
}

/// Reads the room until the stream ends: every message must be one some client sent, whole,
/// and each sender's messages must arrive in the order they were sent.
fn read_room(mut reader: BufReader<TcpStream>, me: usize, room: &Room, size: usize) {
    let mut next_from = vec![0_u64; room.slots.len()];
    let mut line = String::new();
    loop {
        line.clear();
        match read_line_within_limit(&mut reader, &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            // A line too long, or not text: what follows cannot be told apart into lines.
            Err(error) if error.kind() == ErrorKind::InvalidData => {
                lock(&room.receiving_errors).record(Failure::Wrong(error.to_string()), || {
                    format!("client {me} receiving")
                });
                return;
            }
            Err(_) => return,
        }
        let text = line.trim_end_matches('\n');
        // Joins and leaves: news, not load.
        if text.starts_with("* ") {
            continue;
        }
        if let Err(problem) = check_room_line(text, me, &mut next_from, room, size) {
            lock(&room.receiving_errors)
                .record(Failure::Wrong(problem), || format!("client {me} receiving"));
        }
    }
}

fn check_room_line(
    text: &str,
    me: usize,
    next_from: &mut [u64],
    room: &Room,
    size: usize,
) -> Result<(), String> {
    let parsed = text.strip_prefix("load").and_then(|rest| {
        let (sender, rest) = rest.split_once(": ")?;
        let mut words = rest.splitn(3, ' ');
        let sender: usize = sender.parse().ok()?;
        let sequence: u64 = words.next()?.parse().ok()?;
        let sent_us: u32 = words.next()?.parse().ok()?;
        Some((sender, sequence, sent_us, rest))
    });
    let Some((sender, sequence, sent_us, received)) = parsed else {
        return Err(format!("received {text:?}, which is no client's message"));
    };
    if sender >= next_from.len() || sender == me {
        return Err(format!(
            "received {text:?}, from a client that should not send it here"
        ));
    }
    let expected = chat_text(sequence, sent_us, size);
    if received != expected {
        return Err(format!(
            "received {received:?} from load{sender} where {expected:?} was sent"
        ));
    }
    if sequence != next_from[sender] {
        return Err(format!(
            "received message {sequence} from load{sender} where message {} was next",
            next_from[sender]
        ));
    }
    next_from[sender] = sequence + 1;
    let (slot, arrived) = &room.slots[sender];
    let mut slot = lock(slot);
    let index = sequence.checked_sub(slot.first).map(|index| index as usize);
    if let Some(index) = index.filter(|&index| slot.waiting_for.get(index) > Some(&0)) {
        slot.waiting_for[index] -= 1;
        if slot.waiting_for[index] == 0 {
            slot.completed[index] = slot.sent.map(|sent| sent.elapsed());
            slot.unfinished -= 1;
            if slot.unfinished == 0 {
                arrived.notify_one();
            }
        }
    }
    Ok(())
}

/// A line from the server, within the stream's read timeout.
fn read_line(reader: &mut BufReader<TcpStream>) -> Result<String, Failure> {
    let mut line = String::new();
    match read_line_within_limit(reader, &mut line) {
        Ok(0) => Err(Failure::Closed(Vec::new())),
        Ok(_) => Ok(line.trim_end().to_string()),
        Err(error) if error.kind() == ErrorKind::InvalidData => {
            Err(Failure::Wrong(error.to_string()))
        }
        Err(error) => Err(Failure::from_io(error, "reading")),
    }
}

/// Reads one line into `line`, as `read_line` does, but never more than
/// [`MAX_SERVER_LINE_BYTES`]: `take` stops a line without end there. A longer line, or one that
/// is not UTF-8, is an `InvalidData` error that says which.
fn read_line_within_limit(reader: &mut impl BufRead, line: &mut String) -> std::io::Result<usize> {
    // Bytes first: cut at the limit, a line may end mid-character, and `read_line` would then
    // blame the text rather than the length.
    let mut bytes = Vec::new();
    let count = reader
        .take(MAX_SERVER_LINE_BYTES as u64)
        .read_until(b'\n', &mut bytes)?;
    if count == MAX_SERVER_LINE_BYTES && !bytes.ends_with(b"\n") {
        let why = format!(
            "the server sent a line longer than {MAX_SERVER_LINE_BYTES} bytes: is it a chat server?"
        );
        return Err(std::io::Error::new(ErrorKind::InvalidData, why));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        let why = "the server sent a line that is not UTF-8 text: is it a chat server?";
        std::io::Error::new(ErrorKind::InvalidData, why)
    })?;
    line.push_str(&text);
    Ok(count)
}

/// What went wrong with one message.
#[derive(Clone, Debug)]
enum Failure {
    /// The reply came, but not as sent.
    Wrong(String),
    /// No reply (or not all of it: the number of bytes that came) within the timeout.
    Late(usize),
    /// The server closed the connection, after these bytes of the reply.
    Closed(Vec<u8>),
    /// A chat message that reached only some of the others within the timeout.
    Undelivered { reached: usize, of: usize },
    /// No connection to send it over.
    Unconnected(String),
    /// The connection failed some other way.
    Broken(String),
}

impl Failure {
    fn from_io(error: std::io::Error, doing: &str) -> Failure {
        use std::io::ErrorKind::{TimedOut, WouldBlock};
        match error.kind() {
            // A read timeout is WouldBlock on Unix and TimedOut on Windows.
            WouldBlock | TimedOut => Failure::Late(0),
            _ => Failure::Broken(format!("{doing}: {error}")),
        }
    }

    fn late_after(self, filled: usize) -> Failure {
        match self {
            Failure::Late(_) => Failure::Late(filled),
            other => other,
        }
    }

    fn describe(&self, timeout: Duration) -> String {
        match self {
            Failure::Wrong(what) => what.clone(),
            Failure::Late(0) => format!("no reply within {timeout:?}"),
            Failure::Late(bytes) => format!("only {bytes} bytes of the reply within {timeout:?}"),
            Failure::Closed(bytes) if bytes.is_empty() => {
                "the server closed the connection before any reply".to_string()
            }
            Failure::Closed(bytes) => format!(
                "the server closed the connection after {} bytes of the reply: \"{}\"{}",
                bytes.len(),
                excerpt_of_all(bytes),
                chat_hint(bytes)
            ),
            Failure::Undelivered { reached, of } => {
                format!("reached {reached} of the {of} others within {timeout:?}")
            }
            Failure::Unconnected(why) => format!("not connected: {why}"),
            Failure::Broken(why) => why.clone(),
        }
    }
}

/// What one client saw.
#[derive(Default)]
struct Tally {
    /// One entry per successful round trip (in chat mode, per message that reached everyone).
    latencies_us: Vec<u32>,
    errors: Errors,
    /// It stopped after GIVE_UP_AFTER failures in a row.
    gave_up: bool,
    /// The first few failures, with where they happened, for the report.
    examples: Vec<(String, Failure)>,
}

impl Tally {
    fn record(&mut self, failure: Failure, place: impl FnOnce() -> String) {
        self.errors.count(&failure);
        if self.examples.len() < 3 {
            self.examples.push((place(), failure));
        }
    }
}

/// Failed messages, by kind.
#[derive(Default, Clone, Copy)]
struct Errors {
    wrong: u64,
    late: u64,
    closed: u64,
    unconnected: u64,
    /// Never sent: the client had given up.
    abandoned: u64,
}

impl Errors {
    fn count(&mut self, failure: &Failure) {
        match failure {
            Failure::Wrong(_) => self.wrong += 1,
            Failure::Late(_) | Failure::Undelivered { .. } => self.late += 1,
            Failure::Closed(_) | Failure::Broken(_) => self.closed += 1,
            Failure::Unconnected(_) => self.unconnected += 1,
        }
    }

    fn add(&mut self, other: Errors) {
        self.wrong += other.wrong;
        self.late += other.late;
        self.closed += other.closed;
        self.unconnected += other.unconnected;
        self.abandoned += other.abandoned;
    }

    fn total(&self) -> u64 {
        self.wrong + self.late + self.closed + self.unconnected + self.abandoned
    }

    fn summary(&self, timeout: Duration) -> String {
        format!(
            "{} messages failed: {} wrong, {} late (no whole reply within {timeout:?}), {} cut off \
             by a closed or broken connection, {} never sent for want of a connection, {} never \
             sent because their client gave up after {GIVE_UP_AFTER} failures in a row",
            self.total(),
            self.wrong,
            self.late,
            self.closed,
            self.unconnected,
            self.abandoned
        )
    }
}

/// Everything the clients saw, put together.
struct Outcome {
    round_trips: u64,
    errors: Errors,
    /// Clients that gave up.
    gave_up: usize,
    elapsed: Duration,
    /// Sorted, for the percentiles.
    latencies_us: Vec<u32>,
    examples: Vec<(String, Failure)>,
}

impl Outcome {
    fn from_tallies(tallies: Vec<Tally>, elapsed: Duration) -> Outcome {
        let mut outcome = Outcome {
            round_trips: 0,
            errors: Errors::default(),
            gave_up: 0,
            elapsed,
            latencies_us: Vec::new(),
            examples: Vec::new(),
        };
        for tally in tallies {
            outcome.round_trips += tally.latencies_us.len() as u64;
            outcome.latencies_us.extend(tally.latencies_us);
            outcome.errors.add(tally.errors);
            outcome.gave_up += usize::from(tally.gave_up);
            outcome.examples.extend(tally.examples);
        }
        outcome.latencies_us.sort_unstable();
        outcome.examples.truncate(3);
        outcome
    }

    fn per_second(&self) -> f64 {
        self.round_trips as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency that `percent` of the round trips did not exceed (nearest rank).
    fn percentile(&self, percent: f64) -> u32 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let rank = (percent / 100.0 * self.latencies_us.len() as f64).ceil() as usize;
        self.latencies_us[rank.clamp(1, self.latencies_us.len()) - 1]
    }

    fn table(
        &self,
        options: &Options,
        address: SocketAddr,
        footprint: Option<&Footprint>,
    ) -> String {
        let (done, per) = match options.mode {
            Mode::Echo => ("round trips", "rt/s"),
            Mode::Chat => ("fan-outs", "fan-outs/s"),
        };
        let mut text = String::new();
        let _ = writeln!(text, "{}", options.describe(address));
        let _ = writeln!(
            text,
            "{:>7}  {done:>11}  {:>6}  {per:>10}  {:>9}  {:>9}  {:>9}  {:>9}",
            "clients", "errors", "p50", "p90", "p99", "max"
        );
        let _ = writeln!(
            text,
            "{:>7}  {:>11}  {:>6}  {:>10.0}  {:>9}  {:>9}  {:>9}  {:>9}",
            options.clients,
            self.round_trips,
            self.errors.total(),
            self.per_second(),
            show_micros(self.percentile(50.0)),
            show_micros(self.percentile(90.0)),
            show_micros(self.percentile(99.0)),
            show_micros(self.percentile(100.0)),
        );
        let _ = writeln!(text, "in {:.2} s", self.elapsed.as_secs_f64());
        if self.gave_up > 0 {
            let _ = writeln!(
                text,
                "{} clients gave up after {GIVE_UP_AFTER} failures in a row",
                self.gave_up
            );
        }
        if let Some(footprint) = footprint {
            let _ = writeln!(text, "{footprint}");
        }
        for (place, failure) in &self.examples {
            let _ = writeln!(
                text,
                "error: {place}: {}",
                failure.describe(options.timeout)
            );
        }
        text
    }

    fn json(&self, options: &Options, footprint: Option<&Footprint>) -> String {
        let mode = match options.mode {
            Mode::Echo => "echo",
            Mode::Chat => "chat",
        };
        let mut json = format!(
            "{{\"mode\":\"{mode}\",\"clients\":{},\"messages\":{},\"size\":{},\"round_trips\":{},\
             \"errors\":{},\
             \"wrong\":{},\"late\":{},\"closed\":{},\"unconnected\":{},\"abandoned\":{},\
             \"gave_up\":{},\"seconds\":{:.3},\
             \"rt_per_s\":{:.1},\"p50_us\":{},\"p90_us\":{},\"p99_us\":{},\"max_us\":{}",
            options.clients,
            // With --duration, there is no number of messages: JSON's `null`.
            options
                .messages
                .map_or("null".to_string(), |messages| messages.to_string()),
            options.size,
            self.round_trips,
            self.errors.total(),
            self.errors.wrong,
            self.errors.late,
            self.errors.closed,
            self.errors.unconnected,
            self.errors.abandoned,
            self.gave_up,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.percentile(50.0),
            self.percentile(90.0),
            self.percentile(99.0),
            self.percentile(100.0),
        );
        if let Some(footprint) = footprint {
            let _ = write!(
                json,
                ",\"server_threads\":{},\"server_rss_kib\":{},\"server_open_files\":{}",
                footprint.peak_threads, footprint.peak_resident_kib, footprint.peak_open_files
            );
        }
        json.push('}');
        json
    }
}

/// Counts shared by every client, for the progress line.
#[derive(Default)]
struct Progress {
    done: AtomicU64,
    errors: AtomicU64,
    finished: AtomicBool,
    began: Mutex<Option<Instant>>,
}

impl Progress {
    fn started(&self, at: Instant) {
        *lock(&self.began) = Some(at);
    }

    /// Prints the counts on stderr once a second: over itself on a terminal, a line each
    /// otherwise (a log file would fill with carriage returns).
    fn report_on_stderr(self: &Arc<Self>, mode: Mode) -> thread::JoinHandle<()> {
        let progress = Arc::clone(self);
        let done_word = match mode {
            Mode::Echo => "round trips",
            Mode::Chat => "fan-outs",
        };
        thread::spawn(move || {
            let terminal = std::io::stderr().is_terminal();
            let mut printed = false;
            let mut next = Instant::now() + PROGRESS_EVERY;
            while !progress.finished.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(50));
                if Instant::now() < next {
                    continue;
                }
                next += PROGRESS_EVERY;
                let line = match *lock(&progress.began) {
                    None => "connecting...".to_string(),
                    Some(began) => format!(
                        "{:>6.1} s: {} {done_word}, {} errors",
                        began.elapsed().as_secs_f64(),
                        progress.done.load(Ordering::Relaxed),
                        progress.errors.load(Ordering::Relaxed)
                    ),
                };
                if terminal {
                    eprint!("\r{line:<60}");
                } else {
                    eprintln!("{line}");
                }
                printed = true;
            }
            if terminal && printed {
                eprintln!();
            }
        })
    }
}

/// A server this program started, and killed when dropped.
struct SpawnedServer {
    child: Child,
    address: SocketAddr,
}

impl SpawnedServer {
    /// Runs `PROGRAM 127.0.0.1:0 ARGS...` and reads its `listening on` line.
    fn start(command: &str) -> anyhow::Result<SpawnedServer> {
        let mut words = command.split_whitespace();
        let program = words.next().context("--spawn needs a program to start")?;
        // A lesson's name (`03_threaded_echo`) means that lesson, built beside this program.
        let beside_us = std::env::current_exe()?.with_file_name(program);
        let path = if !program.contains(['/', '\\']) && beside_us.exists() {
            beside_us
        } else {
            program.into()
        };
        let mut child = Command::new(&path)
            .arg("127.0.0.1:0")
            .args(words)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!(
                    "starting the server {program:?}: give a lesson's name (built with the same \
                     profile as 11_load: cargo build --release --bins) or a path to a program"
                )
            })?;
        let mut stdout = BufReader::new(child.stdout.take().context("the server's output")?);
        let mut first = String::new();
        let _ = stdout.read_line(&mut first);
        let address = first
            .trim()
            .strip_prefix("listening on ")
            .and_then(|address| address.parse().ok());
        let Some(address) = address else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{program:?} should print `listening on ADDRESS` first, but printed {first:?}");
        };
        // The server logs every client: keep reading its output, or it stops once the pipe fills.
        thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(SpawnedServer { child, address })
    }
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The most the server used while the clients ran (Linux: read from /proc).
struct Footprint {
    pid: u32,
    peak_threads: u64,
    peak_resident_kib: u64,
    peak_open_files: u64,
}

impl std::fmt::Display for Footprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "server (pid {}): peak {} threads, {:.1} MiB resident, {} open files",
            self.pid,
            self.peak_threads,
            self.peak_resident_kib as f64 / 1024.0,
            self.peak_open_files
        )
    }
}

/// A thread that samples the server's /proc entries until stopped.
struct FootprintWatch {
    stop: Arc<AtomicBool>,
    watcher: thread::JoinHandle<Footprint>,
}

impl FootprintWatch {
    fn start(pid: u32, progress: Arc<Progress>) -> FootprintWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let watcher = thread::spawn(move || {
            let mut peak = Footprint {
                pid,
                peak_threads: 0,
                peak_resident_kib: 0,
                peak_open_files: 0,
            };
            let mut next = Instant::now();
            let mut seen_the_start = false;
            loop {
                let last = stopped.load(Ordering::Relaxed);
                // When the clients start, all of them are connected: a sample then catches the
                // server at its fullest even in a run shorter than FOOTPRINT_EVERY.
                let starting = !seen_the_start && lock(&progress.began).is_some();
                seen_the_start |= starting;
                if !(last || starting || Instant::now() >= next) {
                    thread::sleep(Duration::from_millis(2));
                    continue;
                }
                next = Instant::now() + FOOTPRINT_EVERY;
                if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                    peak.peak_threads = peak.peak_threads.max(status_field(&status, "Threads:"));
                    // VmHWM is the kernel's own peak of resident memory, so no sample misses it.
                    peak.peak_resident_kib =
                        peak.peak_resident_kib.max(status_field(&status, "VmHWM:"));
                }
                if let Ok(files) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
                    peak.peak_open_files = peak.peak_open_files.max(files.count() as u64);
                }
                if last {
                    return peak;
                }
            }
        });
        FootprintWatch { stop, watcher }
    }

    /// The peaks, or `None` where /proc showed nothing (not Linux, or no such process).
    fn stop(self) -> Option<Footprint> {
        self.stop.store(true, Ordering::Relaxed);
        self.watcher
            .join()
            .ok()
            .filter(|footprint| footprint.peak_threads > 0)
    }
}

/// A number from /proc/PID/status, such as `Threads:  5`; 0 where there is none (not Linux).
fn status_field(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0)
}

fn join_all(clients: Vec<thread::JoinHandle<Tally>>) -> anyhow::Result<Vec<Tally>> {
    clients
        .into_iter()
        .map(|client| {
            client
                .join()
                .map_err(|_| anyhow::anyhow!("a client thread panicked"))
        })
        .collect()
}

fn too_many_threads(number: usize) -> String {
    format!(
        "starting client {number}: the system gave no more threads. Ask for fewer clients, \
         or raise the limit (`ulimit -u`)"
    )
}

/// Locks a mutex; a client that panicked holding it leaves counts still worth reading.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn micros(duration: Duration) -> u32 {
    duration.as_micros().min(u32::MAX as u128) as u32
}

/// A latency the way wrk shows one: `85µs`, `1.25ms`, `2.10s`.
fn show_micros(us: u32) -> String {
    match us {
        0..1_000 => format!("{us}µs"),
        1_000..1_000_000 => format!("{:.2}ms", f64::from(us) / 1e3),
        _ => format!("{:.2}s", f64::from(us) / 1e6),
    }
}

/// At most the first 60 bytes of a reply, printable.
fn excerpt_of_all(bytes: &[u8]) -> String {
    let shown = bytes[..bytes.len().min(60)].escape_ascii().to_string();
    if bytes.len() > 60 {
        shown + "..."
    } else {
        shown
    }
}

/// A word for a reply that is a chat server's welcome: this client was measuring an echo.
fn chat_hint(reply: &[u8]) -> &'static str {
    if reply.starts_with(b"* Welcome") {
        " (a chat server's welcome: measure a chat with --chat)"
    } else {
        ""
    }
}

/// Up to 16 bytes from `at`, with anything unprintable escaped.
fn excerpt(bytes: &[u8], at: usize) -> String {
    let end = bytes.len().min(at + 16);
    bytes[at..end].escape_ascii().to_string()
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Echo,
    Chat,
}

/// The command line, read.
#[derive(Clone, Debug)]
struct Options {
    address: SocketAddr,
    clients: usize,
    /// Messages per client; `None` with `--duration`.
    messages: Option<u64>,
    size: usize,
    duration: Option<Duration>,
    timeout: Duration,
    mode: Mode,
    /// With `--chat`: each client sends all its messages at once.
    burst: bool,
    json: bool,
    spawn: Option<String>,
    pid: Option<u32>,
}

impl Options {
    /// `None` means `--help` was asked for.
    fn parse(arguments: impl IntoIterator<Item = String>) -> anyhow::Result<Option<Options>> {
        let mut options = Options {
            address: PROGRAM.default_address.parse()?,
            clients: 10,
            messages: Some(100),
            size: 64,
            duration: None,
            timeout: Duration::from_secs(5),
            mode: Mode::Echo,
            burst: false,
            json: false,
            spawn: None,
            pid: None,
        };
        let mut positional = Vec::new();
        let mut arguments = arguments.into_iter();
        while let Some(argument) = arguments.next() {
            let mut value = || {
                arguments.next().with_context(|| {
                    format!("{argument} needs a value: see {} --help", PROGRAM.name)
                })
            };
            match argument.as_str() {
                "--clients" | "-c" => options.clients = whole(&argument, &value()?, 1)? as usize,
                "--messages" | "-n" => options.messages = Some(whole(&argument, &value()?, 1)?),
                "--size" | "-d" => {
                    options.size = whole(&argument, &value()?, 1)?.min(1 << 30) as usize
                }
                "--duration" => options.duration = Some(seconds(&argument, &value()?)?),
                "--timeout" => options.timeout = seconds(&argument, &value()?)?,
                "--chat" => options.mode = Mode::Chat,
                "--burst" => options.burst = true,
                "--json" => options.json = true,
                "--spawn" => options.spawn = Some(value()?),
                "--pid" => options.pid = Some(whole(&argument, &value()?, 1)? as u32),
                "--help" | "-h" => return Ok(None),
                other if other.starts_with('-') => {
                    bail!(
                        "{other} is not an option of {}: see {} --help",
                        PROGRAM.name,
                        PROGRAM.name
                    )
                }
                _ => positional.push(argument),
            }
        }
        if options.duration.is_some() {
            options.messages = None;
        }
        if options.burst && (options.mode != Mode::Chat || options.messages.is_none()) {
            bail!("--burst needs --chat, and --messages rather than --duration");
        }
        match PROGRAM.parse(positional)? {
            Parsed::Run(args) => options.address = args.address,
            Parsed::Help => return Ok(None),
        }
        Ok(Some(options))
    }

    /// Whether a client that has sent `sent` messages, starting at `began`, sends another.
    fn wants_another(&self, sent: u64, began: Instant) -> bool {
        match (self.messages, self.duration) {
            (Some(messages), _) => sent < messages,
            (None, Some(duration)) => began.elapsed() < duration,
            (None, None) => false,
        }
    }

    fn messages_or_one(&self) -> u64 {
        self.messages.unwrap_or(1)
    }

    fn describe(&self, address: SocketAddr) -> String {
        let what = match self.mode {
            Mode::Echo => "echo",
            Mode::Chat => "chat",
        };
        let how_many = match (self.messages, self.duration) {
            (Some(messages), _) => format!("{messages} messages"),
            (None, Some(duration)) => format!("messages for {duration:?}"),
            (None, None) => "no messages".into(),
        };
        let pace = if self.burst { ", all at once" } else { "" };
        format!(
            "{what} at {address}: {} clients, each sending {how_many} of {} bytes{pace}",
            self.clients, self.size
        )
    }
}

fn whole(option: &str, text: &str, least: u64) -> anyhow::Result<u64> {
    match text.parse::<u64>() {
        Ok(number) if number >= least => Ok(number),
        _ => bail!("{option} needs a whole number from {least} up, not {text:?}"),
    }
}

fn seconds(option: &str, text: &str) -> anyhow::Result<Duration> {
    match text.parse::<f64>().map(Duration::try_from_secs_f64) {
        Ok(Ok(duration)) if !duration.is_zero() => Ok(duration),
        _ => bail!("{option} needs a number of seconds above 0, such as 0.5 or 10, not {text:?}"),
    }
}

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "11_load",
    role: Role::Client,
    about: "Lesson 11: many clients at once, every reply checked; prints round trips per second \
            and latency percentiles.",
    default_address: "127.0.0.1:65434",
    extra_usage: "[--clients N] [--messages M] [--size BYTES] [--duration SECONDS] \
                  [--timeout SECONDS] [--chat [--burst]] [--spawn 'SERVER [ARGS]'] [--pid PID] [--json]",
    max_extra_args: 0,
    try_it: "Options (redis-benchmark's short names in parentheses; wrk's -d is a duration, not a size):\n  \
             --clients N (-c)      clients connected at once; default 10\n  \
             --messages M (-n)     messages each client sends, one at a time; default 100\n  \
             --size BYTES (-d)     bytes per message, newline included; default 64\n  \
             --duration SECONDS    send for this long instead of M messages\n  \
             --timeout SECONDS     a reply later than this is an error; default 5\n  \
             --chat                a chat server (lesson 04's protocol): time each message's\n                        \
             arrival at every other client\n  \
             --burst               with --chat: each client sends its M messages at once,\n                        \
             in one write, while everyone reads\n  \
             --spawn 'SERVER ARGS' start SERVER on 127.0.0.1:0 and measure it, footprint too;\n                        \
             SERVER is a lesson's name (03_threaded_echo) or a path\n  \
             --pid PID             report this server's peak threads and memory (Linux)\n  \
             --json                one JSON object instead of the table\n\n\
             It exits with an error if any reply was wrong, missing or late. Try:\n  \
             cargo run --release --bin 03_threaded_echo\n  \
             cargo run --release --bin 11_load -- 127.0.0.1:65434 --clients 100 --messages 1000",
};
