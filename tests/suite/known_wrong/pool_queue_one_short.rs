//! Known wrong: the queue holds one connection fewer than `max_waiting`.

use std::net::TcpListener;

use crate::check_proofs::pool_rules::{RIGHT, serve_with};

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    // The mistake: `bounded(max_waiting - 1)`, as if the worker's client were in the queue too.
    serve_with(listener, workers, max_waiting.saturating_sub(1), RIGHT)
}
