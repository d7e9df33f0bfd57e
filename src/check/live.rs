//! The scripted clients of the checks that need their own control flow (exercises 07 and 08):
//! named by letters, each wait with a limit, and everything they see written down in a
//! [`Transcript`], as the [`Script`](super::Script) clients do.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::Transcript;
use super::peer::{Client, End, describe_error, show};

/// After a wrong reply, how long the check reads on for the rest of it.
const REST_OF_A_REPLY: Duration = Duration::from_millis(200);

/// How long a scripted client waits for what it expects. These servers answer in microseconds;
/// the wait is short so that each known-wrong answer fails fast, and the proofs stay quick.
pub(super) const PATIENCE: Duration = Duration::from_secs(1);

/// How reading up to the end of a connection ended: the one scripted client's [`End`].
pub(super) use super::peer::End as Ending;

/// The scripted clients of one run, named by letters, and what they saw.
pub(super) struct Clients {
    server: SocketAddr,
    clients: BTreeMap<char, Client>,
    pub(super) transcript: Transcript,
    /// Whether the last wrong arrival brought words that are not the start of what was expected:
    /// a mistake of the server's own, not a server cut short (see [`Clients::remember_arrival`]).
    pub(super) wrong_words: bool,
}

impl Clients {
    pub(super) fn new(server: SocketAddr) -> Clients {
        Clients {
            server,
            clients: BTreeMap::new(),
            transcript: Transcript::default(),
            wrong_words: false,
        }
    }

    pub(super) fn note(&mut self, line: impl Into<String>) {
        self.transcript.push(line);
    }

    fn client(&mut self, name: char) -> &mut Client {
        self.clients
            .get_mut(&name)
            .unwrap_or_else(|| panic!("check bug: client {name} is not connected"))
    }

    pub(super) fn connect(&mut self, name: char) -> Result<(), String> {
        let client = Client::connect(self.server).map_err(|error| {
            self.note(format!("{name} cannot connect: {}", describe_error(&error)));
            format!(
                "Client {name} could not connect ({}): is your server still accepting \
                 connections?",
                describe_error(&error)
            )
        })?;
        self.clients.insert(name, client);
        self.note(format!("{name} connects"));
        Ok(())
    }

    pub(super) fn send(&mut self, name: char, text: &str) -> Result<(), String> {
        match self.client(name).stream.write_all(text.as_bytes()) {
            Ok(()) => {
                self.note(format!("{name} sends {}", show(text.as_bytes())));
                Ok(())
            }
            Err(error) => {
                let how = describe_error(&error);
                self.note(format!(
                    "{name} cannot send {}: {how}",
                    show(text.as_bytes())
                ));
                Err(format!(
                    "Client {name} could not send {}: {how}.",
                    show(text.as_bytes())
                ))
            }
        }
    }

    /// Client `name` must receive exactly `expected` within [`PATIENCE`]. The error's first
    /// sentence says what arrived instead; `if_wrong` follows it.
    pub(super) fn receive(
        &mut self,
        name: char,
        expected: &str,
        if_wrong: &str,
    ) -> Result<(), String> {
        let (mut received, mut ending) = self.client(name).read_at_most(expected.len(), PATIENCE);
        if received == expected.as_bytes() {
            self.note(format!("{name} receives {}", show(&received)));
            return Ok(());
        }
        if received.len() == expected.len() {
            // Wrong, and read no further than the expected length: read the rest of it (up to
            // a short quiet), so the verdict shows the whole reply, not its first bytes.
            let (rest, rest_ending) = self.client(name).read_at_most(64 * 1024, REST_OF_A_REPLY);
            received.extend_from_slice(&rest);
            ending = rest_ending;
        }
        self.remember_arrival(&received, expected.as_bytes());
        let what = match ending {
            // After words of the server's own, whether its close came as a goodbye or as a reset
            // (our bytes still unread when it closed) is a matter of timing: say only that the
            // connection ended, so the verdict is the same every run.
            Ending::Closed | Ending::Failed(_) if self.wrong_words => {
                format!("receives {}, then the connection ends", show(&received))
            }
            _ => describe_arrival(&received, &ending),
        };
        self.note(format!("{name} {what}"));
        Err(format!(
            "Client {name} {what} where {} was expected: {if_wrong}",
            show(expected.as_bytes())
        ))
    }

