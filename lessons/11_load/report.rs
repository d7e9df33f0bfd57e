//! What the clients saw, put together: failures by kind, the latency percentiles, the table and
//! the JSON, the progress line on stderr, and what the server used (its footprint).

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::options::{Mode, Options};
use crate::{GIVE_UP_AFTER, PROGRESS_EVERY, lock};

/// What went wrong with one message.
#[derive(Clone, Debug)]
pub enum Failure {
    /// The reply came, but not as sent.
    Wrong(String),
    /// No reply (or not all of it: the number of bytes that came) within the timeout.
    Late(usize),
    /// The server took no more of the message for the timeout: counted as late.
    SendStalled,
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
    pub fn from_io(error: std::io::Error, doing: &str) -> Failure {
        use std::io::ErrorKind::{TimedOut, WouldBlock};
        match error.kind() {
            // A read timeout is WouldBlock on Unix and TimedOut on Windows.
            WouldBlock | TimedOut => Failure::Late(0),
            _ => Failure::Broken(format!("{doing}: {error}")),
        }
    }

    pub fn late_after(self, filled: usize) -> Failure {
        match self {
            Failure::Late(_) => Failure::Late(filled),
            other => other,
        }
    }

    pub fn describe(&self, timeout: Duration) -> String {
        match self {
            Failure::Wrong(what) => what.clone(),
            Failure::Late(0) => format!("no reply within {timeout:?}"),
            Failure::Late(bytes) => format!("only {bytes} bytes of the reply within {timeout:?}"),
            Failure::SendStalled => format!(
                "the server took no more of the message for {timeout:?}: an echo server stops \
                 reading while its echo waits unread, and this client reads only once it has \
                 sent the whole message, so a message larger than the system's buffers cannot \
                 come back (try a smaller --size)"
            ),
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
pub struct Tally {
    /// One entry per successful round trip (in chat mode, per message that reached everyone).
    pub latencies_us: Vec<u32>,
    pub errors: Errors,
    /// It stopped after GIVE_UP_AFTER failures in a row.
    pub gave_up: bool,
    /// The first few failures, with where they happened, for the report.
    pub examples: Vec<(String, Failure)>,
}

impl Tally {
    pub fn record(&mut self, failure: Failure, place: impl FnOnce() -> String) {
        self.errors.count(&failure);
        if self.examples.len() < 3 {
            self.examples.push((place(), failure));
        }
    }
}

/// Failed messages, by kind.
#[derive(Default, Clone, Copy)]
pub struct Errors {
    pub wrong: u64,
    pub late: u64,
    pub closed: u64,
    pub unconnected: u64,
    /// Never sent: the client had given up.
    pub abandoned: u64,
}

impl Errors {
    pub fn count(&mut self, failure: &Failure) {
        match failure {
            Failure::Wrong(_) => self.wrong += 1,
            Failure::Late(_) | Failure::SendStalled | Failure::Undelivered { .. } => self.late += 1,
            Failure::Closed(_) | Failure::Broken(_) => self.closed += 1,
            Failure::Unconnected(_) => self.unconnected += 1,
        }
    }

    pub fn add(&mut self, other: Errors) {
        self.wrong += other.wrong;
        self.late += other.late;
        self.closed += other.closed;
        self.unconnected += other.unconnected;
        self.abandoned += other.abandoned;
    }

    pub fn total(&self) -> u64 {
        self.wrong + self.late + self.closed + self.unconnected + self.abandoned
    }

    pub fn summary(&self, timeout: Duration) -> String {
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
pub struct Outcome {
    pub round_trips: u64,
    pub errors: Errors,
    /// Clients that gave up.
    pub gave_up: usize,
    pub elapsed: Duration,
    /// Sorted, for the percentiles.
    pub latencies_us: Vec<u32>,
    pub examples: Vec<(String, Failure)>,
}

impl Outcome {
    pub fn from_tallies(tallies: Vec<Tally>, elapsed: Duration) -> Outcome {
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

    pub fn per_second(&self) -> f64 {
        self.round_trips as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency that `percent` of the round trips did not exceed (nearest rank).
    pub fn percentile(&self, percent: f64) -> u32 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let rank = (percent / 100.0 * self.latencies_us.len() as f64).ceil() as usize;
        self.latencies_us[rank.clamp(1, self.latencies_us.len()) - 1]
    }

    pub fn table(
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

    pub fn json(&self, options: &Options, footprint: Option<&Footprint>) -> String {
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
pub struct Progress {
    pub done: AtomicU64,
    pub errors: AtomicU64,
    pub finished: AtomicBool,
    pub began: Mutex<Option<Instant>>,
}

impl Progress {
    pub fn started(&self, at: Instant) {
        *lock(&self.began) = Some(at);
    }

    /// Prints the counts on stderr once a second: over itself on a terminal, a line each
    /// otherwise (a log file would fill with carriage returns).
    pub fn report_on_stderr(self: &Arc<Self>, mode: Mode) -> thread::JoinHandle<()> {
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

/// A latency the way wrk shows one: `85µs`, `1.25ms`, `2.10s`.
pub fn show_micros(us: u32) -> String {
    match us {
        0..1_000 => format!("{us}µs"),
        1_000..1_000_000 => format!("{:.2}ms", f64::from(us) / 1e3),
        _ => format!("{:.2}s", f64::from(us) / 1e6),
    }
}

/// At most the first 60 bytes of a reply, printable.
pub fn excerpt_of_all(bytes: &[u8]) -> String {
    let shown = bytes[..bytes.len().min(60)].escape_ascii().to_string();
    if bytes.len() > 60 {
        shown + "..."
    } else {
        shown
    }
}

/// A word for a reply that is a chat server's welcome: this client was measuring an echo.
pub fn chat_hint(reply: &[u8]) -> &'static str {
    if reply.starts_with(b"* Welcome") {
        " (a chat server's welcome: measure a chat with --chat)"
    } else {
        ""
    }
}

/// Up to 16 bytes from `at`, with anything unprintable escaped.
pub fn excerpt(bytes: &[u8], at: usize) -> String {
    let end = bytes.len().min(at + 16);
    bytes[at..end].escape_ascii().to_string()
}

/// The most the server used while the clients ran (Linux: read from /proc).
pub struct Footprint {
    pub pid: u32,
    pub peak_threads: u64,
    pub peak_resident_kib: u64,
    pub peak_open_files: u64,
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
