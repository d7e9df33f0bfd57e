//! Known wrong: `broadcast_to_others` is right, but `remove` tells everyone how someone left,
//! clients still choosing a name included.

use std::net::{Shutdown, TcpListener};
use std::sync::Arc;

use crate::check_proofs::chat_broker_rules::{Leaving, RIGHT, Room, Rules, offer, serve_with};
use course::chat::{ClientId, notice_line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let remove = remove_telling_everyone;
    serve_with(listener, Rules { remove, ..RIGHT })
}

fn remove_telling_everyone(room: &mut Room, id: ClientId, how: Leaving) {
    let Some(client) = room.clients.remove(&id) else {
        return;
    };
    let announcement = match how {
        Leaving::Closed | Leaving::Quit => "left",
        Leaving::Lost(_) => "left (connection lost)",
        Leaving::TooSlow => {
            let _ = client.connection.shutdown(Shutdown::Both);
            "was disconnected: they stopped reading their messages"
        }
    };
    let Some(name) = &client.name else {
        return;
    };
    let line = notice_line(&format!("{name} {announcement}"));
    for (&other, client) in &room.clients {
        if !offer(client, Arc::clone(&line)) {
            room.too_slow.push(other);
        }
    }
}
