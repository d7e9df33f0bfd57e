//! Lesson 09: the chaos proxy.
//!
//! On loopback, each `write` usually arrives as one `read` at the other end, so a server that
//! treats one read as one message seems to work. A real network promises nothing of the kind:
//! TCP carries a stream of bytes, and may hand them over in any pieces it likes. This proxy sits
//! between a client and a server and forwards every byte both ways, but cuts each write into
//! pieces of 1 to 3 bytes with small pauses between them, so framing bugs show up on your own
//! machine. Options make it merge writes instead, add latency, drop a connection part-way, or
//! stall one direction.
//!
//! The cuts come from a random number generator with a seed. The proxy prints its seed; pass it
//! back with `--seed` to cut the same way again. (Where one read ends still depends on timing, so
//! a rerun is close to the first one, not identical to it.)

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use course::accept::AcceptFailures;
use course::cli::{Parsed, Program, Role, parse_server_address};

fn main() -> course::cli::MainResult {
    let Settings {
        listen,
        upstream,
        chaos,
    } = read_command_line()?;
    let listener =
        TcpListener::bind(listen).map_err(|error| course::explain::bind_error(listen, error))?;
    println!("listening on {}", listener.local_addr()?);
    println!("forwarding to {upstream}: {}", chaos.describe());
    println!(
        "seed {seed}: run again with --seed {seed} to cut the same way",
        seed = chaos.seed
    );

    // ANCHOR: accept_loop
    // Out of file descriptors, say, accept errors last: `failures` pauses before each retry
    // rather than spin the processor, and logs a spell of them, not every try, which would
    // flood the log.
    let mut failures = AcceptFailures::new();
    for (number, connection) in (1_u64..).zip(listener.incoming()) {
        let client = match connection {
            Ok(client) => client,
            Err(error) => {
                failures.pause_after(error);
                continue;
            }
        };
        failures.over();
        let spawned = thread::Builder::new()
            .name(format!("connection {number}"))
            .spawn(move || proxy_connection(client, upstream, chaos, number));
        if let Err(error) = spawned {
            eprintln!("cannot start a thread for connection {number}: {error}");
        }
    }
    Ok(())
    // ANCHOR_END: accept_loop
}

// ANCHOR: proxy_connection
/// Runs on the connection's own thread: connects to the upstream server, then forwards both
/// ways, one direction on a second thread, until both directions have ended.
fn proxy_connection(client: TcpStream, upstream: SocketAddr, chaos: Chaos, number: u64) {
    let peer = match client.peer_addr() {
        Ok(peer) => peer.to_string(),
        Err(_) => format!("connection {number}"),
    };
    let server = match TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) {
        Ok(server) => server,
        Err(error) => {
            // Dropping `client` closes it: to the client, the server seems to hang up at once.
            let error = course::explain::connect_error(upstream, error);
            eprintln!("{peer}: closed, because the proxy {error:#}");
            return;
        }
    };
    println!("{peer} connected; forwarding to {upstream}");
    // Without this, the system would gather our small pieces back into larger packets (Nagle's
    // algorithm), and undo the cutting. The pieces must leave as we wrote them.
    let nodelay = client.set_nodelay(true).and(server.set_nodelay(true));
    let clones = client
        .try_clone()
        .and_then(|c| Ok((c, server.try_clone()?)));
    let (client_reader, server_reader) = match nodelay.and(clones) {
        Ok(clones) => clones,
        Err(error) => {
            eprintln!("{peer}: cannot set up the connection: {error}");
            return;
        }
    };

    // Each direction gets its own dice, from the seed and the connection's number, so a rerun
    // with the same seed cuts the same connection the same way.
    let up = Forwarding {
        direction: Direction::Up,
        chaos,
        dice: Dice::new(chaos.seed, number * 2),
    };
    let down = Forwarding {
        direction: Direction::Down,
        chaos,
        dice: Dice::new(chaos.seed, number * 2 + 1),
    };
    let (up_bytes, down_bytes) = match chaos.stall {
        None => {
            let upwards = thread::spawn(move || up.run(client_reader, server));
            let downwards = down.run(server_reader, client);
            (
                upwards.join().map_or(0, |ended| ended.bytes()),
                downwards.bytes(),
            )
        }
        // A stalled direction gets no thread: nobody reads its bytes, so they pile up in the
        // buffers until the sender's writes wait, as they do behind a peer that stopped
        // reading. When the direction that still flows ends, the whole connection ends.
        Some(Direction::Up) => {
            let downwards = down.run(server_reader, client_reader);
            let _ = server.shutdown(Shutdown::Both);
            (0, downwards.bytes())
        }
        Some(Direction::Down) => {
            let upwards = up.run(client_reader, server_reader);
            let _ = client.shutdown(Shutdown::Both);
            (upwards.bytes(), 0)
        }
    };
    println!("{peer} closed: {up_bytes} bytes up, {down_bytes} bytes down");
}
// ANCHOR_END: proxy_connection

