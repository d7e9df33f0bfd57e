//! Lesson 04: the chat server.
//!
//! Everyone who connects picks a name, and every line they type reaches everyone else. So clients
//! are no longer independent, as they were in lesson 03: what one sends, the others receive.
//!
//! Three kinds of thread share the work (a fourth, the accept loop, lets clients in), and they
//! talk only through channels:
//!
//! - one *reader* thread per client turns the bytes it sends into lines, and sends each line to
//!   the broker as an `Event`;
//! - one *broker* thread owns the room: it alone knows who is here, and decides who gets what;
//! - one *writer* thread per client takes lines from that client's queue and writes them to its
//!   socket.
//!
//! The readers, the writers and the accept loop that starts them live in the course library
//! (`src/chat.rs`), because exercise 04 uses them too. This file is the server itself: its
//! limits, its `main`, and its broker, which is where the chat's rules are.
//!
//! The broker never waits for a socket: it only puts lines in queues, and a client whose queue is
//! full is cut off. So a client that stops reading can hold up nobody but itself. Run it, then
//! join from two or more terminals with `04_chat_client`, `nc` or `telnet`.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::chat::{
    ClientId, Event, Leaving, Line, chat_line, error_line, notice_line, private_line,
};
use course::cli::{Program, Role};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

// ANCHOR: limits
/// How many connections are served at once, unless the command line says otherwise. Each costs
/// two threads and a socket; without a limit, a flood of connections would exhaust them.
const MAX_CLIENTS: usize = 1000;
/// The longest name, in characters.
const MAX_NAME_CHARS: usize = 20;
/// How long a newcomer has to choose a name, unless the command line says otherwise. Until it
/// has one, a connection hears nothing but holds a seat: without a limit, enough silent
/// connections would hold every seat, and nobody else could get in.
const NAME_TIME: Duration = Duration::from_secs(60);
// ANCHOR_END: limits

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let max_clients = match args.extra.first() {
        Some(text) => parse_max_clients(text)?,
        None => MAX_CLIENTS,
    };
    let name_time = match args.extra.get(1) {
        Some(text) => parse_name_time(text)?,
        None => NAME_TIME,
    };
    let address = args.address;
    // A whole room may arrive at once: std's backlog of 128 would make most of them wait
    // seconds to be let in. See src/listen.rs and chapter 07.
    let listener = course::listen::bind_with_backlog(address, course::listen::CROWD_BACKLOG)?;
    println!("listening on {}", listener.local_addr()?);

    // ANCHOR: start
    let events = course::chat::start(listener, max_clients).context("starting the accept loop")?;
    // The broker runs on the main thread. If it ever stopped (a bug, a panic), the whole server
    // stops with it, rather than go on accepting clients that nobody would serve.
    run_broker(events, name_time);
    Ok(())
    // ANCHOR_END: start
}

fn parse_max_clients(text: &str) -> anyhow::Result<usize> {
    // Two threads a client: past the most threads a program starts, Linux's memory maps run out
    // and std ends the whole process (chapter 03).
    course::cli::whole_number("MAX_CLIENTS", text, 1..=course::cli::MOST_THREADS / 2)
}

fn parse_name_time(text: &str) -> anyhow::Result<Duration> {
    // At most an hour: a time far larger would overflow the deadline `Instant::now() + time`,
    // and the broker would panic at the first newcomer. At least a millisecond: less sends
    // every newcomer away before it could say a word.
    course::cli::seconds("NAME_SECONDS", text, course::cli::TIMEOUT_SECONDS)
}

// ANCHOR: broker
// ANCHOR: run_broker
/// The broker: handles events one at a time, in the order they arrive, for as long as the server
/// runs. Only this thread touches the room, so it needs no lock; and because every line for the
/// room is queued for everyone here, in this loop's order, everyone hears things in that order.
fn run_broker(events: Receiver<Event>, name_time: Duration) {
    let mut room = Room::new(name_time);
    loop {
        // Wait for the next event, but no longer than until a newcomer's time to choose a name
        // runs out: nothing else would wake the broker then.
        let next = match room.next_name_deadline() {
            Some(deadline) => events.recv_deadline(deadline),
            None => events.recv().map_err(RecvTimeoutError::from),
        };
        match next {
            Ok(Event::Connected {
                id,
                peer,
                outgoing,
                connection,
            }) => room.arrive(id, peer, outgoing, connection),
            Ok(Event::Line { id, text }) => room.hear(id, &text),
            Ok(Event::LineRefused { id, why }) => room.send_to(id, error_line(&why)),
            Ok(Event::Disconnected { id, how }) => room.remove(id, how),
            Err(RecvTimeoutError::Timeout) => {} // someone's time is up: see below
            // Every reader and the accept loop are gone: nobody can ever send another event.
            Err(RecvTimeoutError::Disconnected) => return,
        }
        room.send_away_the_nameless(Instant::now());
        room.cut_off_the_slow();
    }
}
// ANCHOR_END: run_broker

