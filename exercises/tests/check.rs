//! The checks for your exercises. Run them all with `cargo test -p exercises`, or one with
//! `cargo test -p exercises 03`. They fail until you solve the exercise; the message says why.
//!
//! These are the same checks `cargo test` runs on the reference solutions, so a check that
//! passes here passes for the same reasons there. (No need to change this file.)

use course::check::{self, check_exercise};

#[test]
fn ex01_greeting() {
    check_exercise(&check::greeting::SCRIPT, exercises::greeting::serve);
}

#[test]
fn ex02_echo_client() {
    check::echo_client::check_exercise(exercises::echo_client::send_lines);
}

#[test]
fn ex03_threaded_echo() {
    check_exercise(
        &check::threaded_echo::SCRIPT,
        exercises::threaded_echo::serve,
    );
}

#[test]
fn ex04_chat() {
    check_exercise(&check::chat_broker::SCRIPT, exercises::chat::serve);
}

#[test]
fn ex05_udp_echo_client() {
    check::udp_client::check_exercise(|socket, server, message, wait, attempts| {
        exercises::udp_echo_client::ask(socket, server, message, wait, attempts)
            .map(|answer| (answer.reply, answer.attempt))
    });
}

#[test]
fn ex06_timeouts() {
    check::idle_timeout::check_exercise(exercises::timeouts::serve);
}

#[test]
fn ex07_thread_pool() {
    check::pool::check_exercise(exercises::thread_pool::serve);
}

#[test]
fn ex08_shutdown() {
    check::shutdown::check_exercise(exercises::shutdown::serve);
}

#[path = "../src/10_async_echo.rs"]
mod async_echo;

#[test]
fn ex10_async_echo() {
    check_exercise(&check::async_echo::SCRIPT, async_echo::serve);
}

#[test]
fn ex12_http() {
    check::http::check_exercise(exercises::http::serve);
}

#[test]
fn ex14_ftp() {
    check::path_sandbox::check_exercise(|root, cwd, requested| {
        exercises::ftp::resolve(root, cwd, requested).map_err(|refusal| refusal.to_string())
    });
}
