//! Known wrong: each worker serves one client, and then is done.

use std::net::{TcpListener, TcpStream};

use crossbeam_channel::Receiver;

use crate::check_proofs::pool_rules::{RIGHT, Rules, echo, serve_with};

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    let work = serve_one_client;
    serve_with(listener, workers, max_waiting, Rules { work, ..RIGHT })
}

fn serve_one_client(queue: Receiver<TcpStream>) {
    // The mistake: one connection, and the worker is done.
    if let Ok(stream) = queue.recv() {
        if let Err(error) = echo(stream) {
            eprintln!("echo failed: {error:#}");
        }
    }
}
