//! Known wrong: the shutdown is right in every step but one: the echo is a plain `write_all`, so
//! a client that reads its echo slowly keeps its thread writing, and the shutdown waiting for it,
//! long past the deadline.

use std::net::TcpListener;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let rules = Rules {
        echo_ignores_the_deadline: true,
        ..RIGHT
    };
    serve_with(listener, shutdown, grace, rules)
}
