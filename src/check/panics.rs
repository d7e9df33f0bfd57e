//! Catching the panics of a learner's server, so a check can say "exercise not finished" instead
//! of leaving the learner to dig a backtrace out of the test output.
//!
//! A panic on a thread the learner's server started (a client thread, say) cannot be caught by
//! the harness, which never sees that thread. So a panic hook records every panic message; the
//! check that is running reads them. Checks run one at a time (see [`one_check_at_a_time`]), so
//! the panics recorded during a check are that check's.

use std::cell::Cell;
use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

static RECORDED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static CHECKS: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();
/// True while a check runs. Outside one, every panic is shown as usual.
static CHECK_RUNNING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// True on a thread that has run a check: its panics are a check's verdict, to be shown as
    /// usual, not recorded as the learner's. It stays true: the verdict comes after the check.
    static IS_HARNESS: Cell<bool> = const { Cell::new(false) };
}

/// Held while a check runs. Creating it installs the hook and forgets earlier panics.
pub struct CheckGuard {
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Drop for CheckGuard {
    fn drop(&mut self) {
        CHECK_RUNNING.store(false, Ordering::SeqCst);
    }
}

/// Waits for any other check in this process to finish, then starts recording panics.
pub fn one_check_at_a_time() -> CheckGuard {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IS_HARNESS.with(Cell::get) || !CHECK_RUNNING.load(Ordering::SeqCst) {
                previous(info);
            } else {
                lock(&RECORDED).push(describe(info));
            }
        }));
    });
    // A failed check panics while holding this lock; that poisons it, which is no reason for
    // the next check to fail too.
    let guard = CHECKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    IS_HARNESS.with(|flag| flag.set(true));
    lock(&RECORDED).clear();
    CHECK_RUNNING.store(true, Ordering::SeqCst);
    CheckGuard {
        _one_at_a_time: guard,
    }
}

/// The panics recorded since the check of exercise `id` started, oldest first.
///
/// A server from an earlier check in the same test run is never stopped (it owns its listener),
/// and one of its threads may still panic during a later check. A panic located in another
/// exercise's file (`exercises/src/03_threaded_echo.rs` while checking `01_greeting`) is that
/// exercise's business, and is left out.
pub fn recorded_for(id: &str) -> Vec<String> {
    lock(&RECORDED)
        .iter()
        .filter(|panic| !is_in_another_exercise(panic, id))
        .cloned()
        .collect()
}

fn is_in_another_exercise(panic: &str, id: &str) -> bool {
    let Some((_, location)) = panic.rsplit_once(" (at ") else {
        return false;
    };
    let file = location.rsplit(['/', '\\']).next().unwrap_or(location);
    let file = file.split(".rs:").next().unwrap_or(file);
    let in_course_crate = location.contains("exercises") || location.contains("solutions");
    let names_an_exercise = file.len() > 3 && file[..2].bytes().all(|b| b.is_ascii_digit());
    in_course_crate && names_an_exercise && file != id
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
    match info.location() {
        Some(location) => format!("{message} (at {}:{})", location.file(), location.line()),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::is_in_another_exercise;

    #[test]
    fn a_panic_in_another_exercise_is_not_this_ones() {
        let panic = "boom (at exercises/src/03_threaded_echo.rs:12)";
        assert!(is_in_another_exercise(panic, "01_greeting"));
        assert!(!is_in_another_exercise(panic, "03_threaded_echo"));
        let elsewhere = "boom (at tests/known_wrong/echo_panics_on_a_reset.rs:3)";
        assert!(!is_in_another_exercise(elsewhere, "01_greeting"));
        assert!(!is_in_another_exercise("no location", "01_greeting"));
    }
}
