//! Lesson 10's room: who is here, and who hears what. It is lesson 04's room (`lessons/04_chat.rs`),
//! line for line, except at the three places where it reaches a client: `arrive` keeps a handle
//! on the client's writer task, `offer` puts a line in a tokio queue, and `remove` cuts a slow
//! client off by aborting its writer task. A test
//! (`room_is_lesson_04s` in `async-lessons/tests/suite/lesson_10_async_chat.rs`) keeps the two
//! alike. One method is lesson 10's own: `a_writer_lags`, which the broker asks after each event.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use course::chat::{
    ClientId, Leaving, Line, OUTGOING_QUEUE_LINES, chat_line, error_line, notice_line, private_line,
};
use tokio::sync::mpsc::Sender;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::AbortHandle;

use crate::MAX_NAME_CHARS;

/// Everyone connected, as the broker sees them.
pub struct Room {
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
    /// Lines waiting for this client. Its writer task holds the receiving end; when the broker
    /// drops this sender, the writer sends what is left and closes the connection.
    outgoing: Sender<Line>,
    /// Stops the writer task, to cut the client off.
    writer: AbortHandle,
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

// From here on, the room is lesson 04's, line for line, except where it reaches a client:
// `arrive` (a handle on the writer task), `offer` (tokio's `try_send`) and `remove` (aborting
// the writer task).
impl Room {
    pub fn new(name_time: Duration) -> Room {
        Room {
            clients: BTreeMap::new(),
            too_slow: Vec::new(),
            name_time,
            name_deadlines: VecDeque::new(),
        }
    }

    pub fn arrive(
        &mut self,
        id: ClientId,
        peer: SocketAddr,
        outgoing: Sender<Line>,
        writer: AbortHandle,
    ) {
        println!("{peer} connected");
        let client = Client {
            peer,
            name: None,
            outgoing,
            writer,
        };
        self.clients.insert(id, client);
        self.name_deadlines
            .push_back((Instant::now() + self.name_time, id));
        self.send_to(id, notice_line(WELCOME));
    }

    /// Handles one line from client `id`: a name, a command, or a message for the room.
    pub fn hear(&mut self, id: ClientId, text: &str) {
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
        if !wanted.chars().all(allowed) {
            return Some("a name may hold only the letters a-z and A-Z, digits, - and _".into());
        }
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

    /// Queues `line` for one client. Never waits: a full queue marks the client as too slow.
    pub fn send_to(&mut self, id: ClientId, line: Line) {
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

    // ANCHOR: remove
    /// Forgets client `id`, and tells the room why it left.
    pub fn remove(&mut self, id: ClientId, how: Leaving) {
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
                // Its writer may wait in a write that will never finish. Aborting the task
                // drops it at that `.await`, which closes our side of the socket; its reader
                // sees the writer end, and stops too. (A writer that gave up by itself after
                // WRITE_TIMEOUT has ended already: aborting it does nothing.)
                client.writer.abort();
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
    }
    // ANCHOR_END: remove

    /// When the next newcomer's time to choose a name runs out, if anyone is waiting.
    pub fn next_name_deadline(&self) -> Option<Instant> {
        self.name_deadlines.front().map(|&(deadline, _)| deadline)
    }

    /// Tells every newcomer whose time ran out without a name so, and closes its connection.
    pub fn send_away_the_nameless(&mut self, now: Instant) {
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
            // Dropping the client drops its queue's sender: its writer task sends the goodbye,
            // then closes the connection, and the seat is free once its reader task has seen the
            // end.
        }
    }

    /// Whether some client's queue is more than half full: its writer has not run for a while.
    pub fn a_writer_lags(&self) -> bool {
        let half = OUTGOING_QUEUE_LINES / 2;
        self.clients
            .values()
            .any(|client| client.outgoing.capacity() < half)
    }

    pub fn cut_off_the_slow(&mut self) {
        while let Some(id) = self.too_slow.pop() {
            self.remove(id, Leaving::TooSlow);
        }
    }
}

// ANCHOR: offer
/// Puts `line` in the client's queue if there is room. `false` means the queue is full.
fn offer(client: &Client, line: Line) -> bool {
    // tokio's `try_send`, like crossbeam's, never waits. (Its `send` would not block the thread
    // either, only this task: but this task is the broker, and the whole room would wait.)
    match client.outgoing.try_send(line) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => false,
        // Its writer has ended; its reader will report the client gone.
        Err(TrySendError::Closed(_)) => true,
    }
}
// ANCHOR_END: offer

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
