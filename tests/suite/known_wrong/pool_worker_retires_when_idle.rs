//! Known wrong: a worker waits for the next connection at most a second, and ends when none came
//! (`recv_timeout`'s Timeout taken for the end of the queue): an idle pool loses every worker.

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::check_proofs::pool_rules::{RIGHT, Rules, echo, serve_with};

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    let work = retire_when_idle;
    serve_with(listener, workers, max_waiting, Rules { work, ..RIGHT })
}

fn retire_when_idle(queue: Receiver<TcpStream>) {
    // The mistake: any error of recv_timeout ends the loop, a Timeout as well as Disconnected.
    while let Ok(stream) = queue.recv_timeout(Duration::from_secs(1)) {
        if let Err(error) = echo(stream) {
            eprintln!("echo failed: {error:#}");
        }
    }
}
