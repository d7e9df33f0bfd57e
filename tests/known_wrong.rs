//! Every check is proven able to fail: each known-wrong answer below must fail its check, with
//! the explanation a learner who made that mistake needs to read.

use course::check::{Failure, Script, Serve, chat, echo_client, greeting, threaded_echo};

// The known-wrong answers, one file each in `tests/known_wrong/`.
#[path = "known_wrong/chat_broker.rs"]
mod chat_broker;
#[path = "known_wrong/chat_delivers_on_threads.rs"]
mod chat_delivers_on_threads;
#[path = "known_wrong/chat_echoes_to_sender.rs"]
mod chat_echoes_to_sender;
#[path = "known_wrong/chat_forgets_leaves.rs"]
mod chat_forgets_leaves;
#[path = "known_wrong/chat_ignores_full_queues.rs"]
mod chat_ignores_full_queues;
#[path = "known_wrong/chat_keeps_only_the_newest.rs"]
mod chat_keeps_only_the_newest;
#[path = "known_wrong/chat_says_left_when_cut_off.rs"]
mod chat_says_left_when_cut_off;
#[path = "known_wrong/chat_waits_for_the_slow.rs"]
mod chat_waits_for_the_slow;
#[path = "known_wrong/echo_bytes.rs"]
mod echo_bytes;
#[path = "known_wrong/echo_client_accepts_missing_echoes.rs"]
mod echo_client_accepts_missing_echoes;
#[path = "known_wrong/echo_client_new_reader_per_echo.rs"]
mod echo_client_new_reader_per_echo;
#[path = "known_wrong/echo_client_one_read.rs"]
mod echo_client_one_read;
#[path = "known_wrong/echo_client_waits_for_close.rs"]
mod echo_client_waits_for_close;
#[path = "known_wrong/echo_dies_with_a_client.rs"]
mod echo_dies_with_a_client;
#[path = "known_wrong/echo_joins_each_thread.rs"]
mod echo_joins_each_thread;
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
fn an_echo_that_joins_each_client_thread_is_told_not_to_wait() {
    let failure = failure(&threaded_echo::SCRIPT, echo_joins_each_thread::serve);
    assert_says(&failure, "do not wait for that thread (with join)");
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

fn client_failure(send_lines: impl echo_client::SendLines) -> Failure {
    match echo_client::run(send_lines) {
        Ok(transcript) => panic!(
            "a known-wrong client passed the echo client check, which is therefore too weak:\n\
             {transcript}"
        ),
        Err(failure) => failure,
    }
}

#[test]
fn a_client_that_reads_once_per_echo_is_told_a_read_can_hold_several() {
    let failure = client_failure(echo_client_one_read::send_lines);
    assert_says(&failure, "One read() can hold several replies");
}

#[test]
fn a_client_with_a_new_reader_per_echo_is_told_to_keep_one() {
    let failure = client_failure(echo_client_new_reader_per_echo::send_lines);
    assert_says(&failure, "as long as you keep the same one for every reply");
}

#[test]
fn a_client_that_waits_for_the_close_is_told_so() {
    let failure = client_failure(echo_client_waits_for_close::send_lines);
    assert_says(
        &failure,
        "Reading until the server closes (read_to_end) waits forever",
    );
}

#[test]
fn a_client_that_takes_missing_echoes_calmly_is_told_so() {
    let failure = client_failure(echo_client_accepts_missing_echoes::send_lines);
    assert_says(
        &failure,
        "A missing echo (or one without its newline) means the reply is broken",
    );
}

#[path = "known_right/echo_by_lines.rs"]
mod echo_by_lines;

#[test]
fn a_line_by_line_echo_also_passes() {
    if let Err(failure) = threaded_echo::SCRIPT.run(echo_by_lines::serve) {
        panic!("a correct echo server of another design fails the check:\n{failure}");
    }
}

#[test]
fn the_chat_rules_that_keep_the_broker_right_pass() {
    let right = |listener| chat_broker::serve_with(listener, chat_broker::RIGHT);
    if let Err(failure) = chat::SCRIPT.run(right) {
        panic!("the test's own copy of the reference broker fails:\n{failure}");
    }
}

#[test]
fn a_chat_that_echoes_to_the_sender_is_told_so() {
    let failure = failure(&chat::SCRIPT, chat_echoes_to_sender::serve);
    assert_says(&failure, "`announce` must skip the client it is given");
}

#[test]
fn a_chat_that_forgets_to_announce_leaves_is_told_so() {
    let failure = failure(&chat::SCRIPT, chat_forgets_leaves::serve);
    assert_says(&failure, "bob left, and alice was not told");
}

#[test]
fn a_chat_that_waits_for_a_slow_reader_is_told_so() {
    let failure = failure(&chat::SCRIPT, chat_waits_for_the_slow::serve);
    assert_says(
        &failure,
        "is the broker waiting for room in erin's full queue?",
    );
}

#[test]
fn a_chat_that_delivers_in_different_orders_is_told_so() {
    let failure = failure(&chat::SCRIPT, chat_delivers_on_threads::serve);
    assert_says(&failure, "heard them in different orders");
}

#[test]
fn a_chat_that_loses_lines_sent_at_the_same_moment_is_told_so() {
    let failure = failure(&chat::SCRIPT, chat_keeps_only_the_newest::serve);
    assert_says(&failure, "not every line reached everyone else");
}

#[test]
fn a_chat_that_hides_why_a_client_was_cut_off_is_told_so() {
    let failure = failure(&chat::SCRIPT, chat_says_left_when_cut_off::serve);
    assert_says(&failure, "the room was told \"* erin left\"");
    assert_says(&failure, "tell the room exactly that");
}

#[path = "known_right/echo_client_half_closes.rs"]
mod echo_client_half_closes;

#[test]
fn a_client_that_half_closes_also_passes() {
    if let Err(failure) = echo_client::run(echo_client_half_closes::send_lines) {
        panic!("a correct echo client of another design fails the check:\n{failure}");
    }
}

#[test]
fn a_chat_that_ignores_full_queues_is_told_to_cut_the_client_off() {
    let failure = failure(&chat::SCRIPT, chat_ignores_full_queues::serve);
    assert_says(&failure, "erin read nothing at all, yet was never cut off");
}
