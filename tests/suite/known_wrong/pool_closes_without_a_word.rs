//! Known wrong: when the queue is full, the client is dropped without a word.

use std::net::{TcpListener, TcpStream};

use crossbeam_channel::{Sender, TrySendError};

use crate::check_proofs::pool_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    let hand_over = drop_when_full;
    serve_with(listener, workers, max_waiting, Rules { hand_over, ..RIGHT })
}

fn drop_when_full(waiting: &Sender<TcpStream>, stream: TcpStream) -> anyhow::Result<()> {
    match waiting.try_send(stream) {
        Ok(()) => {}
        // The mistake: the client is dropped without a word.
        Err(TrySendError::Full(stream)) => drop(stream),
        Err(TrySendError::Disconnected(_)) => anyhow::bail!("every worker has stopped"),
    }
    Ok(())
}
