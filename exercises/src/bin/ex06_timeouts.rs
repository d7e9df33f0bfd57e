//! Runs your exercise 06 server by hand. Your work goes in `exercises/src/06_timeouts.rs`.

use std::time::Duration;

use course::cli::{Program, Role, serve_by_hand};

/// The idle limit when you run it by hand: long enough to type, short enough to wait out. (The
/// check gives a shorter one, after the address.)
const IDLE: Duration = Duration::from_secs(10);

const PROGRAM: Program = Program {
    name: "ex06_timeouts",
    role: Role::Server,
    about: "Exercise 06: your echo server that closes clients silent for 10 s.",
    default_address: "127.0.0.1:65437",
    extra_usage: "[IDLE_SECONDS]",
    max_extra_args: 1,
    try_it: "Connect from another terminal, and type nothing for 10 s:\n  nc 127.0.0.1 65437\n\
             or talk to it with:\n  cargo run --bin 02_echo_client -- 127.0.0.1:65437",
};

fn main() -> course::cli::MainResult {
    let idle = match PROGRAM.args()?.extra.first() {
        Some(seconds) => {
            course::cli::seconds("IDLE_SECONDS", seconds, course::cli::TIMEOUT_SECONDS)?
        }
        None => IDLE,
    };
    serve_by_hand(&PROGRAM, |listener| {
        exercises::timeouts::serve(listener, idle)
    })
}
