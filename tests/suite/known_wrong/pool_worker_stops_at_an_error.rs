//! Known wrong: a worker serves one client after another, but stops at the first client whose
//! connection fails: each reset costs the pool a worker, for good.

use std::net::{TcpListener, TcpStream};

use crossbeam_channel::Receiver;

use crate::check_proofs::pool_rules::{RIGHT, Rules, echo, serve_with};

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    let work = stop_at_an_error;
    serve_with(listener, workers, max_waiting, Rules { work, ..RIGHT })
}

fn stop_at_an_error(queue: Receiver<TcpStream>) {
    for stream in queue {
        if let Err(error) = echo(stream) {
            eprintln!("echo failed: {error:#}");
            // The mistake: the worker gives up with its client.
            return;
        }
    }
}
