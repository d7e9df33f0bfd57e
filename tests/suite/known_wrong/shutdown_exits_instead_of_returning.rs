//! Known wrong: the reference solution's shutdown, word for word, but the program then ends with
//! `std::process::exit(0)` where `serve` should return `Ok(())` to `main`.

use std::net::TcpListener;
use std::time::Duration;

use crate::check_proofs::solution_08_shutdown as solution;

pub fn serve(
    listener: TcpListener,
    shutdown: crossbeam_channel::Receiver<()>,
    grace: Duration,
) -> anyhow::Result<()> {
    solution::serve(listener, shutdown, grace)?;
    std::process::exit(0)
}
