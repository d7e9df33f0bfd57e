//! Runs your exercise 03 server by hand. Your work goes in `exercises/src/03_threaded_echo.rs`.

use course::cli::{Program, Role, serve_by_hand};

const PROGRAM: Program = Program {
    name: "ex03_threaded_echo",
    role: Role::Server,
    about: "Exercise 03: your threaded echo server.",
    default_address: "127.0.0.1:65434",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Talk to it from two other terminals at once with:\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65434",
};

fn main() -> course::cli::MainResult {
    serve_by_hand(&PROGRAM, exercises::threaded_echo::serve)
}
