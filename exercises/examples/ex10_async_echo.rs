//! Runs exercise 10 by hand: `cargo run -p exercises --example ex10_async_echo`.
//! (An example, not a program like the other exercises', so that only it and the check compile
//! tokio.)

#[path = "../src/10_async_echo.rs"]
mod async_echo;

use course::cli::{Program, Role, serve_by_hand};

fn main() -> course::cli::MainResult {
    serve_by_hand(&PROGRAM, async_echo::serve)
}

const PROGRAM: Program = Program {
    name: "ex10_async_echo",
    role: Role::Server,
    about: "Exercise 10: your async echo server.",
    default_address: "127.0.0.1:65441",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Talk to it from two or more other terminals at once with:\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65441",
};
