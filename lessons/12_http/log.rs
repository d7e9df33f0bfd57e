//! The server's log: lines from every client's thread, written to stdout by one thread.
//!
//! `println!` takes stdout's lock and holds it while the system writes the line. Fifty client
//! threads printing a line per request then queue at that lock, and each wait costs a sleep and
//! a wake-up. Here a thread hands its line over and goes on; the log thread writes whatever has
//! piled up in one go, at most every [`PAUSE`], so that it does not wake for every line either.
//!
//! And no client's thread ever waits for stdout: when nobody reads it (a terminal paused with
//! Ctrl-S, a pipe into a program that stalled), lines are dropped and counted, not waited for,
//! so the server goes on serving and says how many lines it lost once stdout moves again.

use std::io::{BufWriter, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};

/// How many lines may wait to be written. When stdout is slower than the clients (a terminal
/// that scrolls, a pipe nobody reads), lines past these are dropped rather than the memory
/// growing or a client's thread waiting.
const MOST_WAITING_LINES: usize = 4096;

/// How many lines were dropped since the log last said so.
static LOST: AtomicU64 = AtomicU64::new(0);

/// How long the log thread rests after writing, so that lines pile up: at most this late.
const PAUSE: Duration = Duration::from_millis(5);

/// Where lines go, set up by the first line: `None` if the log's thread could not start.
static LINES: OnceLock<Option<Sender<String>>> = OnceLock::new();

/// Adds a line to the log, in the order lines are added.
pub fn line(text: String) {
    let lines = LINES.get_or_init(|| {
        let (sender, receiver) = crossbeam_channel::bounded(MOST_WAITING_LINES);
        let spawned = thread::Builder::new()
            .name("log".to_string())
            .spawn(move || write_lines(&receiver));
        spawned.is_ok().then_some(sender)
    });
    match lines {
        Some(lines) => match lines.try_send(text) {
            Ok(()) => {}
            // stdout is not keeping up: drop the line, and count it.
            Err(TrySendError::Full(_)) => {
                LOST.fetch_add(1, Ordering::Relaxed);
            }
            // The log's thread ended, which it does only when stdout is gone.
            Err(TrySendError::Disconnected(_)) => {}
        },
        None => println!("{text}"), // no thread for the log: each thread writes its own lines
    }
}

/// Writes each line as it comes, and every line that came meanwhile with it.
fn write_lines(receiver: &Receiver<String>) {
    for first in receiver {
        let mut out = BufWriter::new(std::io::stdout().lock());
        let written = std::iter::once(first)
            .chain(receiver.try_iter())
            .try_for_each(|text| writeln!(out, "{text}"))
            .and_then(|()| match LOST.swap(0, Ordering::Relaxed) {
                0 => Ok(()),
                lost => writeln!(
                    out,
                    "({lost} log lines lost: stdout was not read fast enough)"
                ),
            })
            .and_then(|()| out.flush());
        if written.is_err() {
            return; // stdout is closed: nobody reads the log any more
        }
        thread::sleep(PAUSE);
    }
}
