//! Known wrong: each worker starts a thread per connection it takes, so the pool limits nothing.

use std::net::{TcpListener, TcpStream};
use std::thread;

use crossbeam_channel::Receiver;

use crate::check_proofs::pool_rules::{RIGHT, Rules, echo, serve_with};

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    let work = thread_per_connection;
    serve_with(listener, workers, max_waiting, Rules { work, ..RIGHT })
}

fn thread_per_connection(queue: Receiver<TcpStream>) {
    for stream in queue {
        // The mistake: a thread per connection after all, so the pool limits nothing.
        thread::spawn(move || {
            if let Err(error) = echo(stream) {
                eprintln!("echo failed: {error:#}");
            }
        });
    }
}