// ANCHOR: room
/// Everyone connected, as the broker sees them.
struct Room {
    /// Every connection, named or still choosing a name, in the order they connected: ids count
    /// up, and a `BTreeMap` keeps its keys in order, so a broadcast reaches the room in the same
    /// order on every run (a `HashMap`'s order changes from run to run).
    clients: BTreeMap<ClientId, Client>,
    /// Clients whose queue was full when the broker added to it. They are cut off once the
    /// current event is handled.
    too_slow: Vec<ClientId>,
    /// How long a newcomer has to choose a name.
    name_time: Duration,
    /// Newcomers in the order they arrived, each with the moment its time to choose a name runs
    /// out. Everyone gets the same time, so the front is always the first to run out. Entries
    /// stay until then even for those who chose a name or left; they are skipped.
    name_deadlines: VecDeque<(Instant, ClientId)>,
}

/// One connection, as the broker sees it. Owned by the [`Room`].
struct Client {
    /// Where it connects from, for the server's log.
    peer: SocketAddr,
    /// `None` while it is still choosing a name; until then, it hears nothing from the room.
    name: Option<String>,
    /// Lines waiting for this client. Its writer thread holds the receiving end; when the broker
    /// drops this sender, the writer sends what is left and closes the connection.
    outgoing: Sender<Line>,
    /// The socket, kept only to cut the client off: shutting it down ends a write its writer
    /// thread may be stuck in, and closes the connection.
    connection: Arc<TcpStream>,
}

impl Client {
    /// The client as the server's log names it.
    fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("{} ({name})", self.peer),
            None => self.peer.to_string(),
        }
    }
}
// ANCHOR_END: room

// ANCHOR: hear
impl Room {
    fn new(name_time: Duration) -> Room {
        Room {
            clients: BTreeMap::new(),
            too_slow: Vec::new(),
            name_time,
            name_deadlines: VecDeque::new(),
        }
    }

    fn arrive(
        &mut self,
        id: ClientId,
        peer: SocketAddr,
        outgoing: Sender<Line>,
        connection: Arc<TcpStream>,
    ) {
        println!("{peer} connected");
        let client = Client {
            peer,
            name: None,
            outgoing,
            connection,
        };
        self.clients.insert(id, client);
        self.name_deadlines
            .push_back((Instant::now() + self.name_time, id));
        self.send_to(id, notice_line(WELCOME));
    }

    /// Handles one line from client `id`: a name, a command, or a message for the room.
    fn hear(&mut self, id: ClientId, text: &str) {
        // The client may be gone already (cut off, or quit) while its reader was still sending.
        let Some(client) = self.clients.get(&id) else {
            return;
        };
        match client.name.clone() {
            None => self.choose_name(id, text),
            Some(name) => {
                if let Some(command) = text.strip_prefix('/') {
                    self.run_command(id, &name, command);
                } else if !text.trim().is_empty() {
                    self.broadcast_to_others(id, chat_line(&name, text));
                }
            }
        }
    }
    // ANCHOR_END: hear

    // ANCHOR: names
    fn choose_name(&mut self, id: ClientId, wanted: &str) {
        if let Some(problem) = self.name_problem(id, wanted) {
            self.send_to(id, error_line(&problem));
            self.send_to(id, notice_line(ASK_NAME));
            return;
        }
        let others = self.names();
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        client.name = Some(wanted.to_string());
        println!("{} joined as {wanted}", client.peer);
        let welcome = if others.is_empty() {
            format!("Welcome, {wanted}! Nobody else is here yet. /help lists the commands.")
        } else {
            format!(
                "Welcome, {wanted}! Also here: {}. /help lists the commands.",
                others.join(", ")
            )
        };
        self.send_to(id, notice_line(&welcome));
        self.broadcast_to_others(id, notice_line(&format!("{wanted} joined")));
    }

