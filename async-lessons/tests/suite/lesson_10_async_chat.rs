//! Lesson 10's chat server, held to lesson 04's tests: the same protocol, the same behaviour.
//!
//! The scenarios are not copied: `lesson_04_chat` in this program is the top-level
//! `tests/suite/lesson_04_chat.rs`, compiled again (see `main.rs`). Run them with
//! `cargo test -p async-lessons lesson_04_chat`. This file holds only what is about lesson 10's
//! own binary.

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
