//! Playing a check's script against a learner's server, and writing down what happened.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use super::diagnose::Arrival;
use super::peer::{Client, End, describe_error, is_timeout, show, show_short};
use super::shaper::Shaper;
use super::step::{NOTHING_ARRIVED, PATIENCE, PIECE_PAUSE, Step};
use super::{Advice, Check, Exercise, Failure, Played, Program, Transcript};

/// How long [`Step::ReceiveNothing`] listens for bytes that should not come.
const NOTHING_FOR: Duration = Duration::from_millis(250);
/// How long a stopped program stays stopped after a client's reset, so that the reset has
/// surely reached the program's side of the connection before it can accept it.
const RESET_SETTLES: Duration = Duration::from_millis(20);
/// After a reply went missing, how long each other client is asked whether it got it instead.
const LOOK_ELSEWHERE_FOR: Duration = Duration::from_millis(20);

/// A check: who it is for, and what its clients do.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    pub exercise: Exercise,
    pub steps: &'static [Step],
    /// What the verdict says beside the facts (most scripts: [`Advice::SERVER`]).
    pub advice: Advice,
}

/// The state of one run of a script.
pub(super) struct Run {
    server: SocketAddr,
    pub(super) clients: BTreeMap<char, Client>,
    transcript: Transcript,
    /// Cuts and joins the clients' writes, as a network would.
    shaper: Shaper,
    /// Bytes a client has sent that the shaper holds back, to go out with its next ones.
    held: BTreeMap<char, Vec<u8>>,
    /// Everything each client has sent, to recognise it if it turns up at another client.
    sent: BTreeMap<char, Vec<u8>>,
    /// The client that last reset its connection before sending a byte, until another connects:
    /// if that one cannot, the reset is the likely reason.
    reset_before_met: Option<char>,
    /// The steps from the one being played on: where a client that cannot send finds the reply
    /// it was sending for.
    upcoming: &'static [Step],
}

/// What went wrong at a step: what happened, then the likely mistake, in words.
pub(super) struct Surprise(pub(super) String);

impl Surprise {
    /// A first sentence saying what happened, then what it likely means.
    pub(super) fn new(what_happened: impl Into<String>, likely: &str) -> Surprise {
        let mut reason = what_happened.into();
        if !likely.is_empty() {
            reason.push('\n');
            reason.push_str(likely);
        }
        Surprise(reason)
    }
}

impl Script {
    /// The most scripted clients connected at any one time: what a run costs in sockets.
    pub fn most_clients_at_once(&self) -> usize {
        let (mut now, mut most) = (0usize, 0usize);
        for step in self.steps {
            match step {
                Step::Connect(_) => now += 1,
                // One at a time, each closed before the next connects.
                Step::Quitters(_) => most = most.max(now + 1),
                Step::ConnectAll(names) => now += names.len(),
                Step::Close(_) | Step::Reset(_) | Step::Vanish { .. } => {
                    now = now.saturating_sub(1)
                }
                Step::Flood(flood) => now = now.saturating_sub(flood.slow.len()),
                _ => {}
            }
            most = most.max(now);
        }
        most
    }

    /// Runs this script against a server that is already running at `server`, such as a lesson's
    /// binary started by a test.
    pub fn run_against(&self, server: SocketAddr) -> Result<Transcript, Failure> {
        super::run(self, &super::Target::Address(server))
    }
}

impl Check for Script {
    fn exercise(&self) -> Exercise {
        self.exercise
    }

    fn advice(&self) -> Advice {
        self.advice
    }

