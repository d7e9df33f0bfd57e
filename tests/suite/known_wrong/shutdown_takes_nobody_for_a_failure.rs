//! Known wrong: the accept loop sends `WouldBlock`, which the non-blocking listener returns
//! whenever nobody is waiting, to `failures.pause_after`, as if accept had failed: the log says
//! so at once, and every turn pauses 100 ms more. Clients see no difference within the check's
//! patience; the log is the evidence.

use std::net::TcpListener;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{RIGHT, Rules, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let rules = Rules {
        would_block_is_a_failure: true,
        ..RIGHT
    };
    serve_with(listener, shutdown, grace, rules)
}
