//! Exercise 05's check is proven able to fail: each known-wrong UDP client below must fail it,
//! with the explanation a learner who made that mistake needs to read.

use course::check::{Failure, udp_client};

#[path = "known_wrong/udp_client_never_gives_up.rs"]
mod udp_client_never_gives_up;
#[path = "known_wrong/udp_client_never_retries.rs"]
mod udp_client_never_retries;
#[path = "known_wrong/udp_client_trusts_anyone.rs"]
mod udp_client_trusts_anyone;

fn failure(ask: impl udp_client::Ask) -> Failure {
    match udp_client::run(ask) {
        Ok(transcript) => panic!(
            "a known-wrong client passed the UDP client check, which is therefore too weak:\n\
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
fn a_client_that_never_retries_is_told_to_send_again() {
    let failure = failure(udp_client_never_retries::ask);
    assert_says(
        &failure,
        "The server dropped the first datagram, and ask returned an error without sending",
    );
}

#[test]
fn a_client_that_trusts_anyone_is_told_to_check_the_sender() {
    let failure = failure(udp_client_trusts_anyone::ask);
    assert_says(&failure, "which came from a stranger, not from the server");
}

#[test]
fn a_client_that_never_gives_up_is_told_to_stop() {
    let failure = failure(udp_client_never_gives_up::ask);
    assert_says(&failure, "The server received \"anyone?\" 4 times");
}
