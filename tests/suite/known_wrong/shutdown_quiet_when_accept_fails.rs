//! Known wrong: the accept loop takes every failed accept for "nobody is waiting", as it does
//! `WouldBlock`: out of file descriptors, it says nothing, and whoever runs the server has no clue
//! why clients wait. (It still serves them once others leave: the log is the evidence.)

use std::net::TcpListener;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let rules = Rules {
        failure_is_quiet: true,
        ..RIGHT
    };
    serve_with(listener, shutdown, grace, rules)
}