    fn play(&self, program: &mut Program) -> Played {
        let seed = Shaper::seed_for_this_run();
        let mut run = Run {
            server: program.address(),
            clients: BTreeMap::new(),
            transcript: Transcript::default(),
            shaper: Shaper::new(seed),
            held: BTreeMap::new(),
            sent: BTreeMap::new(),
            reset_before_met: None,
            upcoming: &[],
        };
        let mut stop = None;
        for (index, step) in self.steps.iter().enumerate() {
            run.upcoming = &self.steps[index..];
            let done = match *step {
                // Stopped, the program cannot accept the client before its reset has come: the
                // reset surely happens before `accept`. (Where the check cannot stop it, it
                // happens when it happens.)
                Step::ConnectAndReset(name) => {
                    let paused = program.pause();
                    let done = run.connect_and_reset(name);
                    if paused.is_ok() {
                        thread::sleep(RESET_SETTLES);
                    }
                    done
                }
                step => run.perform(step),
            };
            if let Err(Surprise(found)) = done {
                stop = Some(found);
                break;
            }
        }
        Played {
            seed: run.shaper.was_used().then_some(seed),
            transcript: run.transcript,
            stop,
            end_judged: false,
        }
    }
}

impl Run {
    fn perform(&mut self, step: Step) -> Result<(), Surprise> {
        match step {
            Step::Send(name, bytes) => return self.send(name, bytes),
            // Anything else a client does comes after what every client has sent so far.
            _ => self.send_everything_held()?,
        }
        match step {
            Step::Send(..) => Ok(()),
            Step::Connect(name) => self.connect(name).map(|()| {
                self.note(format!("{name} connects"));
            }),
            Step::ConnectAndReset(name) => self.connect_and_reset(name),
            Step::ConnectAll(names) => {
                for &name in names {
                    self.connect(name)?;
                }
                self.note(format!("{} connect", list(names)));
                Ok(())
            }
            Step::SendInPieces(name, pieces) => self.send_in_pieces(name, pieces),
            Step::Receive {
                client,
                text,
                if_wrong,
                clues,
            } => self.receive(client, text, if_wrong, clues),
            Step::EachEchoes { clients, if_wrong } => self.each_echoes(clients, if_wrong),
            Step::StayQuiet { clients, at_least } => self.stay_quiet(clients, at_least),
            Step::ReceiveNothing { client, if_wrong } => self.receive_nothing(client, if_wrong),
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
            Step::Reset(name) => self.reset(name),
            Step::Vanish {
                client,
                text,
                if_wrong,
            } => self.vanish(client, text, if_wrong),
            Step::Crossfire(crossfire) => self.crossfire(crossfire),
            Step::Quitters(quitters) => self.quitters(quitters),
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

    pub(super) fn connect(&mut self, name: char) -> Result<(), Surprise> {
        match Client::connect(self.server) {
            Ok(client) => {
                self.clients.insert(name, client);
                self.reset_before_met = None;
                Ok(())
            }
            Err(error) => {
                let how = describe_error(&error);
                self.note(format!("{name} cannot connect: {how}"));
                let likely = match self.reset_before_met {
                    Some(gone) => format!(
                        "Client {gone} had just reset its connection before sending a byte: did \
                         that stop your server? An accept, a peer_addr() or a first read can fail \
                         for a client that is already gone: handle it as that client's error, \
                         and keep accepting."
                    ),
                    None => "Is your server still accepting connections?".to_string(),
                };
                Err(Surprise::new(
                    format!("Client {name} could not connect: {how}."),
                    &likely,
                ))
            }
        }
    }

    /// Sends `bytes` for client `name`, now or, as the shaper decides, with its next send.
    fn send(&mut self, name: char, bytes: &[u8]) -> Result<(), Surprise> {
        let others: Vec<char> = self.held.keys().copied().filter(|&c| c != name).collect();
        for other in others {
            self.send_held(other)?;
        }
        self.note(format!("{name} sends {}", show_short(bytes)));
        self.sent.entry(name).or_default().extend_from_slice(bytes);
        self.held.entry(name).or_default().extend_from_slice(bytes);
        self.client(name).last_spoke = Instant::now();
        if self.shaper.hold_back() {
            return Ok(());
        }
        self.send_held(name)
    }

    fn send_everything_held(&mut self) -> Result<(), Surprise> {
        let names: Vec<char> = self.held.keys().copied().collect();
        for name in names {
            self.send_held(name)?;
        }
        Ok(())
    }

    fn send_held(&mut self, name: char) -> Result<(), Surprise> {
        let Some(bytes) = self.held.remove(&name) else {
            return Ok(());
        };
        let Some(client) = self.clients.get_mut(&name) else {
            return Ok(()); // it has left; what it still held goes with it
        };
        match self.shaper.write(&client.stream, &bytes) {
            Ok(()) => Ok(()),
            Err(error) => Err(self.could_not_send(name, &bytes, &error)),
        }
    }

    fn send_in_pieces(&mut self, name: char, pieces: &[&[u8]]) -> Result<(), Surprise> {
        let client = self.client(name);
        // Without Nagle's algorithm each small write leaves in a packet of its own at once.
        let _ = client.stream.set_nodelay(true);
        for (number, piece) in pieces.iter().enumerate() {
            if let Err(error) = client.stream.write_all(piece) {
                return Err(self.could_not_send(name, piece, &error));
            }
            if number + 1 < pieces.len() {
                client.wait_for_an_answer(PIECE_PAUSE);
            }
        }
        client.last_spoke = Instant::now();
        let whole = pieces.concat();
        self.sent.entry(name).or_default().extend_from_slice(&whole);
        if let [_one] = pieces {
            // One piece is one write, never cut or run together by the shaper: what a network
            // between two machines might deliver in any number of reads, but loopback in one.
            self.note(format!("{name} sends {} in one write", show_short(&whole)));
            return Ok(());
        }
        let shown: Vec<String> = pieces.iter().map(|piece| show(piece)).collect();
        self.note(format!(
            "{name} sends {} in pieces: {}",
            show(&whole),
            shown.join(" ")
        ));
        Ok(())
    }

    pub(super) fn could_not_send(
        &mut self,
        name: char,
        bytes: &[u8],
        error: &std::io::Error,
    ) -> Surprise {
        let how = describe_error(error);
        self.note(format!("{name} cannot send {}: {how}", show_short(bytes)));
        // The connection is gone. Whether the send or the reply after it meets that first is a
        // race (a server that ends as the client writes): the verdict is the reply's either way,
        // so the same answer always gets the same one.
        if !is_timeout(error) {
            let reply = self.upcoming.iter().take(4).find_map(|step| match *step {
                Step::Receive {
                    client,
                    text,
                    if_wrong,
                    clues,
                } if client == name => Some((text, if_wrong, clues)),
                _ => None,
            });
            if let Some((text, if_wrong, clues)) = reply {
                if let Err(surprise) = self.receive(name, text, if_wrong, clues) {
                    return surprise;
                }
            }
        }
        let likely = if is_timeout(error) {
            format!(
                "The server stopped reading from client {name}: its bytes piled up until there \
                 was no more room for them. Does it keep reading while it writes?"
            )
        } else {
            format!(
                "The server had closed client {name}'s connection while {name} was still \
                 talking: does it stop serving a client after its first message, or end the \
                 connection on an error? Keep reading until read() returns 0."
            )
        };
        Surprise::new(format!("Client {name} could not send: {how}."), &likely)
    }

    fn receive(
        &mut self,
        name: char,
        template: &[u8],
        if_wrong: &str,
        clues: &[(&str, &str)],
    ) -> Result<(), Surprise> {
        let expected = self.fill_in_addresses(template);
        let (received, end) = self.client(name).read_expecting(&expected);
        let shown = self.name_addresses(&show_short(&received));
        let line = match (received.is_empty(), &end) {
            (_, None) => format!("{name} receives {shown}"),
            (true, Some(end)) => format!("{name} receives nothing {}", end.after_nothing()),
            (false, Some(end)) => {
                format!("{name} receives {shown}, then {}", end.after_something())
            }
        };
        self.note(line);
        if received == expected {
            return Ok(());
        }
        Err(self.wrong_reply(name, &expected, &received, end, if_wrong, clues))
    }

    /// The verdict on a reply that did not come as expected: what came, then what it suggests.
    fn wrong_reply(
        &mut self,
        name: char,
        expected: &[u8],
        received: &[u8],
        end: Option<End>,
        if_wrong: &str,
        clues: &[(&str, &str)],
    ) -> Surprise {
        let others: Vec<char> = self
            .clients
            .keys()
            .copied()
            .filter(|&c| c != name)
            .collect();
        let mut elsewhere = Vec::new();
        for other in others {
            let pending = self.client(other).pending(LOOK_ELSEWHERE_FOR);
            if !pending.is_empty() {
                elsewhere.push((other, pending));
            }
        }
        let sent_by_others: Vec<(char, Vec<u8>)> = self
            .sent
            .iter()
            .filter(|(c, _)| **c != name)
            .map(|(c, bytes)| (*c, bytes.clone()))
            .collect();
        let sent_by_self = self.sent.get(&name).cloned().unwrap_or_default();
        let arrival = Arrival {
            client: name,
            expected,
            received,
            end,
            elsewhere: &elsewhere,
            sent_by_self: &sent_by_self,
            sent_by_others: &sent_by_others,
        };
        let what_arrived = arrival.what_arrived(|bytes| self.name_addresses(&show_short(bytes)));
        let received_text = self.name_addresses(&String::from_utf8_lossy(received));
        let likely = clues
            .iter()
            .find(|(clue, _)| match *clue {
                NOTHING_ARRIVED => received.is_empty(),
                clue => received_text.contains(clue),
            })
            .map(|(_, meaning)| meaning.to_string())
            .or_else(|| arrival.likely_mistake())
            .unwrap_or_else(|| if_wrong.to_string());
        Surprise::new(what_arrived, &likely)
    }

    fn each_echoes(&mut self, names: &[char], if_wrong: &str) -> Result<(), Surprise> {
        for &name in names {
            let line = format!("hello from {name}\n");
            let client = self
                .clients
                .get_mut(&name)
                .expect("script bug: not connected");
            client.last_spoke = Instant::now();
            if let Err(error) = self.shaper.write(&client.stream, line.as_bytes()) {
                return Err(self.could_not_send(name, line.as_bytes(), &error));
            }
            self.sent
                .entry(name)
                .or_default()
                .extend_from_slice(line.as_bytes());
        }
        self.note(format!(
            "{} each send \"hello from\" and their own letter",
            list(names)
        ));
        for &name in names {
            let expected = format!("hello from {name}\n");
            let (received, end) = self.client(name).read_expecting(expected.as_bytes());
            if received != expected.as_bytes() {
                let shown = show_short(&received);
                self.note(match &end {
                    Some(end) if received.is_empty() => {
                        format!("{name} receives nothing {}", end.after_nothing())
                    }
                    Some(end) => format!("{name} receives {shown}, then {}", end.after_something()),
                    None => format!("{name} receives {shown}"),
                });
                return Err(self.wrong_reply(
                    name,
                    expected.as_bytes(),
                    &received,
                    end,
                    if_wrong,
                    &[],
                ));
            }
        }
        self.note(format!("{} each receive their own line back", list(names)));
        Ok(())
    }

    /// Waits until every one of `names` has been quiet for `at_least`, listening all the while:
    /// a server that drops a quiet client shows it here, when it happens.
    fn stay_quiet(&mut self, names: &[char], at_least: Duration) -> Result<(), Surprise> {
        for &name in names {
            let client = self.client(name);
            let until = client.last_spoke + at_least;
            // A deliberate silence, the behaviour being checked; not a wait for the server.
            while Instant::now() < until {
                let wait = until - Instant::now();
                let pending = client.pending(wait.min(PATIENCE));
                if !pending.is_empty() {
                    client.early = pending.clone();
                    let quiet_for = client.last_spoke.elapsed().as_secs_f32();
                    self.note(format!(
                        "{name} receives {} while it is quiet",
                        show_short(&pending)
                    ));
                    return Err(Surprise::new(
                        format!(
                            "Client {name} received {} after {quiet_for:.1} s of saying nothing, \
                             where nothing was expected.",
                            show_short(&pending)
                        ),
                        "A server must not send anything to a client that sent nothing.",
                    ));
                }
                if is_closed(&client.stream) {
                    let quiet_for = client.last_spoke.elapsed().as_secs_f32();
                    self.note(format!(
                        "{name} sees the server close the connection while it is quiet"
                    ));
                    return Err(Surprise::new(
                        format!(
                            "The server closed client {name}'s connection after {name} had been \
                             quiet for {quiet_for:.1} s."
                        ),
                        "A client may stay quiet as long as it likes: do not drop it for that \
                         (no read timeout on the client's connection, in this exercise).",
                    ));
                }
            }
        }
        self.note(format!(
            "{} {} quiet for {} s",
            list(names),
            if names.len() == 1 { "stays" } else { "stay" },
            at_least.as_secs()
        ));
        Ok(())
    }

    fn receive_nothing(&mut self, name: char, if_wrong: &str) -> Result<(), Surprise> {
        let pending = self.client(name).pending(NOTHING_FOR);
        if pending.is_empty() {
            self.note(format!("{name} receives nothing more"));
            return Ok(());
        }
        let shown = self.name_addresses(&show_short(&pending));
        self.note(format!("{name} receives {shown} where nothing was due"));
        Err(Surprise::new(
            format!("Client {name} received {shown}, where nothing was meant for it."),
            if_wrong,
        ))
    }

    fn receive_close(&mut self, name: char, if_wrong: &str) -> Result<(), Surprise> {
        let client = self.client(name);
        let line = match client.early.is_empty() {
            false => None,
            true => match how_it_ends(&client.stream, PATIENCE) {
                Ending::Closed => {
                    self.note(format!("{name} sees the server close the connection"));
                    return Ok(());
                }
                Ending::Reset => Some(format!(
                    "{name} waits for the close, but the connection is reset"
                )),
                Ending::NotYet => Some(format!(
                    "{name} waits for the close, but nothing happens within {} s",
                    PATIENCE.as_secs()
                )),
                Ending::BytesFirst => None,
            },
        };
        let line = line.unwrap_or_else(|| {
            let rest = client.pending(LOOK_ELSEWHERE_FOR);
            format!(
                "{name} receives {} where the connection should close",
                show_short(&rest)
            )
        });
        let line = self.name_addresses(&line);
        self.note(line.clone());
        let what = line.replacen(&format!("{name} "), &format!("Client {name} "), 1);
        let likely = if line.ends_with(r#"receives "\n" where the connection should close"#) {
            "A newline was added after the client's last bytes, which had none: send back exactly \
             the bytes you read."
        } else {
            if_wrong
        };
        Err(Surprise::new(format!("{what}."), likely))
    }

    fn connect_and_reset(&mut self, name: char) -> Result<(), Surprise> {
        self.connect(name)?;
        let client = self
            .clients
            .remove(&name)
            .expect("the client just connected");
        client.reset();
        self.note(format!(
            "{name} connects and at once resets the connection, before sending a byte"
        ));
        self.reset_before_met = Some(name);
        Ok(())
    }

    fn reset(&mut self, name: char) -> Result<(), Surprise> {
        let client = self
            .clients
            .remove(&name)
            .unwrap_or_else(|| panic!("check script bug: client {name} is not connected"));
        // Unread bytes in the socket are what make closing it a reset rather than a goodbye. The
        // script sends something everyone should hear first; if it never came, say so.
        let mut peeked = [0; 1];
        let unread = !client.early.is_empty()
            || match client.stream.peek(&mut peeked) {
                Ok(count) => count > 0,
                Err(_) => false,
            };
        // A zero linger makes the close a reset on every system, not only where unread bytes do.
        client.reset();
        if !unread {
            let line = format!(
                "{name} receives nothing within {} s, where the room's last line was due",
                PATIENCE.as_secs()
            );
            self.note(line);
            return Err(Surprise::new(
                format!(
                    "Client {name} received nothing within {} s, where the line just sent to \
                     the room was due.",
                    PATIENCE.as_secs()
                ),
                "Does every client in the room (but the sender) get each message?",
            ));
        }
        self.note(format!(
            "{name} disappears without reading what was sent to it (the connection is reset)"
        ));
        Ok(())
    }

    fn vanish(&mut self, name: char, text: &[u8], if_wrong: &str) -> Result<(), Surprise> {
        let mut client = self
            .clients
            .remove(&name)
            .unwrap_or_else(|| panic!("check script bug: client {name} is not connected"));
        if let Err(error) = client.stream.write_all(text) {
            let how = describe_error(&error);
            self.note(format!("{name} cannot send {}: {how}", show(text)));
            return Err(Surprise::new(
                format!("Client {name} could not send: {how}."),
                "The server had already closed its connection.",
            ));
        }
        // Wait until the reply starts arriving, without reading it: closing now, with unread
        // bytes in the socket, is what makes the system reset the connection.
        let _ = client.stream.set_read_timeout(Some(PATIENCE));
        let mut peeked = [0; 1];
        let peeked = client.stream.peek(&mut peeked);
        // A zero linger makes the close a reset on every system, not only where unread bytes do.
        client.reset();
        let sent = show(text);
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
        Err(Surprise::new(
            format!("Client {name} sent {sent} and {what_happened}."),
            if_wrong,
        ))
    }

    /// The bytes with `<A's address>` (and so on) replaced by the real addresses.
    fn fill_in_addresses(&self, template: &[u8]) -> Vec<u8> {
        let Ok(template) = std::str::from_utf8(template) else {
            return template.to_vec(); // placeholders are text; bytes that are not have none
        };
        let mut text = template.replace("<server's address>", &self.server.to_string());
        for (name, client) in &self.clients {
            text = text.replace(&format!("<{name}'s address>"), &client.address.to_string());
        }
        text.into_bytes()
    }

    /// The reverse of [`Run::fill_in_addresses`], so transcripts never show a port number.
    pub(super) fn name_addresses(&self, text: &str) -> String {
        let mut text = text.replace(&self.server.to_string(), "<server's address>");
        for (name, client) in &self.clients {
            text = text.replace(&client.address.to_string(), &format!("<{name}'s address>"));
        }
        text
    }
}

/// How a connection the client is only listening to goes on.
enum Ending {
    /// The server closed it, with nothing left to read.
    Closed,
    /// The system reset it: the server closed it with bytes unread, or crashed.
    Reset,
    /// Bytes arrived.
    BytesFirst,
    /// Nothing happened within the wait.
    NotYet,
}

/// Waits up to `wait` to see how the connection goes on, without taking any bytes from it.
fn how_it_ends(stream: &TcpStream, wait: Duration) -> Ending {
    let _ = stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
    let mut byte = [0; 1];
    let ending = loop {
        break match stream.peek(&mut byte) {
            Ok(0) => Ending::Closed,
            Ok(_) => Ending::BytesFirst,
            // A signal cut the wait short: that says nothing, so wait again.
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) if is_timeout(&error) => Ending::NotYet,
            Err(_) => Ending::Reset,
        };
    };
    let _ = stream.set_read_timeout(Some(PATIENCE));
    ending
}

/// Whether the server has closed this connection (cleanly or not) by now.
fn is_closed(stream: &TcpStream) -> bool {
    matches!(
        how_it_ends(stream, Duration::from_millis(1)),
        Ending::Closed | Ending::Reset
    )
}

/// `A, B and C`.
pub(super) fn list(names: &[char]) -> String {
    let names: Vec<String> = names.iter().map(char::to_string).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}
