//! Known wrong: a worker serves one client after another, and carries on after a client's
//! connection fails in the middle; but it asks each connection it takes for its peer's address
//! first, and stops when that fails: a client that gave up with a reset while it waited in the
//! queue costs the pool a worker, for good.

use std::net::{TcpListener, TcpStream};

use crossbeam_channel::Receiver;

use crate::check_proofs::pool_rules::{RIGHT, Rules, echo, serve_with};

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    let work = stop_at_a_broken_newcomer;
    serve_with(listener, workers, max_waiting, Rules { work, ..RIGHT })
}

fn stop_at_a_broken_newcomer(queue: Receiver<TcpStream>) {
    for stream in queue {
        let peer = match stream.peer_addr() {
            Ok(peer) => peer,
            Err(error) => {
                eprintln!("a client left before it was served: {error}");
                // The mistake: the worker gives up with a client it never served.
                return;
            }
        };
        if let Err(error) = echo(stream) {
            eprintln!("{peer}: echo failed: {error:#}");
        }
    }
}
