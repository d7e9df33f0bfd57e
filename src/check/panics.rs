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

/// The panics recorded since the current check started, oldest first.
pub fn recorded() -> Vec<String> {
    lock(&RECORDED).clone()
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
