//! Known wrong: the shutdown is told to every client and waited for, but the listener lives on
//! until `serve` returns, so newcomers are still accepted (into the backlog) meanwhile.

use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{RIGHT, Rules, Stop, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let wind_down = keep_listening;
    serve_with(listener, shutdown, grace, Rules { wind_down, ..RIGHT })
}

fn keep_listening(
    listener: TcpListener,
    stop: &Stop,
    grace: Duration,
    clients: Vec<JoinHandle<()>>,
) {
    stop.begin(Instant::now() + grace);
    for client in clients {
        let _ = client.join();
    }
    // The mistake: the listener lives on until the end of serve().
    drop(listener);
}