// ANCHOR: forward
/// One direction of one connection: what it reads from one socket, it writes to the other,
/// as the chaos settings say.
struct Forwarding {
    direction: Direction,
    chaos: Chaos,
    dice: Dice,
}

/// How one direction ended, and how many bytes it forwarded before.
enum Ended {
    /// The sender closed its side; the close was passed on.
    Closed(u64),
    /// A socket failed, or `--drop-after` cut the connection; both sockets were shut down.
    Broke(u64),
}

impl Ended {
    fn bytes(&self) -> u64 {
        match self {
            Ended::Closed(bytes) | Ended::Broke(bytes) => *bytes,
        }
    }
}

impl Forwarding {
    /// Forwards from `from` to `to` until `from` closes or something breaks.
    fn run(mut self, mut from: TcpStream, mut to: TcpStream) -> Ended {
        let mut forwarded = 0;
        let mut buffer = vec![0; READ_BYTES];
        loop {
            let count = match self.read(&mut from, &mut buffer) {
                Ok(0) => {
                    // The sender closed its side: pass the half-close on, so that the receiver
                    // sees the end of the stream, while the other direction carries on.
                    let _ = to.shutdown(Shutdown::Write);
                    return Ended::Closed(forwarded);
                }
                Ok(count) => count,
                Err(_) => return self.break_both(&from, &to, forwarded),
            };
            let mut chunk = &buffer[..count];
            let limit = self
                .chaos
                .drop_after
                .filter(|_| self.direction == Direction::Up);
            let dropping = limit.is_some_and(|limit| forwarded + count as u64 >= limit);
            if let Some(limit) = limit.filter(|_| dropping) {
                chunk = &chunk[..(limit - forwarded) as usize];
            }
            if !self.chaos.latency.is_zero() {
                thread::sleep(self.chaos.latency);
            }
            if self.write_in_pieces(&mut to, chunk).is_err() {
                return self.break_both(&from, &to, forwarded);
            }
            forwarded += chunk.len() as u64;
            if dropping {
                println!("dropping the connection after {forwarded} bytes up (--drop-after)");
                return self.break_both(&from, &to, forwarded);
            }
        }
    }

