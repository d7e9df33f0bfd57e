//! Known right, though unlike the solution: `broadcast_to_others` written with iterators, and
//! `remove` with the announcement chosen by `Option` combinators.

use std::net::{Shutdown, TcpListener};
use std::sync::Arc;

use crate::check_proofs::chat_broker_rules::{Leaving, Room, Rules, offer, serve_with};
use course::chat::{ClientId, Line, notice_line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let rules = Rules {
        broadcast_to_others,
        remove,
    };
    serve_with(listener, rules)
}

fn broadcast_to_others(room: &mut Room, id: ClientId, line: Line) {
    let full: Vec<ClientId> = room
        .clients
        .iter()
        .filter(|(other, client)| **other != id && client.name.is_some())
        .filter(|(_, client)| !offer(client, Arc::clone(&line)))
        .map(|(other, _)| *other)
        .collect();
    room.too_slow.extend(full);
}

fn remove(room: &mut Room, id: ClientId, how: Leaving) {
    let Some(client) = room.clients.remove(&id) else {
        return;
    };
    if matches!(how, Leaving::TooSlow) {
        let _ = client.connection.shutdown(Shutdown::Both);
    }
    let words = match how {
        Leaving::Lost(_) => "left (connection lost)",
        Leaving::TooSlow => "was disconnected: they stopped reading their messages",
        Leaving::Closed | Leaving::Quit => "left",
    };
    if let Some(announcement) = client.name.map(|name| format!("{name} {words}")) {
        room.broadcast_to_others(id, notice_line(&announcement));
    }
}
