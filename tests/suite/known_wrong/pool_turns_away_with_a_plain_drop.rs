//! Known wrong: the accept loop writes the busy line itself and drops the stream, instead of
//! calling `turn_away`: a client that sends anything after the close gets a reset, which can
//! erase the busy line.

use std::io::Write;
use std::net::{TcpListener, TcpStream};

use crossbeam_channel::{Sender, TrySendError};

use crate::check_proofs::pool_rules::{BUSY, RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    let hand_over = drop_when_full;
    serve_with(listener, workers, max_waiting, Rules { hand_over, ..RIGHT })
}

fn drop_when_full(waiting: &Sender<TcpStream>, stream: TcpStream) -> anyhow::Result<()> {
    match waiting.try_send(stream) {
        Ok(()) => {}
        Err(TrySendError::Full(mut stream)) => {
            let _ = stream.write_all(BUSY.as_bytes());
            // The mistake: a plain drop closes the socket outright.
        }
        Err(TrySendError::Disconnected(_)) => anyhow::bail!("every worker has stopped"),
    }
    Ok(())
}