    /// Why `wanted` cannot be client `id`'s name, or `None` if it can.
    fn name_problem(&self, id: ClientId, wanted: &str) -> Option<String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if wanted.is_empty() {
            return Some("a name needs at least one character".into());
        }
        // ASCII only: then no two names can look alike yet differ (a Latin `a` and a Cyrillic
        // `а`), and "the same but for case" has one clear meaning.
        if !wanted.chars().all(allowed) {
            return Some("a name may hold only the letters a-z and A-Z, digits, - and _".into());
        }
        // All ASCII by now, so its length in bytes is its length in characters.
        if wanted.len() > MAX_NAME_CHARS {
            return Some(format!("a name has at most {MAX_NAME_CHARS} characters"));
        }
        let taken = self.clients.iter().any(|(other, client)| {
            *other != id
                && client
                    .name
                    .as_ref()
                    .is_some_and(|name| name.eq_ignore_ascii_case(wanted))
        });
        taken.then(|| format!("the name {wanted} is taken"))
    }

    /// Everyone's name, in alphabetical order.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .clients
            .values()
            .filter_map(|client| client.name.clone())
            .collect();
        names.sort_by_key(|name| name.to_ascii_lowercase());
        names
    }
    // ANCHOR_END: names

    // ANCHOR: commands
    fn run_command(&mut self, id: ClientId, name: &str, command_line: &str) {
        let (command, argument) = match command_line.split_once(' ') {
            Some((command, argument)) => (command, argument.trim()),
            None => (command_line, ""),
        };
        match command {
            "who" => {
                let names = self.names();
                let who = format!("{} here: {}", names.len(), names.join(", "));
                self.send_to(id, notice_line(&who));
            }
            "nick" if argument.is_empty() => self.send_to(id, error_line("usage: /nick NEW_NAME")),
            "nick" => self.rename(id, name, argument),
            "msg" => match argument.split_once(' ') {
                Some((to, text)) if !text.trim().is_empty() => {
                    self.send_privately(id, name, to, text.trim_start());
                }
                _ => self.send_to(id, error_line("usage: /msg NAME TEXT")),
            },
            "quit" => {
                self.send_to(id, notice_line(&format!("Goodbye, {name}!")));
                self.remove(id, Leaving::Quit);
            }
            "help" => {
                for line in HELP {
                    self.send_to(id, notice_line(line));
                }
            }
            _ => {
                let unknown = format!("unknown command /{command}: /help lists the commands");
                self.send_to(id, error_line(&unknown));
            }
        }
    }

    fn rename(&mut self, id: ClientId, old: &str, new: &str) {
        if let Some(problem) = self.name_problem(id, new) {
            self.send_to(id, error_line(&problem));
            return;
        }
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        println!("{} is now {new}", client.describe());
        client.name = Some(new.to_string());
        self.send_to(id, notice_line(&format!("You are now {new}")));
        self.broadcast_to_others(id, notice_line(&format!("{old} is now {new}")));
    }

    fn send_privately(&mut self, id: ClientId, from: &str, to: &str, text: &str) {
        // Names are unique whatever their case, so `/msg BOB` finds bob.
        let recipient = self.clients.iter().find_map(|(&other, client)| {
            let name = client.name.as_ref()?;
            name.eq_ignore_ascii_case(to).then(|| (other, name.clone()))
        });
        let Some((recipient, recipient_name)) = recipient else {
            self.send_to(id, error_line(&format!("nobody here is called {to}")));
            return;
        };
        self.send_to(recipient, private_line(from, text));
        self.send_to(
            id,
            notice_line(&format!("sent privately to {recipient_name}")),
        );
    }
    // ANCHOR_END: commands

    // ANCHOR: queue
    /// Queues `line` for one client. Never waits: a full queue marks the client as too slow.
    fn send_to(&mut self, id: ClientId, line: Line) {
        if let Some(client) = self.clients.get(&id) {
            if !offer(client, line) {
                self.too_slow.push(id);
            }
        }
    }

    /// Queues `line` for every client that has a name, except client `id`.
    fn broadcast_to_others(&mut self, id: ClientId, line: Line) {
        for (&other, client) in &self.clients {
            if other != id && client.name.is_some() && !offer(client, Arc::clone(&line)) {
                self.too_slow.push(other);
            }
        }
    }
    // ANCHOR_END: queue

    // ANCHOR: remove
    /// Forgets client `id`, and tells the room why it left.
    fn remove(&mut self, id: ClientId, how: Leaving) {
        // Its reader reports the end of a connection the broker closed itself: nothing to do.
        let Some(client) = self.clients.remove(&id) else {
            return;
        };
        let who = client.describe();
        let (log, announcement) = match how {
            Leaving::Closed => (format!("{who} left"), "left".to_string()),
            Leaving::Quit => (format!("{who} left with /quit"), "left".to_string()),
            Leaving::Lost(why) => (
                format!("{who} left: {why}"),
                "left (connection lost)".to_string(),
            ),
            Leaving::TooSlow => {
                // Its writer may be stuck in a write that will never finish: shutting the
                // socket down makes that write fail, so the writer thread ends. (Where a system
                // does not wake a blocked write, `WRITE_TIMEOUT` ends it.)
                let _ = client.connection.shutdown(Shutdown::Both);
                (
                    format!("{who} cut off: it stopped reading"),
                    "was disconnected: they stopped reading their messages".to_string(),
                )
            }
        };
        println!("{log}");
        if let Some(name) = &client.name {
            self.broadcast_to_others(id, notice_line(&format!("{name} {announcement}")));
        }
        // Dropping `client` drops its `outgoing` sender: its writer sends what is still queued,
        // such as a goodbye, then closes the connection.
    }

    /// When the next newcomer's time to choose a name runs out, if anyone is waiting.
    fn next_name_deadline(&self) -> Option<Instant> {
        self.name_deadlines.front().map(|&(deadline, _)| deadline)
    }

    /// Tells every newcomer whose time ran out without a name so, and closes its connection.
    fn send_away_the_nameless(&mut self, now: Instant) {
        while let Some(&(deadline, id)) = self.name_deadlines.front() {
            if deadline > now {
                break;
            }
            self.name_deadlines.pop_front();
            let nameless = self
                .clients
                .get(&id)
                .is_some_and(|client| client.name.is_none());
            if !nameless {
                continue; // it chose a name in time, or it left
            }
            let seconds = self.name_time.as_secs_f64();
            let unit = if seconds == 1.0 { "second" } else { "seconds" };
            let goodbye = format!("you chose no name within {seconds} {unit}: goodbye");
            self.send_to(id, error_line(&goodbye));
            if let Some(client) = self.clients.remove(&id) {
                println!("{} sent away: no name within {seconds} {unit}", client.peer);
            }
            // Dropping the client drops its queue's sender: its writer sends the goodbye, then
            // closes the connection, and the seat is free once its reader has seen the end.
        }
    }

    fn cut_off_the_slow(&mut self) {
        // Telling the room that someone was cut off can fill yet another queue, so keep going
        // until nobody is left over.
        while let Some(id) = self.too_slow.pop() {
            self.remove(id, Leaving::TooSlow);
        }
    }
    // ANCHOR_END: remove
}

