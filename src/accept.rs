//! What a server does when `accept` fails: pause, and log a spell of failures, not every try.
//!
//! Most accept errors are over at once: a client gave up while its connection waited in the
//! queue. One kind lasts: when the process has as many files and sockets open as the system lets
//! it have (`EMFILE`, "Too many open files"; see `ulimit -n`). On Linux every `accept` then fails
//! at once, until some client leaves and closes its socket, and a loop that logs the error and
//! tries again straight away spins: it keeps a whole processor core busy and writes the same log
//! line without end, while the clients it already has wait for that same processor. Pausing a
//! moment costs nothing (no connection can be accepted anyway), and there the waiting
//! connections are not lost: they queue in the listening socket's backlog until the server can
//! take them. (macOS takes the newcomer's connection first, then closes it when no descriptor is
//! left for it: each failure loses that client. The pause keeps the log short there too.)
//!
//! Every server in the course keeps an [`AcceptFailures`] beside its accept loop:
//!
//! ```no_run
//! # let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! let mut failures = course::accept::AcceptFailures::new();
//! for connection in listener.incoming() {
//!     let stream = match connection {
//!         Ok(stream) => stream,
//!         Err(error) => {
//!             failures.pause_after(error);
//!             continue;
//!         }
//!     };
//!     failures.over();
//!     // ... serve `stream` ...
//! }
//! ```

use std::io;
use std::thread;
use std::time::{Duration, Instant};

// ANCHOR: timing
/// How long a server waits after a failed `accept` before it tries again. Short enough that
/// clients hardly notice once a place is free, long enough that trying costs no processor time.
pub const PAUSE: Duration = Duration::from_millis(100);

/// While `accept` goes on failing, how often the log says so again, with a count.
pub const REPORT_EVERY: Duration = Duration::from_secs(60);

/// How long `accept` must work without failing before the log says the trouble is over. At the
/// limit, a server takes one client each time another leaves, and fails again at once: those are
/// one spell of trouble, not a new one each time.
pub const SETTLED_AFTER: Duration = Duration::from_secs(1);
// ANCHOR_END: timing

/// Failed accepts, remembered so that a spell of failures is logged when it starts, then
/// once a minute with a count while it lasts, and once when it is over. Owned by the accept loop.
#[derive(Debug, Default)]
pub struct AcceptFailures {
    /// The spell of failures under way, if there is one.
    spell: Option<Spell>,
}

/// A spell of failed accepts. It is over once `accept` has worked [`SETTLED_AFTER`] after the
/// last failure, or when the next failure comes [`REPORT_EVERY`] after it.
#[derive(Debug)]
struct Spell {
    /// The last error, to notice when a different one takes its place.
    error: io::Error,
    /// When the first failure happened, and the last one.
    since: Instant,
    last: Instant,
    /// How many accepts failed in this spell.
    failures: u64,
    /// When the log last said something about this spell, and how many failures it had counted.
    reported_at: Instant,
    reported_failures: u64,
}

impl AcceptFailures {
    /// No failures yet.
    pub fn new() -> AcceptFailures {
        AcceptFailures::default()
    }

    // ANCHOR: calls
    /// Call when `accept` failed: logs the failure to stderr when a spell of failures starts (and
    /// then once a minute, with a count, while it lasts), then waits [`PAUSE`], so that a failure
    /// that lasts does not spin the processor.
    pub fn pause_after(&mut self, error: io::Error) {
        if let Some(line) = self.failed(error, Instant::now()) {
            eprintln!("{line}");
        }
        thread::sleep(PAUSE);
    }

    /// Call when `accept` succeeded: if it had been failing, and has now worked for a while,
    /// logs that the trouble is over.
    pub fn over(&mut self) {
        if let Some(line) = self.succeeded(Instant::now()) {
            eprintln!("{line}");
        }
    }

    // ANCHOR_END: calls

    /// [`AcceptFailures::pause_after`] for a caller that waits its own way: logs the same way,
    /// and returns how long to pause. Async code waits it out without blocking
    /// (`tokio::time::sleep(failures.log_failure(error)).await`); lesson 08 waits on its shutdown
    /// channel for that long, so that a Ctrl-C wakes it at once.
    pub fn log_failure(&mut self, error: io::Error) -> Duration {
        if let Some(line) = self.failed(error, Instant::now()) {
            eprintln!("{line}");
        }
        PAUSE
    }

    /// The bookkeeping half of [`AcceptFailures::pause_after`]: the line to log, if any.
    fn failed(&mut self, error: io::Error, now: Instant) -> Option<String> {
        let spell = match &mut self.spell {
            // A failure long after the last one starts a new spell.
            Some(spell) if now.duration_since(spell.last) < REPORT_EVERY => spell,
            _ => {
                let line = first_report(&error);
                self.spell = Some(Spell {
                    error,
                    since: now,
                    last: now,
                    failures: 1,
                    reported_at: now,
                    reported_failures: 1,
                });
                return Some(line);
            }
        };
        spell.failures += 1;
        spell.last = now;
        let changed = error.kind() != spell.error.kind()
            || error.raw_os_error() != spell.error.raw_os_error();
        let due = now.duration_since(spell.reported_at) >= REPORT_EVERY;
        spell.error = error;
        if !changed && !due {
            return None;
        }
        let line = if changed {
            first_report(&spell.error)
        } else {
            format!(
                "still cannot always accept connections: {} more failures in the last {:.0} s ({})",
                spell.failures - spell.reported_failures,
                now.duration_since(spell.reported_at).as_secs_f64(),
                spell.error,
            )
        };
        spell.reported_at = now;
        spell.reported_failures = spell.failures;
        Some(line)
    }

