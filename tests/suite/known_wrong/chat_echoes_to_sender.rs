//! Known wrong: delivers each message to everyone, its sender included.

use std::net::TcpListener;
use std::sync::Arc;

use crate::check_proofs::chat_broker_rules::{RIGHT, Room, Rules, offer, serve_with};
use course::chat::{ClientId, Line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let broadcast_to_others = broadcast_to_everyone;
    serve_with(
        listener,
        Rules {
            broadcast_to_others,
            ..RIGHT
        },
    )
}

fn broadcast_to_everyone(room: &mut Room, _id: ClientId, line: Line) {
    for (&other, client) in &room.clients {
        if client.name.is_some() && !offer(client, Arc::clone(&line)) {
            room.too_slow.push(other);
        }
    }
}
