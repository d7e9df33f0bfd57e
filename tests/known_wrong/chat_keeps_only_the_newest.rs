//! Known wrong: "to save work", the broker holds back chat lines until the room has been quiet
//! for a moment, keeping only each client's newest line. Lines sent at the same moment as
//! others are lost.

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use crate::chat_broker_rules::{RIGHT, Room, handle, serve_events};
use course::chat::{ClientId, Event, chat_line};
use crossbeam_channel::RecvTimeoutError;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let events = serve_events(listener)?;
    let mut room = Room::new();
    let mut newest: HashMap<ClientId, String> = HashMap::new();
    loop {
        match events.recv_timeout(Duration::from_millis(20)) {
            Ok(Event::Line { id, text })
                if room.get(&id).is_some_and(|member| member.name.is_some()) =>
            {
                newest.insert(id, text);
            }
            Ok(event) => handle(&RIGHT, &mut room, event),
            Err(RecvTimeoutError::Timeout) => {
                for (id, text) in newest.drain() {
                    let Some(name) = room.get(&id).and_then(|m| m.name.clone()) else {
                        continue;
                    };
                    (RIGHT.announce)(&RIGHT, &mut room, id, chat_line(&name, &text));
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}