    /// The bookkeeping half of [`AcceptFailures::over`]: the line to log, if any.
    fn succeeded(&mut self, now: Instant) -> Option<String> {
        let spell = self.spell.as_ref()?;
        if now.duration_since(spell.last) < SETTLED_AFTER {
            return None;
        }
        let spell = self.spell.take()?;
        // A single failure was a passing one (a client that gave up in the queue): its line
        // said all there is to say.
        (spell.failures > 1).then(|| {
            format!(
                "accepting connections again, after {} failures in {:.1} s",
                spell.failures,
                spell.last.duration_since(spell.since).as_secs_f64()
            )
        })
    }
}

/// The first line about a failure: what happened, what the server does about it, and, when the
/// process is out of file descriptors, what that means.
fn first_report(error: &io::Error) -> String {
    let advice = if !out_of_file_descriptors(error) {
        ""
    } else if cfg!(windows) {
        // Windows has no `ulimit`: its limit on sockets is the system's memory and ports.
        "The system will not give the process another socket: the clients it has are still \
         served. "
    } else {
        "The process has as many files and connections open as it may (see `ulimit -n`): the \
         clients it has are still served, and new ones wait in the queue until some leave (on \
         Linux; macOS closes each new one instead). "
    };
    format!(
        "{FAILED}: {error}. {advice}Trying again every {} ms, and saying so once a minute while \
         it lasts.",
        PAUSE.as_millis()
    )
}

/// How the log's first line about a failed accept starts: a check looks for it where no accept
/// could fail.
pub const FAILED: &str = "could not accept a connection";

/// Whether `error` says the process (`EMFILE`) or the whole system (`ENFILE`) has no file
/// descriptor left. The numbers are the same on Linux and macOS; Windows has its own, for sockets.
fn out_of_file_descriptors(error: &io::Error) -> bool {
    let code = error.raw_os_error();
    if cfg!(windows) {
        code == Some(10024) // WSAEMFILE
    } else {
        matches!(code, Some(23 | 24)) // ENFILE, EMFILE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out_of_files() -> io::Error {
        io::Error::from_raw_os_error(if cfg!(windows) { 10024 } else { 24 })
    }

    #[test]
    fn a_lasting_failure_is_logged_once_then_once_a_minute() {
        let mut failures = AcceptFailures::new();
        let start = Instant::now();
        let first = failures
            .failed(out_of_files(), start)
            .expect("the first is logged");
        assert!(
            first.starts_with("could not accept a connection: "),
            "{first}"
        );
        assert_eq!(first.contains("ulimit -n"), cfg!(unix), "{first}");
        assert!(first.contains("every 100 ms"), "{first}");
        // Ten a second for most of a minute, with now and then a client taken in between (a
        // server at its limit takes one whenever one leaves): not one more line.
        for tenth in 1..599 {
            let now = start + PAUSE * tenth;
            assert_eq!(failures.failed(out_of_files(), now), None, "at {tenth}");
            if tenth % 50 == 0 {
                assert_eq!(failures.succeeded(now + PAUSE / 2), None, "at {tenth}");
            }
        }
        let reminder = failures
            .failed(out_of_files(), start + REPORT_EVERY)
            .expect("a reminder once a minute");
        assert!(
            reminder.starts_with(
                "still cannot always accept connections: 599 more failures in the last 60 s"
            ),
            "{reminder}"
        );
        let settled = start + REPORT_EVERY + SETTLED_AFTER;
        assert_eq!(failures.succeeded(settled - PAUSE), None, "not settled yet");
        let over = failures.succeeded(settled).expect("the end is logged");
        assert_eq!(
            over,
            "accepting connections again, after 600 failures in 60.0 s"
        );
        assert_eq!(failures.succeeded(settled + REPORT_EVERY), None);
    }

    #[test]
    fn a_single_passing_failure_is_one_line() {
        let mut failures = AcceptFailures::new();
        let now = Instant::now();
        let line = failures
            .failed(io::ErrorKind::ConnectionAborted.into(), now)
            .expect("logged");
        assert!(!line.contains("ulimit"), "{line}");
        assert_eq!(failures.succeeded(now + SETTLED_AFTER), None);
        assert!(failures.spell.is_none());
    }

    #[test]
    fn a_different_error_is_logged_when_it_appears() {
        let mut failures = AcceptFailures::new();
        let now = Instant::now();
        assert!(failures.failed(out_of_files(), now).is_some());
        assert!(failures.failed(out_of_files(), now).is_none());
        let other = failures.failed(io::ErrorKind::OutOfMemory.into(), now);
        assert!(other.is_some_and(|line| !line.contains("ulimit")));
    }
}
