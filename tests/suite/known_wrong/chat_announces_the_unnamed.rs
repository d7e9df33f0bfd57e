//! Known wrong: announces every leave, even of a connection that never picked a name.

use std::net::{Shutdown, TcpListener};

use crate::check_proofs::chat_broker_rules::{Leaving, RIGHT, Room, Rules, serve_with};
use course::chat::{ClientId, notice_line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let remove = remove_announcing_anyone;
    serve_with(listener, Rules { remove, ..RIGHT })
}

fn remove_announcing_anyone(room: &mut Room, id: ClientId, how: Leaving) {
    let Some(client) = room.clients.remove(&id) else {
        return;
    };
    let what = match how {
        Leaving::Closed | Leaving::Quit => "left",
        Leaving::Lost(_) => "left (connection lost)",
        Leaving::TooSlow => {
            let _ = client.connection.shutdown(Shutdown::Both);
            "was disconnected: they stopped reading their messages"
        }
    };
    let name = client.name.unwrap_or_else(|| "someone".to_string());
    room.broadcast_to_others(id, notice_line(&format!("{name} {what}")));
}
