//! Exercise 04: the heart of a chat room.
//!
//! This is lesson 04's chat, a little smaller: the plumbing (`course::chat::start`, a reader and
//! a writer thread per client) and the broker's loop are given, with the same `Room`, `Client`,
//! `send_to` and `cut_off_the_slow` as in the lesson. Write the broker's two rules, as the
//! lesson does:
//!
//! - `broadcast_to_others` queues a line for every client that has a name, except one: the
//!   sender of a message, or the newcomer who joined. Clients still choosing a name hear
//!   nothing. It never waits: a client whose queue is full goes on the `too_slow` list, to be
//!   cut off once the current event is handled.
//! - `remove` takes a client out of the room, and tells everyone else, if it had a name:
//!   `* NAME left` when it closed its connection or typed /quit, `* NAME left (connection lost)`
//!   when its connection broke (a reset, or a hang-up in the middle of a line), and, for a client
//!   cut off as too slow, `* NAME was disconnected: they stopped reading their messages`. A client
//!   that never picked a name leaves without a word.
//!
//! Check it:       cargo test -p exercises 04
//! Try it by hand: cargo run -p exercises --bin ex04_chat
//!                 then, in two or more terminals: cargo run --bin 04_chat_client
//! Hints are in the book, chapter "04: A chat server".

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use course::chat::{ClientId, Event, Leaving, Line, chat_line, error_line, notice_line};
use crossbeam_channel::{Receiver, Sender, TrySendError};

/// How many clients may be connected at once.
const MAX_CLIENTS: usize = 100;

/// Serves the chat on `listener` until the program is stopped.
pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let events = course::chat::start(listener, MAX_CLIENTS)?;
    run_broker(events);
    Ok(())
}

// ANCHOR: broker
/// The broker: handles events one at a time, in the order they arrive. Only this thread touches
/// the room, so it needs no lock.
fn run_broker(events: Receiver<Event>) {
    let mut room = Room::default();
    for event in events {
        match event {
            Event::Connected {
                id,
                outgoing,
                connection,
                ..
            } => room.arrive(id, outgoing, connection),
            Event::Line { id, text } => room.hear(id, &text),
            Event::LineRefused { id, why } => room.send_to(id, error_line(&why)),
            Event::Disconnected { id, how } => room.remove(id, how),
        }
        room.cut_off_the_slow();
    }
}

/// Everyone connected, as the broker sees them.
#[derive(Default)]
struct Room {
    /// Every connection, named or still choosing a name, in the order they connected: ids count
    /// up, and a `BTreeMap` keeps its keys in order, so a broadcast reaches the room in the same
    /// order on every run (a `HashMap`'s order changes from run to run).
    clients: BTreeMap<ClientId, Client>,
    /// Clients whose queue was full when the broker added to it. They are cut off once the
    /// current event is handled.
    too_slow: Vec<ClientId>,
}

/// One connection, as the broker sees it. Owned by the [`Room`].
struct Client {
    /// `None` while it is still choosing a name; until then, it hears nothing from the room.
    name: Option<String>,
    /// Lines waiting for this client. Its writer thread holds the receiving end; when the broker
    /// drops this sender, the writer sends what is left and closes the connection.
    outgoing: Sender<Line>,
    /// The socket, kept only to cut the client off.
    #[allow(dead_code)] // `remove` reads it, once you have written it.
    connection: Arc<TcpStream>,
}

impl Room {
    fn arrive(&mut self, id: ClientId, outgoing: Sender<Line>, connection: Arc<TcpStream>) {
        let client = Client {
            name: None,
            outgoing,
            connection,
        };
        self.clients.insert(id, client);
        self.send_to(id, notice_line("Welcome to the chat! What is your name?"));
    }

    /// Handles one line from client `id`: its name, `/quit`, or a message for the room.
    fn hear(&mut self, id: ClientId, text: &str) {
        // The client may be gone already (cut off, or quit) while its reader was still sending.
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        let text = text.trim();
        match client.name.clone() {
            None if text.is_empty() => self.send_to(id, notice_line("What is your name?")),
            None => {
                client.name = Some(text.to_string());
                self.send_to(id, notice_line(&format!("Welcome, {text}!")));
                self.broadcast_to_others(id, notice_line(&format!("{text} joined")));
            }
            Some(name) if text == "/quit" => {
                self.send_to(id, notice_line(&format!("Goodbye, {name}!")));
                self.remove(id, Leaving::Quit);
            }
            Some(_) if text.starts_with('/') => {
                self.send_to(id, error_line("the only command here is /quit"));
            }
            Some(name) if !text.is_empty() => self.broadcast_to_others(id, chat_line(&name, text)),
            Some(_) => {} // empty lines are ignored
        }
    }

    /// Queues `line` for one client. Never waits: a full queue marks the client as too slow.
    fn send_to(&mut self, id: ClientId, line: Line) {
        if let Some(client) = self.clients.get(&id) {
            if !offer(client, line) {
                self.too_slow.push(id);
            }
        }
    }

    fn cut_off_the_slow(&mut self) {
        // Telling the room that someone was cut off can fill yet another queue, so keep going
        // until nobody is left over.
        while let Some(id) = self.too_slow.pop() {
            self.remove(id, Leaving::TooSlow);
        }
    }
}

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
// ANCHOR_END: broker

// ANCHOR: rules
impl Room {
    /// Queues `line` for every client that has a name, except client `id`.
    fn broadcast_to_others(&mut self, id: ClientId, line: Line) {
        // TODO: offer a copy of `line` (`Arc::clone(&line)`) to every client in
        // `self.clients` that has a name, except client `id`. Never wait: a client whose queue
        // is full (`offer` returns false) goes on `self.too_slow`.
        todo!("broadcast_to_others: queue {line:?} for everyone but client {id}")
    }

    /// Forgets client `id`, and tells the room why it left.
    fn remove(&mut self, id: ClientId, how: Leaving) {
        // TODO: take client `id` out of `self.clients` (it may be gone already: then do
        // nothing). Dropping it lets go of its queue: its writer then sends what is left and
        // ends, and only then is its seat free. If it had a name, tell everyone else how it
        // left: `NAME left`,
        // `NAME left (connection lost)` or `NAME was disconnected: they stopped reading their
        // messages` (`notice_line` adds the "* "). Shut down the connection of a client cut
        // off as too slow: its writer may be stuck writing to it.
        todo!("remove: take client {id} out of the room, and tell the others it left ({how:?})")
    }
}
// ANCHOR_END: rules
