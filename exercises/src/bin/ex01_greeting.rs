//! Runs your exercise 01 server by hand. Your work goes in `exercises/src/01_greeting.rs`.

use course::cli::{Program, Role, serve_by_hand};

const PROGRAM: Program = Program {
    name: "ex01_greeting",
    role: Role::Server,
    about: "Exercise 01: your greeting server.",
    default_address: "127.0.0.1:65432",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Talk to it from another terminal with:\n  cargo run --bin 01_greeting_client",
};

fn main() -> course::cli::MainResult {
    serve_by_hand(&PROGRAM, exercises::greeting::serve)
}
