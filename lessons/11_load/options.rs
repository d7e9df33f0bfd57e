//! The command line of `11_load`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use course::cli::{MOST_THREADS, Parsed, Program, Role};

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Mode {
    Echo,
    Chat,
}

/// The command line, read.
#[derive(Clone, Debug)]
pub struct Options {
    pub address: SocketAddr,
    pub clients: usize,
    /// Messages per client; `None` with `--duration`.
    pub messages: Option<u64>,
    pub size: usize,
    pub duration: Option<Duration>,
    pub timeout: Duration,
    pub mode: Mode,
    /// With `--chat`: each client sends all its messages at once.
    pub burst: bool,
    pub json: bool,
    pub spawn: Option<String>,
    pub pid: Option<u32>,
}

impl Options {
    /// `None` means `--help` was asked for.
    pub fn parse(arguments: impl IntoIterator<Item = String>) -> anyhow::Result<Option<Options>> {
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
                "--clients" | "-c" => {
                    options.clients =
                        course::cli::whole_number(&argument, &value()?, 1..=MOST_THREADS)?
                }
                "--messages" | "-n" => {
                    let most = MOST_MESSAGES as usize;
                    let messages = course::cli::whole_number(&argument, &value()?, 1..=most)?;
                    options.messages = Some(messages as u64)
                }
                "--size" | "-d" => options.size = size(&argument, &value()?)?,
                "--duration" => {
                    // From a millisecond to about 31 years: any run you would wait for.
                    let duration = course::cli::seconds(&argument, &value()?, 0.001..=1e9)?;
                    options.duration = Some(duration)
                }
                "--timeout" => {
                    options.timeout =
                        course::cli::seconds(&argument, &value()?, course::cli::TIMEOUT_SECONDS)?
                }
                "--chat" => options.mode = Mode::Chat,
                "--burst" => options.burst = true,
                "--json" => options.json = true,
                "--spawn" => options.spawn = Some(value()?),
                "--pid" => {
                    // A process id is 32 bits: a larger number is refused, not wrapped round
                    // to some other process.
                    let pid =
                        course::cli::whole_number(&argument, &value()?, 1..=u32::MAX as usize)?;
                    options.pid = Some(pid as u32)
                }
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
        // A server we start is the one we report on: a --pid beside it would go unread.
        if options.spawn.is_some() && options.pid.is_some() {
            bail!(
                "--pid names a server to report on, and --spawn starts one to report on: give one"
            );
        }
        // A chat client is two threads, one writing and one reading: the same most threads.
        if options.mode == Mode::Chat && options.clients > MOST_THREADS / 2 {
            bail!(
                "a chat client takes two threads: with --chat, --clients must be at most {}",
                MOST_THREADS / 2
            );
        }
        if options.burst && (options.mode != Mode::Chat || options.messages.is_none()) {
            bail!("--burst needs --chat, and --messages rather than --duration");
        }
        // Each client holds its message, and a buffer for the reply, in memory at once.
        if (options.clients as u64).saturating_mul(options.size as u64) > MAX_SIZE as u64 {
            bail!(
                "every client holds its message and a reply of the same size in memory: \
                 --clients times --size must be at most {MAX_SIZE} bytes (a GiB of messages, and \
                 as much again for the replies)"
            );
        }
        if options.burst
            && options
                .messages
                .unwrap_or(1)
                .saturating_mul(options.size as u64)
                > MAX_SIZE as u64
        {
            bail!(
                "--burst builds each client's messages in memory, in one piece: --messages \
                 times --size must be at most {MAX_SIZE} bytes (a GiB)"
            );
        }
        match PROGRAM.parse(positional)? {
            Parsed::Run(args) => options.address = args.address,
            Parsed::Help => return Ok(None),
        }
        Ok(Some(options))
    }

    /// Whether a client that has sent `sent` messages, starting at `began`, sends another.
    pub fn wants_another(&self, sent: u64, began: Instant) -> bool {
        match (self.messages, self.duration) {
            (Some(messages), _) => sent < messages,
            (None, Some(duration)) => sent < MOST_MESSAGES && began.elapsed() < duration,
            (None, None) => false,
        }
    }

    pub fn messages_or_one(&self) -> u64 {
        self.messages.unwrap_or(1)
    }

    pub fn describe(&self, address: SocketAddr) -> String {
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

/// The most messages one client sends, with `--messages` or in a `--duration`: a message's
/// number has nine digits, and a tenth would be cut off at the smallest size, where message
/// 1,000,000,000 and 1,000,000,001 would both read `100000000`, and a stale reply could pass.
pub const MOST_MESSAGES: u64 = 999_999_999;

/// The smallest message that still names its client and itself: `000001 000000001` and the
/// newline. A smaller one would be cut before its own number, and a stale reply, the answer to an
/// earlier message, would pass for the right one.
pub const MIN_SIZE: usize = 17;

/// The largest message: 1 GiB (each client builds its message in memory).
pub const MAX_SIZE: usize = 1 << 30;

/// `--size`: from [`MIN_SIZE`] to [`MAX_SIZE`].
fn size(option: &str, text: &str) -> anyhow::Result<usize> {
    // The error also says why the least size is what it is.
    course::cli::whole_number(option, text, MIN_SIZE..=MAX_SIZE).map_err(|_| {
        anyhow!(
            "{option} needs a whole number of bytes from {MIN_SIZE} to {MAX_SIZE} (a GiB), not \
             {text:?}: each message carries its client's number and its own \
             (`000001 000000001` and a newline), so that a reply to another message cannot \
             pass for it"
        )
    })
}

/// The command line: what `--help` says, and the address used when none is given.
pub const PROGRAM: Program = Program {
    name: "11_load",
    role: Role::Client,
    about: "Lesson 11: many clients at once, every reply checked; prints round trips per second \
            and latency percentiles.",
    default_address: "127.0.0.1:65434",
    extra_usage: "[--clients N] [--messages M] [--size BYTES] [--duration SECONDS] \
                  [--timeout SECONDS] [--chat [--burst]] [--spawn 'SERVER [ARGS]'] [--pid PID] [--json]",
    max_extra_args: 0,
    try_it: "Options (redis-benchmark's short names in parentheses; wrk's -d is a duration, not a size):\n  \
             --clients N (-c)      clients connected at once, a thread each (two with --chat);\n                        default 10, at most 10000 (5000 with --chat)\n  \
             --messages M (-n)     messages each client sends, one at a time; default 100\n                        (at most 999999999, with --duration too)\n  \
             --size BYTES (-d)     bytes per message, newline included; default 64, 17 to a GiB\n                        (a GiB for all the clients' messages together,\n                        and as much again for their replies)\n  \
             --duration SECONDS    send for this long instead of M messages\n  \
             --timeout SECONDS     a reply later than this is an error; default 5, at most 3600\n  \
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
