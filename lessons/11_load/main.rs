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
//!
//! This file is the measuring of an echo server, the lesson's idea. Beside it: `chat.rs`, the
//! same for a chat server; `report.rs`, what the clients saw put together (errors by kind,
//! percentiles, the table and the JSON, the progress line); `spawn.rs`, starting the server and
//! reading its footprint; `options.rs`, the command line.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;

mod chat;
mod options;
mod report;
mod spawn;

use chat::run_chat;
use options::{Mode, Options, PROGRAM};
use report::{Failure, Outcome, Progress, Tally, chat_hint, excerpt};
use spawn::{FootprintWatch, spawn_server};

/// Each client is a thread (two in chat mode). A small stack lets a thousand of them fit in
/// little memory: a client needs only a few buffers, and those live on the heap.
const CLIENT_STACK_BYTES: usize = 128 * 1024;
/// How often the progress line and the server's footprint are brought up to date.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
const FOOTPRINT_EVERY: Duration = Duration::from_millis(50);
/// A chat line may hold at most 1024 bytes (lesson 04's limit) and a newline.
const CHAT_MAX_SIZE: usize = 1025;
/// The longest line accepted from a chat server, in bytes, not counting its `\n` or `\r\n`. A room's message is
/// a name and at most 1024 bytes; the longest news, the list of who is here, is about 22 KB with
/// a thousand people. A server that sends more without a newline is not talking in lines, and a
/// client that kept reading would hold all of it in memory, a thousand clients at once.
const MAX_SERVER_LINE_BYTES: usize = 64 * 1024;
/// A client gives up after this many failures in a row, and its remaining messages count as
/// errors. Without it, clients a server turns away would reconnect as fast as they can, and a
/// run would measure a storm of refusals (and use up the system's ports) rather than the server.
const GIVE_UP_AFTER: u64 = 3;

fn main() -> course::cli::MainResult {
    let Some(options) = Options::parse(course::cli::arguments()?)? else {
        PROGRAM.print_help_and_exit();
    };
    // A server we start ourselves is killed when `spawned` is dropped, on every way out of main.
    let spawned = match &options.spawn {
        Some(command) => Some(spawn_server(command)?),
        None => None,
    };
    let address = spawned
        .as_ref()
        .map_or(options.address, |server| server.address);
    // A process id given by hand must name a running process, where /proc can say (Linux):
    // otherwise the run would end with no footprint and no word why.
    if let Some(pid) = options.pid {
        if cfg!(target_os = "linux") && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let error = format!("--pid {pid}: no process {pid} is running; give the server's id");
            return Err(anyhow::anyhow!(error).into());
        }
    }
    let pid = spawned.as_ref().map(|server| server.id()).or(options.pid);
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
    if let (Some(pid), None) = (options.pid, &footprint) {
        eprintln!("no footprint for --pid {pid}: only Linux's /proc shows one, while it runs");
    }

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
        .map_err(|error| match Failure::from_io(error, "sending") {
            Failure::Late(_) => Failure::SendStalled,
            other => other,
        })?;
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
    // The first read waits its whole timeout, not what the send left of it: a reply that came
    // whole in that read, but after the deadline, is late all the same.
    if latency > timeout {
        return Err(Failure::Late(0));
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
         or raise the limit (`ulimit -u`; on Linux also `vm.max_map_count`: each thread takes a \
         few memory maps)"
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
