//! Known wrong: `send` instead of `try_send`, so the broker waits for room in a full queue, and
//! the whole chat waits with it.

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
            let _ = member.outgoing.send(Arc::clone(&line));
        }
    }
}
