//! Known wrong: an exercise whose work has not started yet.

use std::net::TcpListener;

pub fn serve(_listener: TcpListener) -> anyhow::Result<()> {
    todo!("serve each client on a thread of its own")
}
