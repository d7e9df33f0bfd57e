//! Lesson 11's chat clients: all join, then each message is timed from its send to its arrival
//! at every other client, and checked on the way.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::options::Options;
use crate::report::{Failure, Outcome, Progress, Tally};
use crate::{
    CHAT_MAX_SIZE, CLIENT_STACK_BYTES, MAX_SERVER_LINE_BYTES, connect, join_all, lock, micros,
    too_many_threads,
};

// ANCHOR: chat_client
/// Runs N chat clients: all join, then each sends its messages one at a time (or, with `--burst`,
/// all at once), and each message counts as done when every other client has received it.
pub fn run_chat(
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
    let room = Arc::new(Room::new(options.clients, options.timeout));
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
pub struct Room {
    /// One slot per client: the messages it sent last, and how many have yet to receive each.
    pub slots: Vec<(Mutex<Slot>, Condvar)>,
    /// Everyone has a name: the messages may start.
    pub everyone_joined: Barrier,
    /// Everyone has sent everything: the clients may leave (leaving earlier would make a
    /// message still on its way look lost).
    pub everyone_done: Barrier,
    /// Wrong lines that readers received, to be counted with the senders' errors.
    pub receiving_errors: Mutex<Tally>,
    /// How long after it was sent a message must have reached everyone (`--timeout`).
    pub timeout: Duration,
}

/// A sender's messages on their way: one at a time, or a whole burst.
#[derive(Default)]
pub struct Slot {
    /// The number of the first of them.
    pub first: u64,
    pub sent: Option<Instant>,
    /// For each of them, how many of the others have yet to receive it.
    pub waiting_for: Vec<usize>,
    /// For each of them, when the last of the others received it.
    pub completed: Vec<Option<Duration>>,
    /// How many of them have yet to reach everyone.
    pub unfinished: usize,
}

impl Room {
    pub fn new(clients: usize, timeout: Duration) -> Room {
        Room {
            slots: (0..clients).map(|_| Default::default()).collect(),
            everyone_joined: Barrier::new(clients + 1),
            everyone_done: Barrier::new(clients),
            receiving_errors: Mutex::new(Tally::default()),
            timeout,
        }
    }
}

pub fn chat_client(
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
        // The timeout counts from the moment the message was sent, as in echo mode: a server
        // slow to take a large burst uses up the same time as one slow to pass it on.
        let slot = lock(slot);
        let time_left = options.timeout.saturating_sub(sent.elapsed());
        let (slot, _) = arrived
            .wait_timeout_while(slot, time_left, |slot| slot.unfinished > 0)
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
    // On Linux and macOS this wakes the reader thread with the end of the stream: it stops at
    // once. Windows wakes no blocked read (rust-lang/rust#121594): there the reader stops when
    // the server answers the end with its own, as the course's chats do.
    let _ = stream.shutdown(Shutdown::Both);
    let _ = reader.join();
    tally
}
// ANCHOR_END: chat_client

/// Connects, reads the welcome, gives the name `loadN`, and waits for the room's welcome, all
/// within `timeout`.
pub fn join(
    number: usize,
    address: SocketAddr,
    timeout: Duration,
) -> Result<(TcpStream, BufReader<RoomReader>), Failure> {
    let stream =
        connect(address, timeout).map_err(|error| Failure::Unconnected(format!("{error:#}")))?;
    let mut reader = BufReader::new(RoomReader {
        stream: stream
            .try_clone()
            .map_err(|error| Failure::from_io(error, "cloning"))?,
        deadline: Some(Instant::now() + timeout),
    });
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
    reader.get_mut().deadline = None;
    let _ = stream.set_read_timeout(None);
    Ok((stream, reader))
}

/// A client's connection as its reader reads it. While it joins, each read waits only for what
/// is left before `deadline`, so that a server trickling its welcome a byte at a time cannot
/// hold the run (a timeout for each read would start again with every byte); once it has
/// joined, there is no deadline.
pub struct RoomReader {
    stream: TcpStream,
    deadline: Option<Instant>,
}

impl Read for RoomReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            self.stream.set_read_timeout(Some(left))?;
        }
        self.stream.read(buffer)
    }
}

/// A room message's text: its number, when it was sent (microseconds since the sender started),
/// and filler up to `size` with the newline.
pub fn chat_text(sequence: u64, sent_us: u32, size: usize) -> String {
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
pub fn read_room(mut reader: BufReader<RoomReader>, me: usize, room: &Room, size: usize) {
    let mut next_from = vec![0_u64; room.slots.len()];
    let mut line = String::new();
    loop {
        line.clear();
        match read_line_within_limit(&mut reader, &mut line) {
            Ok(0) => return,
            // The stream ended mid-line: when the run is over, this client's own shutdown cut
            // it; before, the message is counted by its sender as not delivered.
            Ok(_) if !line.ends_with('\n') => return,
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

pub fn check_room_line(
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
    // Only an arrival within the timeout counts: a later one leaves the message an error.
    let in_time = slot.sent.is_some_and(|sent| sent.elapsed() <= room.timeout);
    if let Some(index) = index.filter(|&index| in_time && slot.waiting_for.get(index) > Some(&0)) {
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
pub fn read_line(reader: &mut BufReader<RoomReader>) -> Result<String, Failure> {
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
/// [`MAX_SERVER_LINE_BYTES`] and its line end (`\n` or `\r\n`): `take` stops a line without end
/// there. A longer line, or one that is not UTF-8, is an `InvalidData` error that says which.
pub fn read_line_within_limit(
    reader: &mut impl BufRead,
    line: &mut String,
) -> std::io::Result<usize> {
    // Bytes first: cut at the limit, a line may end mid-character, and `read_line` would then
    // blame the text rather than the length.
    let mut bytes = Vec::new();
    let count = reader
        .take(MAX_SERVER_LINE_BYTES as u64 + 2)
        .read_until(b'\n', &mut bytes)?;
    let ending = if bytes.ends_with(b"\r\n") {
        2
    } else {
        usize::from(bytes.ends_with(b"\n"))
    };
    if count - ending > MAX_SERVER_LINE_BYTES {
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
