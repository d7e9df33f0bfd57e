//! Runs your exercise 07 server by hand. Your work goes in `exercises/src/07_thread_pool.rs`.

use course::cli::{Program, Role, serve_by_hand};

const PROGRAM: Program = Program {
    name: "ex07_thread_pool",
    role: Role::Server,
    about: "Exercise 07: your thread pool echo server.",
    default_address: "127.0.0.1:65438",
    extra_usage: "[WORKERS] [MAX_WAITING]",
    max_extra_args: 2,
    try_it: "Talk to it from other terminals with:\n  nc 127.0.0.1 65438\n\
             WORKERS (default 4) clients are served at once, MAX_WAITING (default 64) wait.",
};

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    // The lesson's ranges: a worker is a thread, and every waiting place is set aside at the start.
    let count = |index: usize, name: &str, default: usize, range| -> anyhow::Result<usize> {
        match args.extra.get(index) {
            Some(text) => course::cli::whole_number(name, text, range),
            None => Ok(default),
        }
    };
    let workers = count(0, "WORKERS", 4, 1..=course::cli::MOST_THREADS)?;
    let max_waiting = count(1, "MAX_WAITING", 64, 0..=course::cli::MOST_AT_ONCE)?;
    serve_by_hand(&PROGRAM, |listener| {
        exercises::thread_pool::serve(listener, workers, max_waiting)
    })
}
