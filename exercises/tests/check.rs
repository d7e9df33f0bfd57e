//! The checks for your exercises. Run them all with `cargo test -p exercises`, or one with
//! `cargo test -p exercises 03`. They fail until you solve the exercise; the message says why.
//!
//! These are the same checks `cargo test` runs on the reference solutions, so a check that
//! passes here passes for the same reasons there. Each server check starts your exercise's
//! program (`exNN_...`, the one you can run by hand) as a process of its own, so that whatever
//! your program does, even ending itself, is seen and named. (No need to change this file.)

use course::check::{self, Target, check_exercise};

/// Your exercise's program, as `cargo run -p exercises --bin NAME` would start it.
macro_rules! program {
    ($name:literal) => {
        Target::Program(env!(concat!("CARGO_BIN_EXE_", $name)).into())
    };
}

#[test]
fn ex01_greeting() {
    check_exercise(&check::greeting::CHECK, program!("ex01_greeting"));
}

#[test]
fn ex02_echo_client() {
    check::echo_client::check_exercise(exercises::echo_client::send_lines);
}

#[test]
fn ex03_threaded_echo() {
    check_exercise(
        &check::threaded_echo::SCRIPT,
        program!("ex03_threaded_echo"),
    );
}

#[test]
fn ex04_chat() {
    check_exercise(&check::chat_broker::SCRIPT, program!("ex04_chat"));
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
    check_exercise(&check::idle_timeout::CHECK, program!("ex06_timeouts"));
}

#[test]
fn ex07_thread_pool() {
    check_exercise(&check::pool::CHECK, program!("ex07_thread_pool"));
}

#[test]
fn ex08_shutdown() {
    check_exercise(&check::shutdown::CHECK, program!("ex08_shutdown"));
}

#[test]
fn ex09_line_server() {
    check_exercise(&check::line_server::SCRIPT, program!("ex09_line_server"));
}

#[path = "../src/10_async_echo.rs"]
mod async_echo;

/// Exercise 10 needs tokio, which only the checks and the examples compile: its program is this
/// test program itself, started again by the check (see `answer_process`).
#[test]
fn ex10_async_echo() {
    check_exercise(
        &check::async_echo::SCRIPT,
        Target::answer_in_test("answer_process", "10_async_echo"),
    );
}

#[test]
fn ex11_load() {
    check::load_client::check_exercise(|server, clients, messages, timeout| {
        let measured = exercises::load::measure(server, clients, messages, timeout);
        (measured.round_trips, measured.errors)
    });
}

#[test]
fn ex12_http() {
    check_exercise(&check::http::CHECK, program!("ex12_http"));
}

#[path = "../src/13_tls_client.rs"]
mod tls_client;

/// Exercise 13 needs rustls, which only the checks and the examples compile.
#[test]
fn ex13_tls_client() {
    tls_lessons::check::check_exercise(tls_client::connect);
}

/// Not a check: where the check of exercise 10 starts your server, as a program of its own.
#[test]
#[ignore = "the check of exercise 10 runs it, as your server's program"]
fn answer_process() {
    if check::requested_answer().as_deref() == Some("10_async_echo") {
        check::serve_as_program(async_echo::serve);
    }
}

#[test]
fn ex14_ftp() {
    check::path_sandbox::check_exercise(|root, cwd, requested| {
        exercises::ftp::resolve(root, cwd, requested).map_err(|refusal| refusal.to_string())
    });
}
