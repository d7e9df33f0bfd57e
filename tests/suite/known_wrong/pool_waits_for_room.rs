//! Known wrong: the accept loop waits for room in the queue (`send`), so nobody is turned away
//! and, meanwhile, nobody is accepted.

use std::net::{TcpListener, TcpStream};

use crossbeam_channel::Sender;

use crate::check_proofs::pool_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    let hand_over = wait_for_room;
    serve_with(listener, workers, max_waiting, Rules { hand_over, ..RIGHT })
}

fn wait_for_room(waiting: &Sender<TcpStream>, stream: TcpStream) -> anyhow::Result<()> {
    // The mistake: `send` waits for room, and meanwhile nobody accepts.
    if waiting.send(stream).is_err() {
        anyhow::bail!("every worker has stopped");
    }
    Ok(())
}
