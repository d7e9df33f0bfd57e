//! One scripted client's connection, and the careful reading every step relies on: each wait
//! has a deadline, and what arrives is kept whole so a verdict can show it.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::step::PATIENCE;

/// After a reply has gone wrong, how long the check keeps reading for the rest of it, so the
/// learner sees the whole wrong reply rather than its first bytes.
const REST_OF_A_WRONG_REPLY: Duration = Duration::from_millis(200);
/// The most of a wrong reply the check reads.
const MOST_OF_A_WRONG_REPLY: usize = 128 * 1024;

/// One scripted client.
pub(super) struct Client {
    pub(super) stream: TcpStream,
    /// The client's own address, which the server sees as its peer address.
    pub(super) address: SocketAddr,
    /// Bytes that arrived but belong to no step yet: read past the end of an expected reply, or
    /// while the client waited between pieces.
    pub(super) early: Vec<u8>,
    /// When the client last connected or sent something: how long it has been quiet.
    pub(super) last_spoke: Instant,
}

/// Why reading stopped before the expected bytes had arrived.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum End {
    Timeout,
    Closed,
    Failed(String),
}

impl End {
    pub(super) fn after_nothing(&self) -> String {
        match self {
            End::Timeout => format!("within {} s", PATIENCE.as_secs()),
            End::Closed => "before the connection closes".to_string(),
            End::Failed(how) => format!("before {how}"),
        }
    }

    pub(super) fn after_something(&self) -> String {
        match self {
            End::Timeout => format!("nothing more within {} s", PATIENCE.as_secs()),
            End::Closed => "the connection closes".to_string(),
            End::Failed(how) => how.clone(),
        }
    }
}

impl Client {
    /// Closes the connection with a reset instead of a goodbye: a zero linger makes closing the
    /// socket send RST, so the server's next read or write of it fails (ConnectionReset, or a
    /// broken pipe), where a goodbye would read as the end of the stream.
    pub(super) fn reset(self) {
        let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
    }

    /// Connects to `server`, with [`PATIENCE`] as the limit on connecting, and on every read and
    /// write after.
    pub(super) fn connect(server: SocketAddr) -> std::io::Result<Client> {
        let stream = TcpStream::connect_timeout(&server, PATIENCE)?;
        let address = stream.local_addr()?;
        // A check that cannot set a timeout cannot promise to finish: that is a bug here.
        stream
            .set_read_timeout(Some(PATIENCE))
            .expect("set a read timeout");
        stream
            .set_write_timeout(Some(PATIENCE))
            .expect("set a write timeout");
        Ok(Client::new(stream, address))
    }

    pub(super) fn new(stream: TcpStream, address: SocketAddr) -> Client {
        Client {
            stream,
            address,
            early: Vec::new(),
            last_spoke: Instant::now(),
        }
    }

    /// Waits up to `pause` for bytes from the server, and keeps whatever comes.
    pub(super) fn wait_for_an_answer(&mut self, pause: Duration) {
        let _ = self.stream.set_read_timeout(Some(pause));
        let mut buffer = [0; 4096];
        if let Ok(count) = self.stream.read(&mut buffer) {
            self.early.extend_from_slice(&buffer[..count]);
        }
        let _ = self.stream.set_read_timeout(Some(PATIENCE));
    }

    /// Reads until `expected` has arrived, the bytes stop matching it, the connection ends, or
    /// [`PATIENCE`] runs out. Returns what arrived (all of a wrong reply, not just as much as was
    /// expected), and how the reading ended if it was not with a match or a mismatch.
    pub(super) fn read_expecting(&mut self, expected: &[u8]) -> (Vec<u8>, Option<End>) {
        let deadline = Instant::now() + PATIENCE;
        let mut received = std::mem::take(&mut self.early);
        let result = loop {
            if received.starts_with(expected) {
                // Whatever came after the expected bytes is the next step's business.
                self.early = received.split_off(expected.len());
                break (received, None);
            }
            if !expected.starts_with(&received) {
                self.read_rest_of_wrong_reply(&mut received);
                break (received, None);
            }
            match self.read_some(deadline) {
                Ok(bytes) => received.extend_from_slice(&bytes),
                Err(end) => break (received, Some(end)),
            }
        };
        let _ = self.stream.set_read_timeout(Some(PATIENCE));
        result
    }

    /// Once a reply has gone wrong, reads on for as long as bytes keep coming (until a short
    /// quiet, the end, or [`PATIENCE`] in all), so the verdict shows the whole wrong reply.
    fn read_rest_of_wrong_reply(&mut self, received: &mut Vec<u8>) {
        let deadline = Instant::now() + PATIENCE;
        while received.len() < MOST_OF_A_WRONG_REPLY && Instant::now() < deadline {
            let quiet_until = (Instant::now() + REST_OF_A_WRONG_REPLY).min(deadline);
            match self.read_some(quiet_until) {
                Ok(bytes) => received.extend_from_slice(&bytes),
                Err(_) => break,
            }
        }
    }

