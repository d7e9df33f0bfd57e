//! Starting a lesson's server from a benchmark, and reading its numbers from /proc (Linux).

#![allow(dead_code)] // each benchmark uses its own part of this module

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// A lesson's server, started by a benchmark. Dropping it stops it.
pub struct Server {
    pub child: Child,
    pub address: SocketAddr,
}

impl Server {
    /// Starts the lesson binary `name` (built with the same profile as this example) on a free
    /// loopback port, with `extra` arguments after the address.
    pub fn start(name: &str, extra: &[&str]) -> anyhow::Result<Server> {
        // Examples are built into target/<profile>/examples/, the lesson binaries one folder up.
        let binary: PathBuf = std::env::current_exe()?
            .parent()
            .and_then(|examples| examples.parent())
            .context("find the target folder")?
            .join(name);
        if !binary.exists() {
            bail!(
                "{} is missing: build it first with the same profile, e.g. \
                 `cargo build --release --bin {name}`",
                binary.display()
            );
        }
        let mut child = Command::new(&binary)
            .arg("127.0.0.1:0")
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().context("the server's stdout")?);
        let mut first = String::new();
        stdout.read_line(&mut first)?;
        let address = first
            .trim()
            .strip_prefix("listening on ")
            .context("the server's first line should be `listening on ADDRESS`")?
            .parse()?;
        // Keep draining the server's log, or it blocks once the pipe is full.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Server { child, address })
    }
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value below which `share` of the sorted `values` lie (0.5 for the median, 0.99 for p99).
pub fn percentile<T: Copy>(sorted: &[T], share: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len()) - 1;
    Some(sorted[index])
}
