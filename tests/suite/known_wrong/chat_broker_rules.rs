//! Not an answer itself: exercise 04's given broker, copied from the reference solution item
//! for item, with its two rules (`broadcast_to_others` and `remove`) made swappable. So each
//! known-wrong chat differs from the reference solution in exactly the rule it gets wrong, and
//! `given_broker_is_the_solutions` in tests/suite/check_proofs.rs fails if this copy drifts.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;

pub use course::chat::Leaving;
use course::chat::{ClientId, Event, Line, chat_line, error_line, notice_line};
use crossbeam_channel::{Receiver, Sender, TrySendError};

/// The two rules a learner writes in exercise 04.
#[derive(Clone, Copy)]
pub struct Rules {
    pub broadcast_to_others: fn(&mut Room, ClientId, Line),
    pub remove: fn(&mut Room, ClientId, Leaving),
}

/// The reference solution's rules.
pub const RIGHT: Rules = Rules {
    broadcast_to_others: right_broadcast_to_others,
    remove: right_remove,
};

thread_local! {
    /// The rules of the broker running on this thread. `serve` runs the broker on the thread it
    /// was called on, so each check's broker has its own.
    static RULES: Cell<Rules> = const { Cell::new(RIGHT) };
}

/// Exercise 04's `serve`, with `rules` for the two rules.
pub fn serve_with(listener: TcpListener, rules: Rules) -> anyhow::Result<()> {
    RULES.with(|cell| cell.set(rules));
    let events = course::chat::start(listener, 100)?;
    run_broker(events);
    Ok(())
}

/// The plumbing alone, for a wrong answer that changes the broker's loop itself.
pub fn start(listener: TcpListener, rules: Rules) -> anyhow::Result<Receiver<Event>> {
    RULES.with(|cell| cell.set(rules));
    Ok(course::chat::start(listener, 100)?)
}

impl Room {
    pub fn broadcast_to_others(&mut self, id: ClientId, line: Line) {
        (RULES.with(Cell::get).broadcast_to_others)(self, id, line)
    }

    pub fn remove(&mut self, id: ClientId, how: Leaving) {
        (RULES.with(Cell::get).remove)(self, id, how)
    }
}

// The given broker, item for item as in solutions/src/04_chat.rs.

/// The broker: handles events one at a time, in the order they arrive. Only this thread touches
/// the room, so it needs no lock.
pub fn run_broker(events: Receiver<Event>) {
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
pub struct Room {
    /// Every connection, named or still choosing a name, in the order they connected: ids count
    /// up, and a `BTreeMap` keeps its keys in order, so a broadcast reaches the room in the same
    /// order on every run (a `HashMap`'s order changes from run to run).
    pub clients: BTreeMap<ClientId, Client>,
    /// Clients whose queue was full when the broker added to it. They are cut off once the
    /// current event is handled.
    pub too_slow: Vec<ClientId>,
}

/// One connection, as the broker sees it. Owned by the [`Room`].
pub struct Client {
    /// `None` while it is still choosing a name; until then, it hears nothing from the room.
    pub name: Option<String>,
    /// Lines waiting for this client. Its writer thread holds the receiving end; when the broker
    /// drops this sender, the writer sends what is left and closes the connection.
    pub outgoing: Sender<Line>,
    /// The socket, kept only to cut the client off.
    pub connection: Arc<TcpStream>,
}

impl Room {
    pub fn arrive(&mut self, id: ClientId, outgoing: Sender<Line>, connection: Arc<TcpStream>) {
        let client = Client {
            name: None,
            outgoing,
            connection,
        };
        self.clients.insert(id, client);
        self.send_to(id, notice_line("Welcome to the chat! What is your name?"));
    }

    /// Handles one line from client `id`: its name, `/quit`, or a message for the room.
    pub fn hear(&mut self, id: ClientId, text: &str) {
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
    pub fn send_to(&mut self, id: ClientId, line: Line) {
        if let Some(client) = self.clients.get(&id) {
            if !offer(client, line) {
                self.too_slow.push(id);
            }
        }
    }

    pub fn cut_off_the_slow(&mut self) {
        // Telling the room that someone was cut off can fill yet another queue, so keep going
        // until nobody is left over.
        while let Some(id) = self.too_slow.pop() {
            self.remove(id, Leaving::TooSlow);
        }
    }
}

/// Puts `line` in the client's queue if there is room. `false` means the queue is full.
pub fn offer(client: &Client, line: Line) -> bool {
    match client.outgoing.try_send(line) {
        Ok(()) => true,
        // Waiting for room here would make everyone wait for this one client.
        Err(TrySendError::Full(_)) => false,
        // Its writer has ended because the connection broke. Its reader will see that too, and
        // report it; until then, lines for it are simply dropped.
        Err(TrySendError::Disconnected(_)) => true,
    }
}

// The reference solution's rules, as plain functions.

/// Queues `line` for every client that has a name, except client `id`.
pub fn right_broadcast_to_others(room: &mut Room, id: ClientId, line: Line) {
    for (&other, client) in &room.clients {
        // One `Arc` for everyone: cloning it copies a pointer, not the text.
        if other != id && client.name.is_some() && !offer(client, Arc::clone(&line)) {
            room.too_slow.push(other);
        }
    }
}

/// Forgets client `id`, and tells the room why it left.
pub fn right_remove(room: &mut Room, id: ClientId, how: Leaving) {
    // Its reader reports the end of a connection the broker closed itself: nothing to do.
    let Some(client) = room.clients.remove(&id) else {
        return;
    };
    let announcement = match how {
        Leaving::Closed | Leaving::Quit => "left",
        Leaving::Lost(_) => "left (connection lost)",
        Leaving::TooSlow => {
            // Its writer may be stuck in a write that will never finish: shutting the
            // socket down makes that write fail, so the writer thread ends.
            let _ = client.connection.shutdown(Shutdown::Both);
            "was disconnected: they stopped reading their messages"
        }
    };
    if let Some(name) = &client.name {
        room.broadcast_to_others(id, notice_line(&format!("{name} {announcement}")));
    }
    // Dropping `client` drops its `outgoing` sender: its writer sends what is still queued,
    // such as a goodbye, then closes the connection.
}
