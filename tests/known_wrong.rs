//! Every check is proven able to fail: each known-wrong answer below must fail its check, with
//! the explanation a learner who made that mistake needs to read.

use course::check::{Failure, Script, Serve, echo_client, greeting, threaded_echo};

// The known-wrong answers, one file each in `tests/known_wrong/`.
#[path = "known_wrong/echo_client_accepts_half_a_reply.rs"]
mod echo_client_accepts_half_a_reply;
#[path = "known_wrong/echo_client_one_read.rs"]
mod echo_client_one_read;
#[path = "known_wrong/echo_client_waits_for_close.rs"]
mod echo_client_waits_for_close;
#[path = "known_wrong/echo_dies_with_a_client.rs"]
mod echo_dies_with_a_client;
#[path = "known_wrong/echo_not_started.rs"]
mod echo_not_started;
#[path = "known_wrong/echo_panics_on_a_reset.rs"]
mod echo_panics_on_a_reset;
#[path = "known_wrong/echo_read_is_a_message.rs"]
mod echo_read_is_a_message;
#[path = "known_wrong/echo_single_threaded.rs"]
mod echo_single_threaded;
#[path = "known_wrong/echo_stops_after_first_line.rs"]
mod echo_stops_after_first_line;
#[path = "known_wrong/greeting_local_address.rs"]
mod greeting_local_address;

/// Runs `serve` against `script`, which must fail, and returns the failure.
fn failure(script: &Script, serve: impl Serve) -> Failure {
    match script.run(serve) {
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
fn a_single_threaded_echo_is_told_it_serves_one_client_at_a_time() {
    let failure = failure(&threaded_echo::SCRIPT, echo_single_threaded::serve);
    assert_says(&failure, "is your server handling one client at a time?");
    // The whole message, as a learner sees it; the book's exercise chapter shows this snapshot.
    insta::assert_snapshot!("single_threaded_echo_failure", failure.to_string());
}

#[test]
fn an_echo_that_treats_a_read_as_a_message_is_told_so() {
    let failure = failure(&threaded_echo::SCRIPT, echo_read_is_a_message::serve);
    assert_says(
        &failure,
        "does your server treat one read() as one whole message?",
    );
}

#[test]
fn an_echo_that_stops_after_one_line_is_told_so() {
    let failure = failure(&threaded_echo::SCRIPT, echo_stops_after_first_line::serve);
    assert_says(&failure, "does your server stop after the first message?");
}

#[test]
fn a_server_that_dies_with_one_client_is_told_so() {
    let failure = failure(&threaded_echo::SCRIPT, echo_dies_with_a_client::serve);
    // Whether client B finds the port already closed, or its connection reset, is a race; what
    // a learner must read is the same either way.
    assert_says(
        &failure,
        "Your serve() returned an error, so it stopped accepting clients",
    );
    assert_says(
        &failure,
        "One client's error should end only that client's connection",
    );
}

#[test]
fn a_server_whose_client_thread_panics_is_told_so() {
    let failure = failure(&threaded_echo::SCRIPT, echo_panics_on_a_reset::serve);
    assert_says(&failure, "A thread of your server panicked");
    assert_says(&failure, "Connection reset");
}

#[test]
fn an_unstarted_exercise_is_told_it_is_not_finished() {
    let failure = failure(&threaded_echo::SCRIPT, echo_not_started::serve);
    assert_says(
        &failure,
        "Exercise not finished: your server reached a `todo!()`",
    );
    assert_says(&failure, "serve each client on a thread of its own");
}

#[test]
fn a_greeting_with_the_servers_address_is_told_so() {
    let failure = failure(&greeting::SCRIPT, greeting_local_address::serve);
    assert_says(&failure, "named the server's own address");
}

fn client_failure(send_line: impl echo_client::SendLine) -> Failure {
    match echo_client::run(send_line) {
        Ok(transcript) => panic!(
            "a known-wrong client passed the echo client check, which is therefore too weak:\n\
             {transcript}"
        ),
        Err(failure) => failure,
    }
}

#[test]
fn a_client_that_reads_once_is_told_one_read_is_not_one_reply() {
    let failure = client_failure(echo_client_one_read::send_line);
    assert_says(&failure, "one read() is not one reply");
}

#[test]
fn a_client_that_waits_for_the_close_is_told_so() {
    let failure = client_failure(echo_client_waits_for_close::send_line);
    assert_says(
        &failure,
        "Reading until the server closes (read_to_end) waits forever",
    );
}

#[test]
fn a_client_that_takes_half_a_reply_is_told_so() {
    let failure = client_failure(echo_client_accepts_half_a_reply::send_line);
    assert_says(&failure, "A reply without its newline is broken");
}

#[path = "known_right/echo_by_lines.rs"]
mod echo_by_lines;

#[test]
fn a_line_by_line_echo_also_passes() {
    if let Err(failure) = threaded_echo::SCRIPT.run(echo_by_lines::serve) {
        panic!("a correct echo server of another design fails the check:\n{failure}");
    }
}