    /// One read; with `--merge`, all that arrives within the merge window, as one.
    fn read(&mut self, from: &mut TcpStream, buffer: &mut [u8]) -> io::Result<usize> {
        let count = read_retrying(from, buffer)?;
        let Some(window) = self.chaos.merge else {
            return Ok(count);
        };
        if count == 0 {
            return Ok(0);
        }
        // Keep reading until nothing more arrives for a whole window: the sender's separate
        // writes then leave here as one.
        from.set_read_timeout(Some(window))?;
        let mut total = count;
        while total < buffer.len() {
            match from.read(&mut buffer[total..]) {
                // The end of the stream: forward what we have now, and see the end next time.
                Ok(0) => break,
                Ok(count) => total += count,
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    break;
                }
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        from.set_read_timeout(None)?;
        Ok(total)
    }

    /// Writes `chunk`, cut into pieces of random size with random pauses between them.
    fn write_in_pieces(&mut self, to: &mut TcpStream, chunk: &[u8]) -> io::Result<()> {
        // Merged writes must leave whole, or the merging would be undone at once.
        if self.chaos.max_piece == 0 || self.chaos.merge.is_some() {
            return to.write_all(chunk);
        }
        let mut rest = chunk;
        while !rest.is_empty() {
            let size = self.dice.roll(1, self.chaos.max_piece as u64) as usize;
            let (piece, after) = rest.split_at(size.min(rest.len()));
            to.write_all(piece)?;
            rest = after;
            let pause = self.dice.roll(0, MAX_PAUSE.as_micros() as u64);
            if !rest.is_empty() && pause > 0 {
                thread::sleep(Duration::from_micros(pause));
            }
        }
        Ok(())
    }

    /// Ends the connection in both directions, as a failed network does.
    fn break_both(&self, from: &TcpStream, to: &TcpStream, forwarded: u64) -> Ended {
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
        Ended::Broke(forwarded)
    }
}

/// `read`, again if a signal interrupted it.
fn read_retrying(from: &mut TcpStream, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        match from.read(buffer) {
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}
// ANCHOR_END: forward

// ANCHOR: dice
/// A small random number generator (xorshift64*). Good enough to cut bytes unpredictably, and
/// tiny: the lesson needs no crate for it. The same seed always rolls the same numbers.
struct Dice(u64);

impl Dice {
    /// Dice for one `stream` of rolls (a direction of a connection) from `seed`. The seed and
    /// stream are mixed (by splitmix64) so that seeds 1 and 2 do not roll nearly alike.
    fn new(seed: u64, stream: u64) -> Dice {
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // xorshift never leaves 0, so 0 must never be the state.
        Dice(z | 1)
    }

    /// A number from `low` to `high`, both included.
    fn roll(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let random = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        low + random % (high - low + 1)
    }
}
// ANCHOR_END: dice

// ANCHOR: settings
/// Which way bytes travel through the proxy.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Direction {
    /// From the client to the server.
    Up,
    /// From the server back to the client.
    Down,
}

/// What the proxy does to the bytes it forwards. Every connection gets a copy.
#[derive(Clone, Copy)]
struct Chaos {
    /// The largest piece a write is cut into, in bytes; 0 forwards each read whole.
    max_piece: usize,
    /// How long each read waits before it is forwarded.
    latency: Duration,
    /// With `Some(window)`, reads are gathered until nothing arrives for `window`, and leave
    /// as one write.
    merge: Option<Duration>,
    /// Cut the connection once this many bytes have gone from the client to the server.
    drop_after: Option<u64>,
    /// A direction in which nothing is forwarded at all.
    stall: Option<Direction>,
    /// Where the dice start.
    seed: u64,
}

/// The largest piece a write is cut into, unless `--pieces` says otherwise.
const MAX_PIECE: usize = 3;
/// The most one read takes, and so the longest write there is to cut.
const READ_BYTES: usize = 64 * 1024;
/// The longest pause between two pieces of one write.
const MAX_PAUSE: Duration = Duration::from_millis(2);

impl Chaos {
    /// One line for the log: what this proxy does to the bytes.
    fn describe(&self) -> String {
        let mut what = Vec::new();
        match (self.merge, self.max_piece) {
            (Some(window), _) => what.push(format!(
                "merging writes that come within {} ms of each other",
                window.as_millis()
            )),
            (None, 0) => what.push("forwarding each read whole".into()),
            (None, max) => what.push(format!(
                "cutting writes into pieces of 1-{max} bytes, up to {} ms apart",
                MAX_PAUSE.as_millis()
            )),
        }
        if !self.latency.is_zero() {
            what.push(format!("{} ms of latency", self.latency.as_millis()));
        }
        if let Some(bytes) = self.drop_after {
            what.push(format!("dropping each connection after {bytes} bytes up"));
        }
        match self.stall {
            Some(Direction::Up) => what.push("forwarding nothing up to the server".into()),
            Some(Direction::Down) => what.push("forwarding nothing down to the client".into()),
            None => {}
        }
        what.join(", ")
    }
}
// ANCHOR_END: settings

/// Everything the command line says.
struct Settings {
    listen: SocketAddr,
    upstream: SocketAddr,
    chaos: Chaos,
}

/// Reads the options (`--seed 7`, anywhere on the line) and the two addresses.
fn read_command_line() -> anyhow::Result<Settings> {
    let mut chaos = Chaos {
        max_piece: MAX_PIECE,
        latency: Duration::ZERO,
        merge: None,
        drop_after: None,
        stall: None,
        seed: clock_seed(),
    };
    let mut addresses = Vec::new();
    let mut given = Vec::new();
    let mut arguments = course::cli::arguments()?.into_iter();
    while let Some(argument) = arguments.next() {
        if !argument.starts_with("--") || argument == "--help" {
            addresses.push(argument);
            continue;
        }
        // A second would silently undo the first.
        if given.contains(&argument) {
            bail!("{argument} was given twice: give it once");
        }
        given.push(argument.clone());
        const OPTIONS: [&str; 6] = [
            "--seed",
            "--pieces",
            "--latency",
            "--merge",
            "--drop-after",
            "--stall",
        ];
        if !OPTIONS.contains(&argument.as_str()) {
            bail!("there is no option {argument}: --help lists the options");
        }
        let value = arguments
            .next()
            .with_context(|| format!("{argument} needs a value: --help shows one"))?;
        let number = || -> anyhow::Result<u64> {
            value
                .parse()
                .with_context(|| format!("{argument} takes a whole number, not {value:?}"))
        };
        let milliseconds = || course::cli::whole_number(&argument, &value, 0..=3_600_000);
        match argument.as_str() {
            "--seed" => chaos.seed = number()?,
            // No piece is longer than one read, so a larger maximum would mean nothing.
            "--pieces" => {
                chaos.max_piece = course::cli::whole_number(&argument, &value, 0..=READ_BYTES)?
            }
            // Times in milliseconds, up to an hour, as every time the course takes: far longer
            // would only be a proxy that never forwards, and a socket timeout some system refuses.
            "--latency" => chaos.latency = Duration::from_millis(milliseconds()? as u64),
            "--merge" => chaos.merge = Some(Duration::from_millis(milliseconds()?.max(1) as u64)),
            // At least 1: the count is looked at as bytes go to the server, so 0 would cut a
            // client only once it sent something, not at once as the option says.
            "--drop-after" => {
                chaos.drop_after = Some(number()?);
                if chaos.drop_after == Some(0) {
                    bail!("--drop-after takes 1 or more bytes, not 0")
                }
            }
            "--stall" => {
                chaos.stall = Some(match value.as_str() {
                    "up" => Direction::Up,
                    "down" => Direction::Down,
                    _ => bail!("--stall takes up or down, not {value:?}"),
                });
            }
            _ => unreachable!("every option in OPTIONS is handled above"),
        }
    }
    // Options that would undo each other.
    let has = |option: &str| given.iter().any(|name| name == option);
    if has("--merge") && has("--pieces") {
        bail!("--merge gathers writes and --pieces cuts them: give one of the two");
    }
    if has("--drop-after") && chaos.stall == Some(Direction::Up) {
        bail!(
            "--drop-after counts the bytes that go up to the server, and --stall up stops them \
             all: give one of the two"
        );
    }
    let args = match PROGRAM.parse(addresses)? {
        Parsed::Run(args) => args,
        Parsed::Help => PROGRAM.print_help_and_exit(),
    };
    let upstream = args.extra.first().map_or(DEFAULT_UPSTREAM, String::as_str);
    Ok(Settings {
        listen: args.address,
        upstream: parse_server_address(upstream).context("the upstream address")?,
        chaos,
    })
}

/// A seed that differs from run to run: the clock's nanoseconds.
fn clock_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |since| since.as_nanos() as u64)
}

