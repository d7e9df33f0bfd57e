//! Exercise 10's check is proven able to fail: each known-wrong answer below must fail it, with
//! the explanation a learner who made that mistake needs to read; and a right answer of another
//! design must pass it.
//!
//! The answers need tokio, so they live in this package (which has it), in
//! `async-lessons/tests/known_wrong/` and `known_right/`. The exercise as shipped is proven to
//! fail by `.ci/run`.

use crate::support;

use course::check::{self, Failure, Target, async_echo, serve_as_program};

#[path = "../known_wrong/async_echo_blocks_its_thread.rs"]
mod async_echo_blocks_its_thread;
#[path = "../known_wrong/async_echo_dies_with_a_client.rs"]
mod async_echo_dies_with_a_client;
#[path = "../known_wrong/async_echo_stops_after_first_line.rs"]
mod async_echo_stops_after_first_line;

/// The test that plays an answer, as a program of its own (see [`answer_process`]).
const ANSWERS: &str = "proofs::answer_process";

/// Runs exercise 10's check on the answer `name` [`support::proof_repeats`] times; every run must
/// fail.
/// Returns each run's failure.
fn failures(name: &str) -> Vec<Failure> {
    let runs = support::proof_repeats();
    (1..=runs)
        .map(|number| {
            match check::run(&async_echo::SCRIPT, &Target::answer_in_test(ANSWERS, name)) {
                Ok(transcript) => panic!(
                    "run {number} of {runs}: the known-wrong answer {name} passed the check, \
                     which is therefore too weak:\n{transcript}"
                ),
                Err(failure) => failure,
            }
        })
        .collect()
}

/// Every run's verdict must say `words`.
fn assert_says(failures: &[Failure], words: &str) {
    for (run, failure) in failures.iter().enumerate() {
        assert!(
            failure.reason.contains(words),
            "run {} of {}: the failure should say {words:?}, but it says:\n{failure}",
            run + 1,
            failures.len()
        );
    }
}

#[test]
fn a_task_that_blocks_its_thread_is_told_so() {
    let failures = failures("async_echo_blocks_its_thread");
    assert_says(
        &failures,
        "Client D received nothing within 2 s, where \"hello from D\\n\" was expected.",
    );
    assert_says(&failures, "Or does a task block its thread");
}

#[test]
fn a_task_that_stops_after_one_line_is_told_so() {
    let failures = failures("async_echo_stops_after_first_line");
    assert_says(&failures, "stop serving a client after its first message");
}

#[test]
fn a_server_that_dies_with_one_client_is_told_so() {
    let failures = failures("async_echo_dies_with_a_client");
    assert_says(
        &failures,
        "One client's error should end only that client's connection",
    );
}

#[path = "../known_right/async_echo_copies_halves.rs"]
mod async_echo_copies_halves;

#[test]
fn an_echo_of_another_design_also_passes() {
    let answer = Target::answer_in_test(ANSWERS, "async_echo_copies_halves");
    if let Err(failure) = check::run(&async_echo::SCRIPT, &answer) {
        panic!("a correct async echo server of another design fails the check:\n{failure}");
    }
}

/// Not a proof: where each answer above is served, as a program of its own.
#[test]
#[ignore = "the proofs run it, as each answer's program"]
fn answer_process() {
    let Some(name) = check::requested_answer() else {
        return;
    };
    match name.as_str() {
        "async_echo_blocks_its_thread" => serve_as_program(async_echo_blocks_its_thread::serve),
        "async_echo_dies_with_a_client" => serve_as_program(async_echo_dies_with_a_client::serve),
        "async_echo_stops_after_first_line" => {
            serve_as_program(async_echo_stops_after_first_line::serve)
        }
        "async_echo_copies_halves" => serve_as_program(async_echo_copies_halves::serve),
        other => panic!("no known answer is called {other}"),
    }
}
