//! Playing a check's script against a learner's server, and writing down what happened.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use super::crowd::{Crossfire, Flood};
use super::{Exercise, Failure, Serve, Transcript, panics};

/// How long a scripted client waits for anything. A correct server answers in milliseconds; a
/// wrong one makes the check fail after this long, never hang.
pub const PATIENCE: Duration = Duration::from_secs(2);

/// How long [`Step::SendInPieces`] waits between pieces for an answer. A server that answers as
/// soon as it reads (an echo) ends the wait at once; one that waits for the end of the line
/// costs this much per piece.
pub const PIECE_PAUSE: Duration = Duration::from_millis(300);

/// A check: who it is for, and what its clients do.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    pub exercise: Exercise,
    pub steps: &'static [Step],
}

/// One thing a scripted client does, or expects. Clients are named by letters: `'A'`, `'B'`...
///
/// In the text a client expects, `<A's address>` stands for client A's own address as the server
/// sees it (the same for B, C...), and `<server's address>` for the server's: the transcript shows
/// these names instead of numbers, so it reads the same on every run.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// The client opens a connection to the server.
    Connect(char),
    /// The client sends this text in one write.
    Send(char, &'static str),
    /// The client sends these pieces of one text, one write each. After each piece but the last
    /// it waits briefly (at most [`PIECE_PAUSE`]) for the server to answer, so the server surely
    /// reads the pieces apart. Whatever arrives meanwhile is kept for the next `Receive`.
    SendInPieces(char, &'static [&'static str]),
    /// The client must receive exactly this text within [`PATIENCE`].
    Receive {
        client: char,
        text: &'static str,
        /// What it likely means when the text does not come: shown to the learner.
        if_wrong: &'static str,
        /// Pairs of (something the wrong reply contains, what that likely means), tried in
        /// order before `if_wrong`.
        clues: &'static [(&'static str, &'static str)],
    },
    /// The server must close the client's connection (the client reads the end of the stream).
    ReceiveClose {
        client: char,
        if_wrong: &'static str,
    },
    /// The client shuts down its sending side: the server reads the end of the stream, but can
    /// still send.
    HalfClose(char),
    /// The client closes its connection.
    Close(char),
    /// Several clients send many chat lines at the same moment: see [`Crossfire`].
    Crossfire(&'static Crossfire),
    /// One client floods the room while another reads nothing: see [`Flood`].
    Flood(&'static Flood),
    /// The client sends this text, waits for the reply to start arriving, then disappears without
    /// reading it. Closing a socket that holds unread data makes the system reset the
    /// connection: the server sees an error, as when a client's machine loses its network.
    Vanish {
        client: char,
        text: &'static str,
        if_wrong: &'static str,
    },
}

/// How the learner's `serve` function ended, if it did.
enum ServerEnd {
    Returned(anyhow::Result<()>),
    Panicked,
}

/// One scripted client.
pub(super) struct Client {
    pub(super) stream: TcpStream,
    /// The client's own address, which the server sees as its peer address.
    address: SocketAddr,
    /// Bytes that arrived while the client was not yet expecting anything.
    pub(super) early: Vec<u8>,
}

impl Client {
    /// Waits up to `pause` for bytes from the server, and keeps whatever comes.
    fn wait_for_an_answer(&mut self, pause: Duration) {
        let _ = self.stream.set_read_timeout(Some(pause));
        let mut buffer = [0; 4096];
        if let Ok(count) = self.stream.read(&mut buffer) {
            self.early.extend_from_slice(&buffer[..count]);
        }
        let _ = self.stream.set_read_timeout(Some(PATIENCE));
    }
}

/// The state of one run of a script.
pub(super) struct Run {
    server: SocketAddr,
    pub(super) clients: BTreeMap<char, Client>,
    transcript: Transcript,
}

/// What went wrong at a step: the likely mistake, in words.
pub(super) struct Surprise(pub(super) String);

impl Script {
    /// Runs the learner's `serve` against this script: the transcript if all went as expected,
    /// otherwise the failure with its explanation.
    pub fn run(&self, serve: impl Serve) -> Result<Transcript, Failure> {
        let _guard = panics::one_check_at_a_time();
        let listener = TcpListener::bind("127.0.0.1:0")
            .expect("the check needs a free loopback port: is the network stack usable?");
        let server = listener
            .local_addr()
            .expect("a bound listener has an address");
        let server_end = start_server(serve, listener);
        self.play(server, Some(server_end))
    }

    /// Runs this script against a server that is already running at `server`, such as a lesson's
    /// binary started by a test.
    pub fn run_against(&self, server: SocketAddr) -> Result<Transcript, Failure> {
        self.play(server, None)
    }

    fn play(
        &self,
        server: SocketAddr,
        server_end: Option<Receiver<ServerEnd>>,
    ) -> Result<Transcript, Failure> {
        let mut run = Run {
            server,
            clients: BTreeMap::new(),
            transcript: Transcript::default(),
        };
        let mut surprise = None;
        for step in self.steps {
            if let Err(found) = run.perform(*step) {
                surprise = Some(found);
                break;
            }
        }
        let recorded_panics = panics::recorded_for(self.exercise.id);
        let (surprise, server_end) = match surprise {
            Some(surprise) => {
                run.transcript.push("(the check stops here)");
                // The server may have ended just now; give it a moment to say how.
                let end =
                    server_end.and_then(|end| end.recv_timeout(Duration::from_millis(300)).ok());
                (surprise, end)
            }
            None => {
                let server_end = server_end.and_then(|end| end.try_recv().ok());
                if server_end.is_none() && recorded_panics.is_empty() {
                    return Ok(run.transcript);
                }
                let what = "Every client got what it expected, but the server did not stay \
                            healthy while serving them.";
                (Surprise(what.to_string()), server_end)
            }
        };
        Err(Failure {
            exercise: self.exercise,
            reason: explain(surprise, server_end, &recorded_panics),
            transcript: run.transcript,
        })
    }
}

/// Starts `serve` on its own thread; the receiver hears how it ended, if it ever does.
fn start_server(serve: impl Serve, listener: TcpListener) -> Receiver<ServerEnd> {
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new()
        .name("exercise server".to_string())
        .spawn(move || {
            let end = match panic::catch_unwind(AssertUnwindSafe(|| serve(listener))) {
                Ok(result) => ServerEnd::Returned(result),
                Err(_) => ServerEnd::Panicked,
            };
            let _ = sender.send(end);
        })
        .expect("start the exercise's server thread");
    receiver
}

/// Puts what happened into words, most telling fact first.
fn explain(surprise: Surprise, server_end: Option<ServerEnd>, panics: &[String]) -> String {
    if let Some(todo) = panics.iter().find(|p| p.starts_with("not yet implemented")) {
        return format!(
            "Exercise not finished: your server reached a `todo!()`: {todo}.\n\
             Replace each `todo!()` with your code; the `// TODO:` comments say what goes there."
        );
    }
    let mut reason = surprise.0;
    if let Some(first) = panics.first() {
        reason.push_str(&format!(
            "\nA thread of your server panicked: {first}.\nA server must not panic on \
             anything a client does: handle the error (log it with eprintln!) and carry on."
        ));
    }
    match server_end {
        Some(ServerEnd::Returned(Err(error))) => reason.push_str(&format!(
            "\nYour serve() returned an error, so it stopped accepting clients: {error:#}.\n\
             One client's error should end only that client's connection: log it and carry on."
        )),
        Some(ServerEnd::Returned(Ok(()))) => reason.push_str(
            "\nYour serve() returned Ok(()), so it stopped accepting clients. \
             A server's accept loop should keep running until the program is stopped.",
        ),
        Some(ServerEnd::Panicked) if panics.is_empty() => {
            reason.push_str("\nYour serve() panicked.")
        }
        _ => {}
    }
    reason
}

impl Run {
    fn perform(&mut self, step: Step) -> Result<(), Surprise> {
        match step {
            Step::Connect(name) => self.connect(name),
            Step::Send(name, text) => self.send(name, text),
            Step::SendInPieces(name, pieces) => self.send_in_pieces(name, pieces),
            Step::Receive {
                client,
                text,
                if_wrong,
                clues,
            } => self.receive(client, text, if_wrong, clues),
            Step::ReceiveClose { client, if_wrong } => self.receive_close(client, if_wrong),
            Step::HalfClose(name) => {
                // Shutting down an already broken connection fails; the next step will notice.
                let _ = self.client(name).stream.shutdown(Shutdown::Write);
                self.note(format!("{name} closes its sending side (a half-close)"));
                Ok(())
            }
            Step::Close(name) => {
                self.clients.remove(&name);
                self.note(format!("{name} closes the connection"));
                Ok(())
            }
            Step::Vanish {
                client,
                text,
                if_wrong,
            } => self.vanish(client, text, if_wrong),
            Step::Crossfire(crossfire) => self.crossfire(crossfire),
            Step::Flood(flood) => self.flood(flood),
        }
    }

    pub(super) fn note(&mut self, line: String) {
        self.transcript.push(line);
    }

    pub(super) fn client(&mut self, name: char) -> &mut Client {
        self.clients
            .get_mut(&name)
            .unwrap_or_else(|| panic!("check script bug: client {name} is not connected"))
    }

    fn connect(&mut self, name: char) -> Result<(), Surprise> {
        let stream = match TcpStream::connect_timeout(&self.server, PATIENCE) {
            Ok(stream) => stream,
            Err(error) => {
                self.note(format!("{name} cannot connect: {}", describe_error(&error)));
                return Err(Surprise(format!(
                    "Client {name} could not connect: is your server still accepting \
                     connections?"
                )));
            }
        };
        let address = stream
            .local_addr()
            .expect("a connected stream has an address");
        // A harness that cannot set a timeout cannot promise to finish: that is a bug here.
        stream
            .set_read_timeout(Some(PATIENCE))
            .expect("set a read timeout");
        stream
            .set_write_timeout(Some(PATIENCE))
            .expect("set a write timeout");
        let early = Vec::new();
        self.clients.insert(
            name,
            Client {
                stream,
                address,
                early,
            },
        );
        self.note(format!("{name} connects"));
        Ok(())
    }

    fn send(&mut self, name: char, text: &str) -> Result<(), Surprise> {
        match self.client(name).stream.write_all(text.as_bytes()) {
            Ok(()) => {
                self.note(format!("{name} sends {}", show(text.as_bytes())));
                Ok(())
            }
            Err(error) => Err(self.could_not_send(name, text, &error)),
        }
    }

    fn send_in_pieces(&mut self, name: char, pieces: &[&str]) -> Result<(), Surprise> {
        let client = self.client(name);
        // Without Nagle's algorithm each small write leaves in a packet of its own at once.
        let _ = client.stream.set_nodelay(true);
        for (number, piece) in pieces.iter().enumerate() {
            if let Err(error) = client.stream.write_all(piece.as_bytes()) {
                return Err(self.could_not_send(name, piece, &error));
            }
            if number + 1 < pieces.len() {
                client.wait_for_an_answer(PIECE_PAUSE);
            }
        }
        let shown: Vec<String> = pieces.iter().map(|piece| show(piece.as_bytes())).collect();
        self.note(format!(
            "{name} sends {} in pieces: {}",
            show(pieces.concat().as_bytes()),
            shown.join(" ")
        ));
        Ok(())
    }

    fn could_not_send(&mut self, name: char, text: &str, error: &std::io::Error) -> Surprise {
        self.note(format!(
            "{name} cannot send {}: {}",
            show(text.as_bytes()),
            describe_error(error)
        ));
        Surprise(format!(
            "Client {name} could not send: the server had already closed its connection."
        ))
    }

    fn receive(
        &mut self,
        name: char,
        template: &str,
        if_wrong: &str,
        clues: &[(&str, &str)],
    ) -> Result<(), Surprise> {
        let expected = self.fill_in_addresses(template);
        let client = self.client(name);
        let (received, end) = read_expecting(client, expected.as_bytes());
        // read_expecting shortened the timeout as its deadline neared: give the next step its
        // full PATIENCE again.
        let _ = client.stream.set_read_timeout(Some(PATIENCE));
        let shown = self.name_addresses(&show(&received));
        let line = match (received.is_empty(), end) {
            (_, None) => format!("{name} receives {shown}"),
            (true, Some(end)) => format!("{name} receives nothing {}", end.after_nothing()),
            (false, Some(end)) => {
                format!("{name} receives {shown}, then {}", end.after_something())
            }
        };
        self.note(line);
        if received == expected.as_bytes() {
            return Ok(());
        }
        let received_text = self.name_addresses(&String::from_utf8_lossy(&received));
        let explanation = clues
            .iter()
            .find(|(clue, _)| received_text.contains(clue))
            .map_or(if_wrong, |(_, meaning)| meaning);
        Err(Surprise(explanation.to_string()))
    }

    fn receive_close(&mut self, name: char, if_wrong: &str) -> Result<(), Surprise> {
        let client = self.client(name);
        if !client.early.is_empty() {
            let line = format!(
                "{name} receives {} where the connection should close",
                show(&client.early)
            );
            let line = self.name_addresses(&line);
            self.note(line);
            return Err(Surprise(if_wrong.to_string()));
        }
        let stream = &mut client.stream;
        let _ = stream.set_read_timeout(Some(PATIENCE));
        let mut buffer = [0; 256];
        let line = match stream.read(&mut buffer) {
            Ok(0) => {
                self.note(format!("{name} sees the server close the connection"));
                return Ok(());
            }
            Ok(count) => format!(
                "{name} receives {} where the connection should close",
                show(&buffer[..count])
            ),
            Err(error) => format!("{name} waits for the close, but {}", describe_error(&error)),
        };
        let line = self.name_addresses(&line);
        self.note(line);
        Err(Surprise(if_wrong.to_string()))
    }

    fn vanish(&mut self, name: char, text: &str, if_wrong: &str) -> Result<(), Surprise> {
        let mut client = self
            .clients
            .remove(&name)
            .unwrap_or_else(|| panic!("check script bug: client {name} is not connected"));
        if let Err(error) = client.stream.write_all(text.as_bytes()) {
            self.note(format!(
                "{name} cannot send {}: {}",
                show(text.as_bytes()),
                describe_error(&error)
            ));
            return Err(Surprise(format!(
                "Client {name} could not send: the server had already closed its connection."
            )));
        }
        // Wait until the reply starts arriving, without reading it: closing now, with unread
        // bytes in the socket, is what makes the system reset the connection.
        let _ = client.stream.set_read_timeout(Some(PATIENCE));
        let mut peeked = [0; 1];
        let peeked = client.stream.peek(&mut peeked);
        drop(client);
        let sent = show(text.as_bytes());
        let what_happened = match peeked {
            Ok(1) => {
                self.note(format!(
                    "{name} sends {sent} and vanishes without reading the reply"
                ));
                return Ok(());
            }
            Ok(_) => "sees the connection close before any reply".to_string(),
            Err(error) if is_timeout(&error) => {
                format!("gets no reply within {} s", PATIENCE.as_secs())
            }
            Err(error) => format!("gets no reply: {}", describe_error(&error)),
        };
        self.note(format!("{name} sends {sent} and {what_happened}"));
        Err(Surprise(if_wrong.to_string()))
    }

    /// The text with `<A's address>` (and so on) replaced by the real addresses.
    fn fill_in_addresses(&self, template: &str) -> String {
        let mut text = template.replace("<server's address>", &self.server.to_string());
        for (name, client) in &self.clients {
            text = text.replace(&format!("<{name}'s address>"), &client.address.to_string());
        }
        text
    }

    /// The reverse of [`Run::fill_in_addresses`], so transcripts never show a port number.
    fn name_addresses(&self, text: &str) -> String {
        let mut text = text.replace(&self.server.to_string(), "<server's address>");
        for (name, client) in &self.clients {
            text = text.replace(&client.address.to_string(), &format!("<{name}'s address>"));
        }
        text
    }
}

/// Reads until `expected` has arrived, the bytes stop matching it, the connection ends, or
/// [`PATIENCE`] runs out. Returns what arrived, and how the reading ended if not with a match.
fn read_expecting(client: &mut Client, expected: &[u8]) -> (Vec<u8>, Option<End>) {
    let deadline = Instant::now() + PATIENCE;
    let early = client.early.len().min(expected.len());
    let mut received: Vec<u8> = client.early.drain(..early).collect();
    let stream = &mut client.stream;
    let mut buffer = [0; 4096];
    loop {
        let matching = expected.starts_with(&received);
        if matching && received.len() == expected.len() {
            return (received, None);
        }
        // While the reply matches, read no further than the expected end, so that the next step
        // finds the bytes meant for it. Once it has gone wrong, read to the end of the line, so
        // the learner sees the whole wrong reply.
        let wanted = if matching {
            expected.len() - received.len()
        } else {
            let first_difference = received
                .iter()
                .zip(expected)
                .take_while(|(got, want)| got == want)
                .count();
            if received[first_difference..].contains(&b'\n') || received.len() > 1024 {
                return (received, None);
            }
            buffer.len()
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return (received, Some(End::Timeout));
        }
        let _ = stream.set_read_timeout(Some(remaining));
        let wanted = wanted.min(buffer.len());
        match stream.read(&mut buffer[..wanted]) {
            Ok(0) => return (received, Some(End::Closed)),
            Ok(count) => received.extend_from_slice(&buffer[..count]),
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) if is_timeout(&error) => return (received, Some(End::Timeout)),
            Err(error) => return (received, Some(End::Failed(describe_error(&error)))),
        }
    }
}

/// Why reading stopped before the expected text had arrived.
enum End {
    Timeout,
    Closed,
    Failed(String),
}

impl End {
    fn after_nothing(&self) -> String {
        match self {
            End::Timeout => format!("within {} s", PATIENCE.as_secs()),
            End::Closed => "before the connection closes".to_string(),
            End::Failed(how) => format!("before {how}"),
        }
    }

    fn after_something(&self) -> String {
        match self {
            End::Timeout => format!("nothing more within {} s", PATIENCE.as_secs()),
            End::Closed => "the connection closes".to_string(),
            End::Failed(how) => how.clone(),
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
            b'\\' => shown.push_str("\\\\"),
            b'"' => shown.push_str("\\\""),
            b' '..=b'~' => shown.push(byte as char),
            _ => shown.push_str(&format!("\\x{byte:02x}")),
        }
    }
    shown.push('"');
    shown
}
