//! Catching the panics of a learner's server, so a check can say "exercise not finished" instead
//! of leaving the learner to dig a backtrace out of the test output.
//!
//! A panic on a thread the learner's server started (a client thread, say) cannot be caught by
//! the harness, which never sees that thread. So a panic hook records every panic message with
//! where it happened, and each running check keeps those that are its own: the ones in its
//! answer's file, or in no answer's file at all (the course library, say). Checks may run at the
//! same time, in one test process; a panic in `03_threaded_echo.rs` is never blamed on the check
//! of exercise 04.

use std::cell::Cell;
use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

/// Every panic recorded while any check ran, oldest first.
static RECORDED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();
/// How many checks are running. With none, every panic is shown as usual.
static CHECKS_RUNNING: AtomicUsize = AtomicUsize::new(0);

/// The folders whose files hold answers to exercises: a panic located in one of them belongs to
/// that answer's check only.
const ANSWER_FOLDERS: [&str; 6] = [
    "exercises/src",
    "solutions/src",
    "tests/suite/known_wrong",
    "tests/suite/known_right",
    "async-lessons/tests/known_wrong",
    "async-lessons/tests/known_right",
];

thread_local! {
    /// True on a thread that runs checks: its panics are a check's verdict, to be shown as
    /// usual, not recorded as the learner's.
    static IS_HARNESS: Cell<bool> = const { Cell::new(false) };
}

/// The panics of one check's answer, from the moment the check starts.
pub struct Recording {
    /// The answer's file name, as in `03_threaded_echo.rs`.
    answer_file: String,
    /// Where in [`RECORDED`] this check's time began.
    first: usize,
}

impl Recording {
    /// Starts recording for the answer in `answer_file` (a file name, without folders).
    pub fn start(answer_file: &str) -> Recording {
        INSTALL.call_once(|| {
            let previous = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                if CHECKS_RUNNING.load(Ordering::SeqCst) == 0 {
                    return previous(info);
                }
                let described = describe(info);
                let in_an_answer = in_an_answer(&described);
                // The threads a learner's server starts are usually unnamed; a test's thread is
                // named after the test, and its panics are the test's own.
                let a_servers_thread = in_an_answer || std::thread::current().name().is_none();
                if a_servers_thread && !IS_HARNESS.with(Cell::get) {
                    lock(&RECORDED).push(described);
                }
                // An answer's panic is its check's to report, in words; any other panic (a
                // test's own assertion, say) is shown as usual.
                if !in_an_answer {
                    previous(info);
                }
            }));
        });
        IS_HARNESS.with(|flag| flag.set(true));
        CHECKS_RUNNING.fetch_add(1, Ordering::SeqCst);
        Recording {
            answer_file: answer_file.to_string(),
            first: lock(&RECORDED).len(),
        }
    }

    /// The panics recorded since this check started that are its answer's, oldest first.
    pub fn panics(&self) -> Vec<String> {
        lock(&RECORDED)[self.first..]
            .iter()
            .filter(|panic| belongs_to(panic, &self.answer_file))
            .cloned()
            .collect()
    }

    /// Why a client exercise's check stopped: `reason`, with what the answer's first panic said
    /// if it panicked (`who` names the panicking code, as in "send_lines" or "A thread of
    /// measure"), or, for a `todo!()`, that the exercise is not finished yet (`function` reached
    /// it).
    pub fn explain(&self, function: &str, who: &str, reason: String) -> String {
        match self.panics().first() {
            Some(todo) if todo.starts_with("not yet implemented") => format!(
                "Exercise not finished: {function} reached a `todo!()`: {todo}.\nReplace it with \
                 your code; the `// TODO:` comments say what goes there."
            ),
            Some(other) => format!("{reason}\n{who} panicked: {other}."),
            None => reason,
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        CHECKS_RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Where a panic (as [`describe`] wrote it) happened, with `/` between folders.
fn location(panic: &str) -> Option<String> {
    let (_, location) = panic.rsplit_once(" (at ")?;
    Some(location.replace('\\', "/"))
}

/// Whether a panic happened in a file of one of the answers' folders.
fn in_an_answer(panic: &str) -> bool {
    location(panic).is_some_and(|at| ANSWER_FOLDERS.iter().any(|folder| at.contains(folder)))
}

/// Whether a panic is the answer's in `answer_file`: it happened in that file, or in none of the
/// answers' folders.
fn belongs_to(panic: &str, answer_file: &str) -> bool {
    if !in_an_answer(panic) {
        return true;
    }
    let Some(location) = location(panic) else {
        return true;
    };
    let file = location.rsplit('/').next().unwrap_or(&location);
    let file = file.split(':').next().unwrap_or(file);
    file == answer_file
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let message = if let Some(text) = info.payload().downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = info.payload().downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_string()
    };
    // `unwrap()` on an `anyhow::Error` puts its whole report in the message, backtrace and all
    // when RUST_BACKTRACE is set. The verdict quotes the message: keep the error and its causes.
    let message = match message.split_once("\n\nStack backtrace:") {
        Some((report, _backtrace)) => report.to_string(),
        None => message,
    };
    match info.location() {
        Some(location) => format!("{message} (at {}:{})", location.file(), location.line()),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::belongs_to;

    #[test]
    fn a_panic_in_another_answer_is_not_this_ones() {
        let panic = "boom (at exercises/src/03_threaded_echo.rs:12)";
        assert!(belongs_to(panic, "03_threaded_echo.rs"));
        assert!(!belongs_to(panic, "01_greeting.rs"));
        let known_wrong = "boom (at tests/suite/known_wrong/echo_panics_on_a_reset.rs:3)";
        assert!(belongs_to(known_wrong, "echo_panics_on_a_reset.rs"));
        assert!(!belongs_to(known_wrong, "03_threaded_echo.rs"));
        let windows = "boom (at exercises\\src\\03_threaded_echo.rs:12)";
        assert!(belongs_to(windows, "03_threaded_echo.rs"));
        let library = "boom (at src/chat.rs:40)";
        assert!(belongs_to(library, "01_greeting.rs"));
        assert!(belongs_to("no location", "01_greeting.rs"));
    }
}
