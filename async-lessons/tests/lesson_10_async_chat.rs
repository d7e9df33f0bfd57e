//! Lesson 10's chat server, held to lesson 04's tests: the same protocol, the same behaviour.
//!
//! The scenarios are not copied. `lesson_04_chat` below is the top-level
//! `tests/lesson_04_chat.rs`, compiled again; `cfg(async_chat)` (set by this package's build
//! script) points its `SERVER` at `10_async_chat`. Run them with
//! `cargo test -p async-lessons --test lesson_10_async_chat`.

// Some of that file's helpers serve only the tests about lesson 04's own binaries, which are
// left out here.
#[allow(unused_imports, dead_code)]
#[path = "../../tests/lesson_04_chat.rs"]
mod lesson_04_chat;

use std::process::Command;

const SERVER: &str = env!("CARGO_BIN_EXE_10_async_chat");

/// Runs the server with `args` (which make it exit at once), and returns its stdout and stderr.
fn run(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(SERVER)
        .args(args)
        .output()
        .expect("run 10_async_chat");
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (
        output.status.success(),
        text(output.stdout),
        text(output.stderr),
    )
}

#[test]
fn help_explains_the_limit_and_how_to_join() {
    let (success, stdout, _) = run(&["--help"]);
    assert!(success);
    for wanted in [
        "usage: 10_async_chat [ADDRESS] [MAX_CLIENTS]",
        "(default 1000)",
        "cargo run --bin 04_chat_client -- 127.0.0.1:65442",
        "nc 127.0.0.1 65442",
    ] {
        assert!(stdout.contains(wanted), "{stdout}");
    }
    let (success, _, stderr) = run(&["127.0.0.1:0", "lots"]);
    assert!(!success);
    assert!(
        stderr.contains("MAX_CLIENTS must be a whole number from 1 up, not \"lots\""),
        "{stderr}"
    );
}
