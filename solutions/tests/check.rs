//! The reference solutions must pass the very checks that judge the exercises, and produce the
//! transcripts recorded in `src/check/snapshots/` (the course's, beside the harness).

use course::check::{self, check_solution};

#[test]
fn ex01_greeting() {
    check_solution(&check::greeting::SCRIPT, solutions::greeting::serve);
}

#[test]
fn ex02_echo_client() {
    check::echo_client::check_solution(solutions::echo_client::send_lines);
}

#[test]
fn ex03_threaded_echo() {
    check_solution(
        &check::threaded_echo::SCRIPT,
        solutions::threaded_echo::serve,
    );
}

#[test]
fn ex04_chat() {
    check_solution(&check::chat_broker::SCRIPT, solutions::chat::serve);
}

#[test]
fn ex05_udp_echo_client() {
    check::udp_client::check_solution(|socket, server, message, wait, attempts| {
        solutions::udp_echo_client::ask(socket, server, message, wait, attempts)
            .map(|answer| (answer.reply, answer.attempt))
    });
}

#[test]
fn ex06_timeouts() {
    check::idle_timeout::check_solution(solutions::timeouts::serve);
}

#[test]
fn ex07_thread_pool() {
    check::pool::check_solution(solutions::thread_pool::serve);
}

#[test]
fn ex08_shutdown() {
    check::shutdown::check_solution(solutions::shutdown::serve);
}

#[path = "../src/10_async_echo.rs"]
mod async_echo;

#[test]
fn ex10_async_echo() {
    check_solution(&check::async_echo::SCRIPT, async_echo::serve);
}

#[test]
fn ex12_http() {
    check::http::check_solution(solutions::http::serve);
}

#[test]
fn ex14_ftp() {
    check::path_sandbox::check_solution(|root, cwd, requested| {
        solutions::ftp::resolve(root, cwd, requested).map_err(|refusal| refusal.to_string())
    });
}
