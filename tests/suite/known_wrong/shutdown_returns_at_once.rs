//! Known wrong: the shutdown is told to every client, but nobody waits for their threads: `serve`
//! returns at once, and the program ends with them.

use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{RIGHT, Rules, Stop, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let wind_down = return_at_once;
    serve_with(listener, shutdown, grace, Rules { wind_down, ..RIGHT })
}

fn return_at_once(
    listener: TcpListener,
    stop: &Stop,
    grace: Duration,
    clients: Vec<JoinHandle<()>>,
) {
    drop(listener);
    stop.begin(Instant::now() + grace);
    // The mistake: nobody waits for the client threads.
    drop(clients);
}
