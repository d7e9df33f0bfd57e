//! Known wrong: delivers to everyone but the sender, including clients still choosing a name,
//! who then hear a room they have not joined.

use std::net::TcpListener;
use std::sync::Arc;

use crate::check_proofs::chat_broker_rules::{RIGHT, Room, Rules, offer, serve_with};
use course::chat::{ClientId, Line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let broadcast_to_others = broadcast_to_the_unnamed_too;
    serve_with(
        listener,
        Rules {
            broadcast_to_others,
            ..RIGHT
        },
    )
}

fn broadcast_to_the_unnamed_too(room: &mut Room, id: ClientId, line: Line) {
    for (&other, client) in &room.clients {
        if other != id && !offer(client, Arc::clone(&line)) {
            room.too_slow.push(other);
        }
    }
}
