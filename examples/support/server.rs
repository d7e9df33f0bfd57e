//! Starting a lesson's server from a benchmark, and reading its numbers from /proc (Linux).

#![allow(dead_code)] // each benchmark uses its own part of this module

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

/// A lesson's server, started by a benchmark. Dropping it stops it.
pub use course::started::StartedServer as Server;

/// How long a lesson's server may take to say where it listens.
const START_WITHIN: Duration = Duration::from_secs(10);

/// Starts the lesson binary `name` (built with the same profile as this example) on a free
/// loopback port, with `extra` arguments after the address.
pub fn start(name: &str, extra: &[&str]) -> anyhow::Result<Server> {
    // Examples are built into target/<profile>/examples/, the lesson binaries one folder up.
    let binary: PathBuf = std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .context("find the target folder")?
        // `.exe` on Windows, nothing elsewhere.
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        bail!(
            "{} is missing: build it first with the same profile, e.g. \
             `cargo build --release --bin {name}`",
            binary.display()
        );
    }
    let mut command = Command::new(&binary);
    command.arg("127.0.0.1:0").args(extra);
    Server::start(command, START_WITHIN, false)
}

/// Process `pid`'s threads and resident memory (KiB), from /proc/PID/status (Linux only).
pub fn process_numbers(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    Some((field("Threads:")?, field("VmRSS:")?))
}

/// The value below which `share` of the sorted `values` lie (0.5 for the median, 0.99 for p99).
pub fn percentile<T: Copy>(sorted: &[T], share: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len()) - 1;
    Some(sorted[index])
}
