//! Runs your exercise 08 server by hand. Your work goes in `exercises/src/08_shutdown.rs`.
//! Ctrl-C here sends `()` on the server's shutdown channel; a second Ctrl-C exits at once.

use std::time::Duration;

use course::cli::{Program, Role, serve_by_hand};

const PROGRAM: Program = Program {
    name: "ex08_shutdown",
    role: Role::Server,
    about: "Exercise 08: your server that shuts down gracefully.",
    default_address: "127.0.0.1:65439",
    extra_usage: "[GRACE_SECONDS]",
    max_extra_args: 1,
    try_it: "Connect from other terminals with:\n  nc 127.0.0.1 65439\n\
             then press Ctrl-C here, and watch what each one hears.",
};

/// How long lines in flight may take to arrive once the shutdown has begun, when you run it by
/// hand. (The check gives a shorter one, after the address.)
const GRACE: Duration = Duration::from_secs(5);

fn main() -> course::cli::MainResult {
    let grace = match PROGRAM.args()?.extra.first() {
        Some(seconds) => course::cli::seconds("GRACE_SECONDS", seconds, 0.0..=3600.0)?,
        None => GRACE,
    };
    let shutdown = course::signal::on_ctrl_c()?;
    serve_by_hand(&PROGRAM, |listener| {
        exercises::shutdown::serve(listener, shutdown, grace)
    })
}
