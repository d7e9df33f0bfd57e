//! The reference solutions must pass the very checks that judge the exercises, and produce the
//! transcripts recorded in `src/check/snapshots/` (the course's, beside the harness).
//!
//! Each server runs as a program of its own, as the learner's does: this test program, started
//! again by the check, runs only `answer_process`, which serves the solution it is asked for.

use course::check::{
    self, Program, Target, check_solution, requested_answer, serve_as_program, server_check,
};

/// The solution `id`, served by this test program started again.
fn solution(id: &str) -> Target {
    Target::answer_in_test("answer_process", id)
}

#[test]
fn ex01_greeting() {
    check_solution(&check::greeting::CHECK, solution("01_greeting"));
}

#[test]
fn ex02_echo_client() {
    check::echo_client::check_solution(solutions::echo_client::send_lines);
}

#[test]
fn ex03_threaded_echo() {
    check_solution(&check::threaded_echo::SCRIPT, solution("03_threaded_echo"));
}

#[test]
fn ex04_chat() {
    check_solution(&check::chat_broker::SCRIPT, solution("04_chat"));
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
    check_solution(&check::idle_timeout::CHECK, solution("06_timeouts"));
}

#[test]
fn ex07_thread_pool() {
    check_solution(&check::pool::CHECK, solution("07_thread_pool"));
}

#[test]
fn ex08_shutdown() {
    if !check::shutdown::CAN_RUN_HERE {
        eprintln!("{}", check::shutdown::CANNOT_RUN_HERE);
        return;
    }
    check_solution(&check::shutdown::CHECK, solution("08_shutdown"));
}

#[test]
fn ex09_line_server() {
    check_solution(&check::line_server::SCRIPT, solution("09_line_server"));
}

#[path = "../src/10_async_echo.rs"]
mod async_echo;

#[test]
fn ex10_async_echo() {
    check_solution(&check::async_echo::SCRIPT, solution("10_async_echo"));
}

#[test]
fn ex11_load() {
    check::load_client::check_solution(|server, clients, messages, timeout| {
        let measured = solutions::load::measure(server, clients, messages, timeout);
        (measured.round_trips, measured.errors)
    });
}

#[path = "../src/13_tls_client.rs"]
mod tls_client;

#[test]
fn ex13_tls_client() {
    tls_lessons::check::check_solution(tls_client::connect);
}

#[test]
fn ex12_http() {
    check_solution(&check::http::CHECK, solution("12_http"));
}

/// `cargo run -p exercises -- check NN --address` plays the same check against a server that is
/// already running, whoever started it and in whatever language: here the solutions of the
/// exercises whose lessons differ from them (lesson 01 is exercise 01's starting point, and the
/// exercises 04 and 12 ask for less than their lessons do). Lessons 03 and 10 are checked this
/// way in the course's own suite.
#[test]
fn solutions_pass_their_checks_at_an_address() {
    std::thread::scope(|scope| {
        for (number, id) in [("01", "01_greeting"), ("04", "04_chat"), ("12", "12_http")] {
            scope.spawn(move || {
                let server = server_check(number).expect("a server exercise");
                let program = Program::start(&solution(id), &server.check.program_args())
                    .unwrap_or_else(|problem| panic!("solution {id} did not start: {problem:?}"));
                let outcome = check::run(server.check, &Target::Address(program.address()));
                if let Err(failure) = outcome {
                    panic!("solution {id} fails its check at its address:\n{failure}");
                }
            });
        }
    });
}

/// Not a check: where the checks above start each solution, as a program of its own.
#[test]
#[ignore = "the checks run it, as the solution's program"]
fn answer_process() {
    let Some(id) = requested_answer() else { return };
    match id.as_str() {
        "01_greeting" => serve_as_program(solutions::greeting::serve),
        "03_threaded_echo" => serve_as_program(solutions::threaded_echo::serve),
        "04_chat" => serve_as_program(solutions::chat::serve),
        "06_timeouts" => check::idle_timeout::serve_as_program(solutions::timeouts::serve),
        "07_thread_pool" => check::pool::serve_as_program(solutions::thread_pool::serve),
        "08_shutdown" => check::shutdown::serve_as_program(solutions::shutdown::serve),
        "09_line_server" => serve_as_program(solutions::line_server::serve),
        "10_async_echo" => serve_as_program(async_echo::serve),
        "12_http" => serve_as_program(|listener| {
            solutions::http::serve(listener, check::http::HEADER_TIMEOUT)
        }),
        other => panic!("no solution is called {other}"),
    }
}

#[test]
fn ex14_ftp() {
    check::path_sandbox::check_solution(|root, cwd, requested| {
        solutions::ftp::resolve(root, cwd, requested).map_err(|refusal| refusal.to_string())
    });
}
