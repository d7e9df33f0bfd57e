//! Known wrong: tells the room `NAME left` however the client went, even when its connection
//! broke; only a cut-off gets its own words.

use std::net::{Shutdown, TcpListener};

use crate::check_proofs::chat_broker_rules::{Leaving, RIGHT, Room, Rules, serve_with};
use course::chat::{ClientId, notice_line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let remove = remove_all_alike;
    serve_with(listener, Rules { remove, ..RIGHT })
}

fn remove_all_alike(room: &mut Room, id: ClientId, how: Leaving) {
    let Some(client) = room.clients.remove(&id) else {
        return;
    };
    let what = match how {
        Leaving::TooSlow => {
            let _ = client.connection.shutdown(Shutdown::Both);
            "was disconnected: they stopped reading their messages"
        }
        _ => "left",
    };
    if let Some(name) = client.name {
        room.broadcast_to_others(id, notice_line(&format!("{name} {what}")));
    }
}
