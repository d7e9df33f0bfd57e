//! Known wrong: never waits (try_send), but ignores a full queue instead of cutting its client
//! off. The slow client silently misses lines, and holds its seat for ever.

use std::net::TcpListener;
use std::sync::Arc;

use crate::chat_broker_rules::{RIGHT, Room, Rules, serve_with};
use course::chat::{ClientId, Line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(listener, Rules { announce, ..RIGHT })
}

fn announce(_rules: &Rules, room: &mut Room, except: ClientId, line: Line) {
    for (&id, member) in room.iter() {
        if id != except && member.name.is_some() {
            let _ = member.outgoing.try_send(Arc::clone(&line));
        }
    }
}
