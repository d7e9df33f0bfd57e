//! Known wrong: a failed accept ends `serve` with the error, as a `?` on `accept` would: out of
//! file descriptors, the server stops serving everyone, though the trouble would pass as soon as
//! a client left.

use std::net::TcpListener;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let rules = Rules {
        failure_ends_serve: true,
        ..RIGHT
    };
    serve_with(listener, shutdown, grace, rules)
}
