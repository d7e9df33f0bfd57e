//! Known wrong: `remove` looks at the name first, and a client that never chose one is never
//! taken out of the room: its queue, its writer and its connection live on.

use std::net::{Shutdown, TcpListener};

use crate::check_proofs::chat_broker_rules::{Leaving, RIGHT, Room, Rules, serve_with};
use course::chat::{ClientId, notice_line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let remove = remove_the_named_only;
    serve_with(listener, Rules { remove, ..RIGHT })
}

fn remove_the_named_only(room: &mut Room, id: ClientId, how: Leaving) {
    let Some(name) = room.clients.get(&id).and_then(|client| client.name.clone()) else {
        return;
    };
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
    room.broadcast_to_others(id, notice_line(&format!("{name} {announcement}")));
}
