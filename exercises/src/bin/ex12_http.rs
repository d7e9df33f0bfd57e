//! Runs your exercise 12 server by hand. Your work goes in `exercises/src/12_http.rs`.

use course::cli::{Program, Role, serve_by_hand};
use exercises::http::HEADER_TIMEOUT;

const PROGRAM: Program = Program {
    name: "ex12_http",
    role: Role::Server,
    about: "Exercise 12: your small HTTP server.",
    default_address: "127.0.0.1:65443",
    extra_usage: "[HEADER_SECONDS]",
    max_extra_args: 1,
    try_it: "Ask it for its page from another terminal with:\n  \
             curl -v http://127.0.0.1:65443/hello\n\
             or open http://127.0.0.1:65443/hello in a browser.",
};

fn main() -> course::cli::MainResult {
    // The check gives a shorter header timeout, after the address.
    let header_timeout = match PROGRAM.args()?.extra.first() {
        Some(seconds) => {
            course::cli::seconds("HEADER_SECONDS", seconds, course::cli::TIMEOUT_SECONDS)?
        }
        None => HEADER_TIMEOUT,
    };
    serve_by_hand(&PROGRAM, |listener| {
        exercises::http::serve(listener, header_timeout)
    })
}
