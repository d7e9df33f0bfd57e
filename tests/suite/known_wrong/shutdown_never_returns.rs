//! Known wrong: every client is told and closed as it should be, but `serve` then waits for a
//! thread that was never told to stop (here, one that waits for ever), so it never returns.

use std::net::TcpListener;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{RIGHT, Rules, Stop, right_wind_down, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let wind_down = wind_down_and_wait;
    serve_with(listener, shutdown, grace, Rules { wind_down, ..RIGHT })
}

fn wind_down_and_wait(
    listener: TcpListener,
    stop: &Stop,
    grace: Duration,
    clients: Vec<JoinHandle<()>>,
) {
    right_wind_down(listener, stop, grace, clients);
    // The mistake: a helper thread nobody tells to stop, joined all the same.
    let helper = thread::spawn(|| {
        loop {
            thread::park();
        }
    });
    let _ = helper.join();
}
