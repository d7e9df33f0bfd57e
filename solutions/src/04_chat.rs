//! Exercise 04: the heart of a chat room.
//!
//! The chat's plumbing is given: `course::chat::start` accepts clients and runs a reader and a
//! writer thread for each, exactly as in lesson 04. The broker is given too, up to two
//! functions that decide who receives what. Write them:
//!
//! - `announce` puts a line in the queue of every client in the room except one: the sender of
//!   a message, or the newcomer who joined. It must never wait for a client: a client whose queue
//!   is full has stopped reading, and is cut off (with `leave`).
//! - `leave` takes a client out of the room and tells everyone else: `* NAME left`, or, for a
//!   client that was cut off, `* NAME was disconnected: they stopped reading their messages`.
//!
//! Check it:       cargo test -p exercises 04
//! Try it by hand: cargo run -p exercises --bin ex04_chat
//!                 then, in two or more terminals: cargo run --bin 04_chat_client
//! Hints are in the book, chapter "04: A chat server".

use std::collections::HashMap;
use std::net::{Shutdown, TcpListener, TcpStream};
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

/// Everyone connected, by the id the plumbing gave them. Only the broker thread touches it.
type Room = HashMap<ClientId, Member>;

/// One client, as the broker sees it.
struct Member {
    /// `None` until the client has sent its first line, which is its name.
    name: Option<String>,
    /// The client's queue of lines to send. Its writer thread holds the other end; dropping
    /// this sender lets the writer send what is left, then close the connection.
    outgoing: Sender<Line>,
    /// The connection itself, kept only to cut the client off.
    connection: Arc<TcpStream>,
}

// ANCHOR: broker
/// Handles every event from every client, one at a time, in the order they happened.
pub fn run_broker(events: Receiver<Event>) {
    let mut room = Room::new();
    for event in events {
        match event {
            Event::Connected {
                id,
                outgoing,
                connection,
                ..
            } => {
                // A brand-new queue has room for this line.
                let _ = outgoing.try_send(notice_line("Welcome to the chat! What is your name?"));
                let member = Member {
                    name: None,
                    outgoing,
                    connection,
                };
                room.insert(id, member);
            }
            Event::Line { id, text } => {
                let Some(member) = room.get_mut(&id) else {
                    continue; // cut off already; its last lines no longer matter
                };
                match &member.name {
                    None if text.trim().is_empty() => {
                        let _ = member.outgoing.try_send(notice_line("What is your name?"));
                    }
                    None => {
                        let name = text.trim().to_string();
                        let _ = member
                            .outgoing
                            .try_send(notice_line(&format!("Welcome, {name}!")));
                        member.name = Some(name.clone());
                        announce(&mut room, id, notice_line(&format!("{name} joined")));
                    }
                    Some(name) if !text.trim().is_empty() => {
                        let line = chat_line(name, &text);
                        announce(&mut room, id, line);
                    }
                    Some(_) => {} // empty lines are ignored
                }
            }
            Event::Refused { id, why } => {
                if let Some(member) = room.get(&id) {
                    let _ = member.outgoing.try_send(error_line(&why));
                }
            }
            Event::Disconnected { id, how } => leave(&mut room, id, how),
        }
    }
}
// ANCHOR_END: broker

// ANCHOR: announce
/// Puts `line` in the queue of every client that has a name, except client `except`. Never
/// waits: a client whose queue is full is cut off instead.
fn announce(room: &mut Room, except: ClientId, line: Line) {
    let mut too_slow = Vec::new();
    for (&id, member) in room.iter() {
        if id == except || member.name.is_none() {
            continue;
        }
        // `send` would wait for room in the queue, and the whole chat would wait with it.
        if let Err(TrySendError::Full(_)) = member.outgoing.try_send(Arc::clone(&line)) {
            too_slow.push(id);
        }
        // A `Disconnected` error means the writer has already ended: the reader will report
        // the client gone, and `leave` will tell the room then.
    }
    for id in too_slow {
        leave(room, id, Leaving::TooSlow);
    }
}

/// Takes client `id` out of the room, and tells everyone else.
fn leave(room: &mut Room, id: ClientId, how: Leaving) {
    let Some(member) = room.remove(&id) else {
        return; // already gone: cut off, and now its reader says so too
    };
    let what = match how {
        Leaving::TooSlow => {
            // Its writer may be stuck writing to a client that never reads: shutting the
            // connection down makes that write fail, so the writer thread ends.
            let _ = member.connection.shutdown(Shutdown::Both);
            "was disconnected: they stopped reading their messages"
        }
        // Closed, or lost on the way: to the room, it has left either way.
        _ => "left",
    };
    if let Some(name) = member.name {
        announce(room, id, notice_line(&format!("{name} {what}")));
    }
}
// ANCHOR_END: announce