// ANCHOR: offer
/// Puts `line` in the client's queue if there is room. `false` means the queue is full.
fn offer(client: &Client, line: Line) -> bool {
    match client.outgoing.try_send(line) {
        Ok(()) => true,
        // Waiting for room here would make everyone wait for this one client.
        Err(TrySendError::Full(_)) => false,
        // Its writer has ended because the connection broke. Its reader will see that too, and
        // report it; until then, lines for it are simply dropped.
        Err(TrySendError::Disconnected(_)) => true,
    }
}
// ANCHOR_END: offer
// ANCHOR_END: broker

// ANCHOR: protocol
/// The first thing a client hears.
const WELCOME: &str = "Welcome to the chat! What is your name?";
/// What a client hears after a name is refused.
const ASK_NAME: &str = "What is your name?";
/// The answer to `/help`, one notice per line.
const HELP: [&str; 7] = [
    "Commands:",
    "  /who             list who is here",
    "  /nick NEW_NAME   change your name",
    "  /msg NAME TEXT   send TEXT to NAME only",
    "  /quit            leave the chat",
    "  /help            show this list",
    "Any other line goes to everyone else.",
];
// ANCHOR_END: protocol

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "04_chat",
    role: Role::Server,
    about: "Lesson 04: a chat room. Every line a client sends reaches every other client.",
    default_address: "127.0.0.1:65435",
    extra_usage: "[MAX_CLIENTS] [NAME_SECONDS]",
    max_extra_args: 2,
    try_it: "Join from two or more other terminals with any of:\n  \
             cargo run --bin 04_chat_client\n  nc 127.0.0.1 65435\n  telnet 127.0.0.1 65435\n\
             Type a name first, then chat; /help lists the commands.\n\n\
             MAX_CLIENTS is how many connections are served at once (default 1000); the next\n\
             one is told the chat is full and closed. NAME_SECONDS is how long a newcomer has to\n\
             choose a name (default 60; 0.5 means half a second) before it is told so and closed.\n\
             The tests pass small numbers to check these limits without opening a thousand\n\
             connections or waiting a minute.",
};