    /// Notes a wrong arrival: words other than the start of `expected` are the server's own
    /// mistake; nothing, or the start of what was due, may be a server that ended too soon.
    pub(super) fn remember_arrival(&mut self, received: &[u8], expected: &[u8]) {
        self.wrong_words = !received.is_empty() && !expected.starts_with(received);
    }

    /// Client `name` must receive nothing for `quiet`. Returns what arrived if something did,
    /// and how the connection stands: some bytes (the connection still open, as far as the
    /// client knows: [`Ending::Timeout`]), or the end of the connection, or its failure.
    pub(super) fn hears_nothing_for(
        &mut self,
        name: char,
        quiet: Duration,
    ) -> Option<(Vec<u8>, Ending)> {
        let client = self.client(name);
        let heard = match client.read_some(Instant::now() + quiet) {
            Ok(bytes) => Some((bytes, Ending::Timeout)),
            Err(End::Timeout) => None,
            Err(ending) => Some((Vec::new(), ending)),
        };
        let _ = client.stream.set_read_timeout(Some(PATIENCE));
        heard
    }

    /// Takes client `name` out of the crowd, for a thread of its own to read (see
    /// [`Client::read_at_most`]).
    pub(super) fn take(&mut self, name: char) -> Client {
        self.clients
            .remove(&name)
            .unwrap_or_else(|| panic!("check bug: client {name} is not connected"))
    }

    /// Reads everything client `name` receives until the server closes the connection, or
    /// `within` runs out.
    pub(super) fn read_to_close(&mut self, name: char, within: Duration) -> (Vec<u8>, Ending) {
        self.client(name).read_at_most(usize::MAX, within)
    }

    /// Client `name` closes its sending side (a half-close): the server reads the end of the
    /// stream, and can still send.
    pub(super) fn half_close(&mut self, name: char) {
        let _ = self.client(name).stream.shutdown(std::net::Shutdown::Write);
        self.note(format!("{name} closes its sending side (a half-close)"));
    }

    /// Client `name`, whose connection the server has closed, sends `text` anyway, as a client
    /// that has not noticed yet would, and watches for `within` whether the server's system
    /// answers with a reset. One that closed its socket outright does (nobody will ever read the
    /// bytes); one that closed gently (`shutdown`, then reading until the client leaves, as
    /// `course::close::gently` does) takes them in silence. (The error's kind differs from one
    /// system and moment to the next, reset or broken pipe: any error is the reset's.)
    pub(super) fn is_reset_after_sending(
        &mut self,
        name: char,
        text: &str,
        within: Duration,
    ) -> bool {
        let client = self.client(name);
        if client.stream.write_all(text.as_bytes()).is_err() {
            return true;
        }
        // The reset comes back at once over loopback: watch the socket's error until then.
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            match client.stream.take_error() {
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Ok(Some(_)) | Err(_) => return true,
            }
        }
        // Some systems report a reset only to the next call: one more write tells.
        client.stream.write_all(b"\n").is_err()
    }

    pub(super) fn close(&mut self, name: char) {
        self.clients.remove(&name);
        self.note(format!("{name} closes the connection"));
    }

    /// Closes every client's connection, without a word in the transcript: for a check that is
    /// done with them and wants their sockets back.
    pub(super) fn leave_quietly(&mut self) {
        self.clients.clear();
    }

    /// Client `name` resets its connection (see [`Client::reset`]).
    pub(super) fn reset(&mut self, name: char) {
        if let Some(client) = self.clients.remove(&name) {
            client.reset();
        }
        self.note(format!("{name} resets the connection"));
    }
}

/// `received "..." then the connection closes`, and the like, for a transcript and a verdict.
pub(super) fn describe_arrival(received: &[u8], ending: &Ending) -> String {
    let within = format!("within {} s", PATIENCE.as_secs());
    match (received.is_empty(), ending) {
        (true, Ending::Timeout) => format!("receives nothing {within}"),
        (true, Ending::Closed) => "receives nothing: the connection closes".to_string(),
        (true, Ending::Failed(how)) => format!("receives nothing: {how}"),
        (false, Ending::Timeout) => format!("receives {}", show(received)),
        (false, Ending::Closed) => {
            format!("receives {}, then the connection closes", show(received))
        }
        (false, Ending::Failed(how)) => format!("receives {}, then {how}", show(received)),
    }
}
