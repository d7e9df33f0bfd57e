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
    // Not a number, and more than tokio's semaphore holds (the first client made the server
    // panic before): refused in words.
    for wrong in ["lots", "18446744073709551615"] {
        let (success, _, stderr) = run(&["127.0.0.1:0", wrong]);
        assert!(!success);
        assert!(
            stderr.contains(&format!(
                "MAX_CLIENTS must be a whole number from 1 to 1000000, not \"{wrong}\""
            )),
            "{stderr}"
        );
    }
    // A time so large that a newcomer's deadline would overflow is refused in words.
    let (success, _, stderr) = run(&["127.0.0.1:0", "10", "1e19"]);
    assert!(!success);
    assert!(
        stderr.contains("NAME_SECONDS must be a number of seconds from 0.001 to 3600"),
        "{stderr}"
    );
}

/// Lesson 10's room is lesson 04's on purpose (see `async-lessons/src/10_async_chat/room.rs`):
/// every method of the room, and the lines the chat says, are the same code in both, word for
/// word, but for `pub` and the places where the room reaches a client. (Comments may differ:
/// lesson 04's explain more, and lesson 10's speak of tasks.) A fix to one chat's room that
/// forgets the other fails here.
#[test]
fn room_is_lesson_04s() {
    const LESSON_04: &str = include_str!("../../../lessons/04_chat.rs");
    const LESSON_10: &str = include_str!("../../src/10_async_chat/room.rs");
    // Where the two must differ: a client is reached through a tokio queue and a task (`arrive`,
    // `remove`, `offer`), and the broker asks whether a writer lags (lesson 10 only).
    let the_same = [
        "fn new(",
        "fn hear(",
        "fn choose_name(",
        "fn name_problem(",
        "fn names(",
        "fn run_command(",
        "fn rename(",
        "fn send_privately(",
        "fn send_to(",
        "fn broadcast_to_others(",
        "fn next_name_deadline(",
        "fn send_away_the_nameless(",
        "fn cut_off_the_slow(",
        "fn describe(",
        "const WELCOME",
        "const ASK_NAME",
        "const HELP",
    ];
    for item in the_same {
        let in_04 = item_text(LESSON_04, item);
        let in_10 = item_text(LESSON_10, item);
        assert_eq!(
            in_04, in_10,
            "`{item}` reads differently in lessons/04_chat.rs and lesson 10's room.rs"
        );
    }
}

/// The chat's own limits, set in each server's main file rather than in `src/chat.rs`: the seats,
/// the longest name, and the time to choose one. Both chats keep the same.
#[test]
fn limits_are_lesson_04s() {
    const LESSON_04: &str = include_str!("../../../lessons/04_chat.rs");
    const LESSON_10: &str = include_str!("../../src/10_async_chat/main.rs");
    for item in [
        "const MAX_CLIENTS",
        "const MAX_NAME_CHARS",
        "const NAME_TIME",
    ] {
        assert_eq!(
            item_text(LESSON_04, item),
            item_text(LESSON_10, item),
            "`{item}` differs in lessons/04_chat.rs and lesson 10's main.rs"
        );
    }
}

/// The code of the item that starts with `start` (after any `pub `), through its closing line,
/// without its comment lines, and with `pub ` taken out so that visibility does not count.
fn item_text(source: &str, start: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let unpub = |line: &str| line.replacen("pub ", "", 1);
    let first = lines
        .iter()
        .position(|line| unpub(line).trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no `{start}` found"));
    let indent = lines[first].len() - lines[first].trim_start().len();
    let closing = [" ".repeat(indent) + "}", " ".repeat(indent) + "];"];
    let last = if lines[first].ends_with(';') {
        first
    } else {
        first
            + lines[first..]
                .iter()
                .position(|line| closing.iter().any(|end| line == end))
                .unwrap_or_else(|| panic!("`{start}` has no end"))
    };
    lines[first..=last]
        .iter()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| unpub(line))
        .collect::<Vec<_>>()
        .join("\n")
}