/// The server behind the proxy, unless the command line names another: lesson 03's echo.
const DEFAULT_UPSTREAM: &str = "127.0.0.1:65434";

const PROGRAM: Program = Program {
    name: "09_chaos_proxy",
    role: Role::Server,
    about: "Lesson 09: forwards TCP both ways between clients and a server, and cuts, merges, \
            delays or drops what it forwards, so that framing bugs show on your own machine.",
    default_address: "127.0.0.1:65440",
    extra_usage: "[UPSTREAM_ADDRESS] [OPTIONS]",
    max_extra_args: 1,
    try_it: "UPSTREAM_ADDRESS is the server to forward to; the default is 127.0.0.1:65434, \
             lesson 03's echo.\n\n\
             By default each write is cut into pieces of 1-3 bytes, up to 2 ms apart. Options:\n  \
             --seed N         roll the same cuts as the run that printed `seed N`\n  \
             --pieces MAX     cut into pieces of 1-MAX bytes (MAX at most 65536, one read);\n                   \
             0 forwards each read whole\n  \
             --merge MS       instead of cutting (not with --pieces), gather writes that come\n                   \
             within MS ms of each other, and forward them as one\n  \
             --latency MS     wait MS ms before forwarding each read (MS at most an hour)\n  \
             --drop-after N   cut each connection once N bytes have gone to the server\n                   \
             (not with --stall up; each option at most once)\n  \
             --stall up|down  forward nothing towards the server (up) or the client (down)\n\n\
             Try it: start lesson 03, then the proxy, then talk through the proxy:\n  \
             cargo run --bin 03_threaded_echo\n  \
             cargo run --bin 09_chaos_proxy\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65440\n\
             Then put the naive server behind it, and watch it break:\n  \
             cargo run --bin 09_naive_line_server\n  \
             cargo run --bin 09_chaos_proxy -- 127.0.0.1:65440 127.0.0.1:65444\n  \
             nc 127.0.0.1 65440",
};
