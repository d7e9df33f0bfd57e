//! Exercise 07's check is proven able to fail: each known-wrong pool below fails it, with the
//! explanation a learner who made that mistake needs to read.

use course::check::Failure;
use course::check::pool::{self, ServePool};

#[path = "known_wrong/pool_closes_without_a_word.rs"]
mod pool_closes_without_a_word;
#[path = "known_wrong/pool_thread_per_connection.rs"]
mod pool_thread_per_connection;
#[path = "known_wrong/pool_thread_per_waiting_connection.rs"]
mod pool_thread_per_waiting_connection;
#[path = "known_wrong/pool_waits_for_room.rs"]
mod pool_waits_for_room;
#[path = "known_wrong/pool_worker_serves_one_client.rs"]
mod pool_worker_serves_one_client;

fn failure(serve: impl ServePool) -> Failure {
    match pool::run(serve) {
        Ok(transcript) => panic!(
            "a known-wrong pool passed the 07_thread_pool check, which is therefore too weak:\n\
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
fn a_pool_that_waits_for_room_is_told_to_try_send() {
    let failure = failure(pool_waits_for_room::serve);
    assert_says(&failure, "Client G receives nothing within 1 s, where");
    assert_says(
        &failure,
        "Is your accept loop waiting for room in the queue?",
    );
}

#[test]
fn a_pool_that_refuses_without_a_word_is_told_to_say_why() {
    let failure = failure(pool_closes_without_a_word::serve);
    assert_says(
        &failure,
        "Client G receives nothing: the connection closes, without a word",
    );
}

#[test]
fn a_worker_that_serves_one_client_is_told_to_go_back_to_the_queue() {
    let failure = failure(pool_worker_serves_one_client::serve);
    assert_says(
        &failure,
        "Does each worker go back to the queue after its client leaves?",
    );
}

#[test]
fn a_thread_per_connection_is_told_the_third_client_should_wait() {
    let failure = failure(pool_thread_per_connection::serve);
    assert_says(&failure, "Client C receives \"hello from C\\n\"");
    assert_says(
        &failure,
        "does your server start a thread for every connection?",
    );
}

/// Only Linux shows the check a process's threads; elsewhere this answer passes, as the
/// exercise's own text admits.
#[cfg(target_os = "linux")]
#[test]
fn a_thread_per_waiting_connection_is_caught_by_the_thread_count() {
    let failure = failure(pool_thread_per_waiting_connection::serve);
    assert_says(
        &failure,
        "does it start a thread for each connection, even one that waits?",
    );
}

#[test]
fn the_shipped_exercise_is_told_it_is_not_finished() {
    // The shipped skeleton's worker is a `todo!()`: the same words CI expects.
    let failure = failure(|_listener, _workers, _waiting| -> anyhow::Result<()> {
        todo!("serve the connections in the queue, one after another")
    });
    assert_says(
        &failure,
        "Exercise not finished: your server reached a `todo!()`",
    );
}

#[path = "known_right/pool_std_mutex_receiver.rs"]
mod pool_std_mutex_receiver;

#[test]
fn a_pool_on_std_mpsc_behind_a_mutex_passes() {
    if let Err(failure) = pool::run(pool_std_mutex_receiver::serve) {
        panic!("a right answer failed the check:\n{failure}");
    }
}