    /// The client's next line, without its newline, or why none came within [`PATIENCE`].
    pub(super) fn read_line(&mut self) -> Result<String, String> {
        let deadline = Instant::now() + PATIENCE;
        let line = loop {
            if let Some(end) = self.early.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = self.early.drain(..=end).collect();
                break Ok(String::from_utf8_lossy(&line[..end]).into_owned());
            }
            match self.read_some(deadline) {
                Ok(bytes) => self.early.extend_from_slice(&bytes),
                Err(End::Timeout) => {
                    break Err(format!("nothing more within {} s", PATIENCE.as_secs()));
                }
                Err(End::Closed) => break Err("the connection closes".to_string()),
                Err(End::Failed(how)) => break Err(how),
            }
        };
        let _ = self.stream.set_read_timeout(Some(PATIENCE));
        line
    }

    /// Whatever is waiting for the client within `wait`, without blocking longer; empty if
    /// nothing. Used to see where a missing reply went instead.
    pub(super) fn pending(&mut self, wait: Duration) -> Vec<u8> {
        let mut pending = std::mem::take(&mut self.early);
        if let Ok(bytes) = self.read_some(Instant::now() + wait) {
            pending.extend_from_slice(&bytes);
        }
        let _ = self.stream.set_read_timeout(Some(PATIENCE));
        pending
    }

    /// Whether `needle` arrives within `wait`, reading everything that comes meanwhile and
    /// keeping it for later steps: a look that takes nothing.
    pub(super) fn sees_within(&mut self, needle: &[u8], wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let found = loop {
            if contains(&self.early, needle) {
                break true;
            }
            match self.read_some(deadline) {
                Ok(bytes) => self.early.extend_from_slice(&bytes),
                Err(_) => break false,
            }
        };
        let _ = self.stream.set_read_timeout(Some(PATIENCE));
        found
    }

    /// Reads until `limit` bytes have arrived, the connection ends, or `within` runs out: what
    /// arrived, and why the reading stopped (a [`End::Timeout`] also when `limit` was reached).
    pub(super) fn read_at_most(&mut self, limit: usize, within: Duration) -> (Vec<u8>, End) {
        let deadline = Instant::now() + within;
        let mut received = std::mem::take(&mut self.early);
        if received.len() > limit {
            self.early = received.split_off(limit);
        }
        let end = loop {
            if received.len() >= limit {
                break End::Timeout;
            }
            match self.read_some(deadline) {
                Ok(mut bytes) => {
                    let room = limit - received.len();
                    if bytes.len() > room {
                        self.early = bytes.split_off(room);
                    }
                    received.extend_from_slice(&bytes);
                }
                Err(end) => break end,
            }
        };
        let _ = self.stream.set_read_timeout(Some(PATIENCE));
        (received, end)
    }

    /// One read, with the time left until `deadline` as its limit. A signal that interrupts the
    /// wait is waited out; a wait that runs out is [`End::Timeout`], never a close.
    pub(super) fn read_some(&mut self, deadline: Instant) -> Result<Vec<u8>, End> {
        let mut buffer = [0; 16 * 1024];
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(End::Timeout);
            }
            let _ = self.stream.set_read_timeout(Some(remaining));
            return match self.stream.read(&mut buffer) {
                Ok(0) => Err(End::Closed),
                Ok(count) => Ok(buffer[..count].to_vec()),
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) if is_timeout(&error) => Err(End::Timeout),
                Err(error) => Err(End::Failed(describe_error(&error))),
            };
        }
    }
}

pub(super) fn is_timeout(error: &std::io::Error) -> bool {
    // Unix reports an expired read timeout as WouldBlock, Windows as TimedOut.
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// An I/O error in words that do not change from run to run or system to system.
pub(super) fn describe_error(error: &std::io::Error) -> String {
    match error.kind() {
        ErrorKind::ConnectionRefused => "the connection is refused".to_string(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            "the connection is reset".to_string()
        }
        ErrorKind::BrokenPipe => "the connection is already closed".to_string(),
        _ if is_timeout(error) => format!("nothing happens within {} s", PATIENCE.as_secs()),
        other => format!("error: {other}"),
    }
}

/// Bytes as a quoted string, with newlines and anything unprintable escaped: `"hi\n"`.
pub(crate) fn show(bytes: &[u8]) -> String {
    let mut shown = String::from("\"");
    for &byte in bytes {
        match byte {
            b'\n' => shown.push_str("\\n"),
            b'\r' => shown.push_str("\\r"),
            b'\t' => shown.push_str("\\t"),
            b'\0' => shown.push_str("\\0"),
            b'\\' => shown.push_str("\\\\"),
            b'"' => shown.push_str("\\\""),
            b' '..=b'~' => shown.push(byte as char),
            _ => shown.push_str(&format!("\\x{byte:02x}")),
        }
    }
    shown.push('"');
    shown
}

/// Like [`show`], but a long text shows only its start and its length: `"xxxx..." (65536 bytes)`.
pub(crate) fn show_short(bytes: &[u8]) -> String {
    const SHOWN: usize = 100;
    if bytes.len() <= SHOWN {
        return show(bytes);
    }
    let start = show(&bytes[..24]);
    // Only the closing quote goes: an escaped quote just before it stays whole.
    let start = start.strip_suffix('"').unwrap_or(&start);
    format!("{start}...\" ({} bytes)", bytes.len())
}

/// Whether `haystack` holds `needle` somewhere.
pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}
