//! Known wrong: the shutdown is right in every step but one: the deadline is three quarters of
//! the grace period away, not the whole of it, so a line in flight is cut off too early.

use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{RIGHT, Rules, Stop, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let wind_down = short_grace;
    serve_with(listener, shutdown, grace, Rules { wind_down, ..RIGHT })
}

fn short_grace(listener: TcpListener, stop: &Stop, grace: Duration, clients: Vec<JoinHandle<()>>) {
    drop(listener);
    // The mistake: a part of the grace period, not all of it.
    stop.begin(Instant::now() + grace * 3 / 4);
    for client in clients {
        let _ = client.join();
    }
}
