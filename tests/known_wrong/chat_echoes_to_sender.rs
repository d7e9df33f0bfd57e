//! Known wrong: delivers each message to everyone, its sender included.

use std::net::TcpListener;
use std::sync::Arc;

use crate::chat_broker_rules::{RIGHT, Room, Rules, serve_with};
use course::chat::{ClientId, Line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(listener, Rules { announce, ..RIGHT })
}

fn announce(_rules: &Rules, room: &mut Room, _except: ClientId, line: Line) {
    for member in room.values().filter(|member| member.name.is_some()) {
        let _ = member.outgoing.try_send(Arc::clone(&line));
    }
}
