//! Exercise 06's check is proven able to fail: each known-wrong server below must fail it, with
//! the explanation a learner who made that mistake needs to read.

use course::check::{Failure, idle_timeout};

#[path = "known_wrong/timeouts_close_without_a_word.rs"]
mod timeouts_close_without_a_word;
#[path = "known_wrong/timeouts_count_from_connect.rs"]
mod timeouts_count_from_connect;

fn failure(serve: impl idle_timeout::ServeWithIdle) -> Failure {
    match idle_timeout::run(serve) {
        Ok(transcript) => panic!(
            "a known-wrong server passed the idle timeout check, which is therefore too weak:\n\
             {transcript}"
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
fn a_server_that_closes_without_a_word_is_told_to_say_why() {
    let failure = failure(timeouts_close_without_a_word::serve);
    assert_says(
        &failure,
        "Client A's connection was closed with no line saying why",
    );
}

#[test]
fn a_server_that_counts_from_connecting_is_told_to_count_silence() {
    let failure = failure(timeouts_count_from_connect::serve);
    assert_says(
        &failure,
        "the idle limit must count silence, not time since connecting",
    );
}
