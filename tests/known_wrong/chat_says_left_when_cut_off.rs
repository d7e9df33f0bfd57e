//! Known wrong: cuts a slow client off, but tells the room it simply left.

use std::net::{Shutdown, TcpListener};

use crate::chat_broker_rules::{Leaving, RIGHT, Room, Rules, serve_with};
use course::chat::{ClientId, notice_line};

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(listener, Rules { leave, ..RIGHT })
}

fn leave(rules: &Rules, room: &mut Room, id: ClientId, _how: Leaving) {
    let Some(member) = room.remove(&id) else {
        return;
    };
    let _ = member.connection.shutdown(Shutdown::Both);
    if let Some(name) = member.name {
        (rules.announce)(rules, room, id, notice_line(&format!("{name} left")));
    }
}
