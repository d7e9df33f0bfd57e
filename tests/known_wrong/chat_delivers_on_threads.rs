//! Known wrong: hands each delivery to a thread of its own, "so nobody waits for anybody".
//! Lines then overtake each other, and clients hear them in different orders.

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use crate::chat_broker_rules::{RIGHT, Room, Rules, serve_with};
use course::chat::{ClientId, Line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(listener, Rules { announce, ..RIGHT })
}

fn announce(_rules: &Rules, room: &mut Room, except: ClientId, line: Line) {
    for (&id, member) in room.iter() {
        if id != except && member.name.is_some() {
            let outgoing = member.outgoing.clone();
            let line = Arc::clone(&line);
            thread::spawn(move || outgoing.send(line));
        }
    }
}
