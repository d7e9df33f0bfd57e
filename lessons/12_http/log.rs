//! The server's log: lines from every client's thread, written to stdout by one thread.
//!
//! `println!` takes stdout's lock and holds it while the system writes the line. Fifty client
//! threads printing a line per request then queue at that lock, and each wait costs a sleep and
//! a wake-up. Here a thread hands its line over and goes on; the log thread writes whatever has
//! piled up in one go, at most every [`PAUSE`], so that it does not wake for every line either.

use std::io::{BufWriter, Write};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

/// How many lines may wait to be written. When stdout is slower than the clients (a terminal
/// that scrolls, a pipe nobody reads), a thread waits here rather than the memory growing.
const MOST_WAITING_LINES: usize = 4096;

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
        // Fails only if the log's thread ended, which it does only when stdout is gone.
        Some(lines) => {
            let _ = lines.send(text);
        }
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
            .and_then(|()| out.flush());
        if written.is_err() {
            return; // stdout is closed: nobody reads the log any more
        }
        thread::sleep(PAUSE);
    }
}
