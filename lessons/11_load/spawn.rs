//! `--spawn`: starting the server to measure, and (on Linux) its footprint read from /proc.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::started::StartedServer;

use crate::report::{Footprint, Progress};
use crate::{FOOTPRINT_EVERY, lock};

/// How long a server may take to say where it listens.
const START_WITHIN: Duration = Duration::from_secs(10);

/// Runs `PROGRAM 127.0.0.1:0 ARGS...` and reads its `listening on` line. The server is killed
/// when the result is dropped.
pub fn spawn_server(command: &str) -> anyhow::Result<StartedServer> {
    let mut words = command.split_whitespace();
    let program = words.next().context("--spawn needs a program to start")?;
    // A lesson's name (`03_threaded_echo`) means that lesson, built beside this program.
    let beside_us = std::env::current_exe()?.with_file_name(program);
    let path = if !program.contains(['/', '\\']) && beside_us.exists() {
        beside_us
    } else {
        program.into()
    };
    let mut server = Command::new(&path);
    server.arg("127.0.0.1:0").args(words);
    StartedServer::start(server, START_WITHIN, false).with_context(|| {
        format!(
            "starting the server {program:?}: give a lesson's name (built with the same profile \
             as 11_load: cargo build --release --bins) or a path to a program"
        )
    })
}

/// A thread that samples the server's /proc entries until stopped.
pub struct FootprintWatch {
    pub stop: Arc<AtomicBool>,
    pub watcher: thread::JoinHandle<Footprint>,
}

impl FootprintWatch {
    pub fn start(pid: u32, progress: Arc<Progress>) -> FootprintWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let watcher = thread::spawn(move || {
            let mut peak = Footprint {
                pid,
                peak_threads: 0,
                peak_resident_kib: 0,
                peak_open_files: 0,
            };
            let mut next = Instant::now();
            let mut seen_the_start = false;
            loop {
                let last = stopped.load(Ordering::Relaxed);
                // When the clients start, all of them are connected: a sample then catches the
                // server at its fullest even in a run shorter than FOOTPRINT_EVERY.
                let starting = !seen_the_start && lock(&progress.began).is_some();
                seen_the_start |= starting;
                if !(last || starting || Instant::now() >= next) {
                    thread::sleep(Duration::from_millis(2));
                    continue;
                }
                next = Instant::now() + FOOTPRINT_EVERY;
                if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                    peak.peak_threads = peak.peak_threads.max(status_field(&status, "Threads:"));
                    // VmHWM is the kernel's own peak of resident memory, so no sample misses it.
                    peak.peak_resident_kib =
                        peak.peak_resident_kib.max(status_field(&status, "VmHWM:"));
                }
                if let Ok(files) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
                    peak.peak_open_files = peak.peak_open_files.max(files.count() as u64);
                }
                if last {
                    return peak;
                }
            }
        });
        FootprintWatch { stop, watcher }
    }

    /// The peaks, or `None` where /proc showed nothing (not Linux, or no such process).
    pub fn stop(self) -> Option<Footprint> {
        self.stop.store(true, Ordering::Relaxed);
        self.watcher
            .join()
            .ok()
            .filter(|footprint| footprint.peak_threads > 0)
    }
}

/// A number from /proc/PID/status, such as `Threads:  5`; 0 where there is none (not Linux).
pub fn status_field(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0)
}
