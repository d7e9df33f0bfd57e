//! Runs your exercise 09 line server by hand. Your work goes in `exercises/src/09_line_server.rs`.

use course::cli::{Program, Role, serve_by_hand};

const PROGRAM: Program = Program {
    name: "ex09_line_server",
    role: Role::Server,
    about: "Exercise 09: your line server, which answers lines, not reads.",
    default_address: "127.0.0.1:65444",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Talk to it through lesson 09's chaos proxy, which cuts every write into pieces:\n  \
             cargo run --bin 09_chaos_proxy -- 127.0.0.1:65440 127.0.0.1:65444\n  \
             nc 127.0.0.1 65440",
};

fn main() -> course::cli::MainResult {
    serve_by_hand(&PROGRAM, exercises::line_server::serve)
}
