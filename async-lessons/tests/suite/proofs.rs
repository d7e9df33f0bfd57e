//! Exercise 10's check is proven able to fail: each known-wrong answer below must fail it, with
//! the explanation a learner who made that mistake needs to read; and a right answer of another
//! design must pass it.
//!
//! The answers need tokio, so they live in this package (which has it), in
//! `async-lessons/tests/known_wrong/` and `known_right/`. The exercise as shipped is proven to
//! fail by `.ci/run`.

use course::check::{Failure, Script, Serve, async_echo};

#[path = "../known_wrong/async_echo_blocks_its_thread.rs"]
mod async_echo_blocks_its_thread;
#[path = "../known_wrong/async_echo_dies_with_a_client.rs"]
mod async_echo_dies_with_a_client;
#[path = "../known_wrong/async_echo_stops_after_first_line.rs"]
mod async_echo_stops_after_first_line;

/// Runs `serve`, kept in `answer_file`, against `script`, which must fail, and returns the
/// failure.
fn failure(script: &Script, answer_file: &str, serve: impl Serve) -> Failure {
    match script.run_as(answer_file, serve) {
        Ok(transcript) => panic!(
            "a known-wrong answer passed the {} check, which is therefore too weak:\n{transcript}",
            script.exercise.id
        ),
        Err(failure) => failure,
    }
}

fn assert_says(failure: &Failure, words: &str) {
    assert!(
        failure.reason.contains(words),
        "the failure should say {words:?}, but it says:\n{failure}"
    );
}

#[test]
fn a_task_that_blocks_its_thread_is_told_so() {
    let failure = failure(
        &async_echo::SCRIPT,
        "async_echo_blocks_its_thread.rs",
        async_echo_blocks_its_thread::serve,
    );
    assert_says(
        &failure,
        "Client D received nothing within 2 s, where \"hello from D\\n\" was expected.",
    );
    assert_says(&failure, "Or does a task block its thread");
}

#[test]
fn a_task_that_stops_after_one_line_is_told_so() {
    let failure = failure(
        &async_echo::SCRIPT,
        "async_echo_stops_after_first_line.rs",
        async_echo_stops_after_first_line::serve,
    );
    assert_says(&failure, "stop serving a client after its first message");
}

#[test]
fn a_server_that_dies_with_one_client_is_told_so() {
    let failure = failure(
        &async_echo::SCRIPT,
        "async_echo_dies_with_a_client.rs",
        async_echo_dies_with_a_client::serve,
    );
    assert_says(
        &failure,
        "One client's error should end only that client's connection",
    );
}

#[path = "../known_right/async_echo_copies_halves.rs"]
mod async_echo_copies_halves;

#[test]
fn an_echo_of_another_design_also_passes() {
    if let Err(failure) = async_echo::SCRIPT.run_as(
        "async_echo_copies_halves.rs",
        async_echo_copies_halves::serve,
    ) {
        panic!("a correct async echo server of another design fails the check:\n{failure}");
    }
}
