//! Not an answer itself: the broker of exercise 04 with its two rules (`announce` and `leave`)
//! made swappable, so each known-wrong chat below differs from the reference solution in
//! exactly the rule it gets wrong.

use std::collections::HashMap;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;

pub use course::chat::Leaving;
use course::chat::{ClientId, Event, Line, chat_line, error_line, notice_line};
use crossbeam_channel::{Receiver, Sender, TrySendError};

pub type Room = HashMap<ClientId, Member>;

pub struct Member {
    pub name: Option<String>,
    pub outgoing: Sender<Line>,
    pub connection: Arc<TcpStream>,
}

/// The two rules a learner writes in exercise 04.
pub struct Rules {
    pub announce: fn(&Rules, &mut Room, ClientId, Line),
    pub leave: fn(&Rules, &mut Room, ClientId, Leaving),
}

/// The reference solution's rules.
pub const RIGHT: Rules = Rules { announce, leave };

pub fn serve_with(listener: TcpListener, rules: Rules) -> anyhow::Result<()> {
    let events = course::chat::start(listener, 100)?;
    let mut room = Room::new();
    for event in events {
        handle(&rules, &mut room, event);
    }
    Ok(())
}

pub fn serve_events(listener: TcpListener) -> anyhow::Result<Receiver<Event>> {
    Ok(course::chat::start(listener, 100)?)
}

/// The given part of exercise 04's broker: one event.
pub fn handle(rules: &Rules, room: &mut Room, event: Event) {
    match event {
        Event::Connected {
            id,
            outgoing,
            connection,
            ..
        } => {
            let _ = outgoing.try_send(notice_line("Welcome to the chat! What is your name?"));
            room.insert(
                id,
                Member {
                    name: None,
                    outgoing,
                    connection,
                },
            );
        }
        Event::Line { id, text } => {
            let Some(member) = room.get_mut(&id) else {
                return;
            };
            match &member.name {
                None => {
                    let name = text.trim().to_string();
                    let _ = member
                        .outgoing
                        .try_send(notice_line(&format!("Welcome, {name}!")));
                    member.name = Some(name.clone());
                    (rules.announce)(rules, room, id, notice_line(&format!("{name} joined")));
                }
                Some(name) => {
                    let line = chat_line(name, &text);
                    (rules.announce)(rules, room, id, line);
                }
            }
        }
        Event::Refused { id, why } => {
            if let Some(member) = room.get(&id) {
                let _ = member.outgoing.try_send(error_line(&why));
            }
        }
        Event::Disconnected { id, how } => (rules.leave)(rules, room, id, how),
    }
}

pub fn announce(rules: &Rules, room: &mut Room, except: ClientId, line: Line) {
    let mut too_slow = Vec::new();
    for (&id, member) in room.iter() {
        if id == except || member.name.is_none() {
            continue;
        }
        if let Err(TrySendError::Full(_)) = member.outgoing.try_send(Arc::clone(&line)) {
            too_slow.push(id);
        }
    }
    for id in too_slow {
        (rules.leave)(rules, room, id, Leaving::TooSlow);
    }
}

pub fn leave(rules: &Rules, room: &mut Room, id: ClientId, how: Leaving) {
    let Some(member) = room.remove(&id) else {
        return;
    };
    let what = match how {
        Leaving::TooSlow => {
            let _ = member.connection.shutdown(Shutdown::Both);
            "was disconnected: they stopped reading their messages"
        }
        _ => "left",
    };
    if let Some(name) = member.name {
        (rules.announce)(rules, room, id, notice_line(&format!("{name} {what}")));
    }
}
