//! Known wrong: cuts a slow client off, but tells the room it simply left.

use std::net::{Shutdown, TcpListener};

use crate::check_proofs::chat_broker_rules::{Leaving, RIGHT, Room, Rules, serve_with};
use course::chat::{ClientId, notice_line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let remove = remove_saying_left;
    serve_with(listener, Rules { remove, ..RIGHT })
}

fn remove_saying_left(room: &mut Room, id: ClientId, how: Leaving) {
    let Some(client) = room.clients.remove(&id) else {
        return;
    };
    let what = match how {
        Leaving::Lost(_) => "left (connection lost)",
        Leaving::TooSlow => {
            let _ = client.connection.shutdown(Shutdown::Both);
            "left"
        }
        _ => "left",
    };
    if let Some(name) = client.name {
        room.broadcast_to_others(id, notice_line(&format!("{name} {what}")));
    }
}
