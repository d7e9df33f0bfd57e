//! Runs your exercise 12 server by hand. Your work goes in `exercises/src/12_http.rs`.

use course::cli::{Program, Role, serve_by_hand};

const PROGRAM: Program = Program {
    name: "ex12_http",
    role: Role::Server,
    about: "Exercise 12: your small HTTP server.",
    default_address: "127.0.0.1:65443",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Ask it for its page from another terminal with:\n  \
             curl -v http://127.0.0.1:65443/hello\n\
             or open http://127.0.0.1:65443/hello in a browser.",
};

fn main() -> course::cli::MainResult {
    serve_by_hand(&PROGRAM, exercises::http::serve)
}
