//! Known wrong: `remove` shuts down the connection of every client that leaves, not only of one
//! cut off as too slow, and then does what the reference solution does. A client that leaves
//! with `/quit` loses its goodbye whenever the shutdown comes before its writer has sent it: a
//! race, which the check's six quitters in a row lose for it.

use std::net::{Shutdown, TcpListener};

use crate::check_proofs::chat_broker_rules::{
    Leaving, RIGHT, Room, Rules, right_remove, serve_with,
};
use course::chat::ClientId;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let remove = shut_down_and_remove;
    serve_with(listener, Rules { remove, ..RIGHT })
}

fn shut_down_and_remove(room: &mut Room, id: ClientId, how: Leaving) {
    // The mistake: "take it out of the room" read as "close its connection", for everyone.
    if let Some(client) = room.clients.get(&id) {
        let _ = client.connection.shutdown(Shutdown::Both);
    }
    right_remove(room, id, how);
}
