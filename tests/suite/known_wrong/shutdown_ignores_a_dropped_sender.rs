//! Known wrong: the accept loop stops on `()` only, so a dropped sender (the channel
//! disconnected) never stops it, and it spins, as `recv_timeout` returns at once every time.

use std::net::TcpListener;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let rules = Rules {
        disconnected_stops: false,
        ..RIGHT
    };
    serve_with(listener, shutdown, grace, rules)
}
