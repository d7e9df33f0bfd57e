//! Runs your exercise 11 load generator by hand. Your work goes in `exercises/src/11_load.rs`.

use std::time::Duration;

use course::cli::{Program, Role};
use exercises::load::measure;

const PROGRAM: Program = Program {
    name: "ex11_load",
    role: Role::Client,
    about: "Exercise 11: measures an echo server with your measure, and prints what it saw.",
    default_address: "127.0.0.1:65434",
    extra_usage: "[CLIENTS] [MESSAGES]",
    max_extra_args: 2,
    try_it: "Start an echo server first, in another terminal:\n  cargo run --bin 03_threaded_echo",
};

/// How long a client waits for anything before it counts an error.
const TIMEOUT: Duration = Duration::from_secs(2);

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let number = |at: usize, default: usize, what: &str, range| -> anyhow::Result<usize> {
        args.extra.get(at).map_or(Ok(default), |text| {
            course::cli::whole_number(what, text, range)
        })
    };
    // Each client is a thread of its own, which a system limits.
    let clients = number(0, 10, "CLIENTS", 1..=course::cli::MOST_THREADS)?;
    let messages = number(1, 100, "MESSAGES", 1..=course::cli::MOST_AT_ONCE)?;
    let mut measured = measure(args.address, clients, messages, TIMEOUT);
    measured.round_trips.sort();
    let percentile = |share: f64| {
        let count = measured.round_trips.len();
        let at = ((count as f64 * share).ceil() as usize).clamp(1, count.max(1)) - 1;
        measured.round_trips.get(at).copied().unwrap_or_default()
    };
    println!(
        "{} round trips, {} errors; p50 {:?}, p99 {:?}",
        measured.round_trips.len(),
        measured.errors,
        percentile(0.5),
        percentile(0.99)
    );
    Ok(())
}
