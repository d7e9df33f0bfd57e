//! Exercise 08's check is proven able to fail: each known-wrong shutdown below fails it, with the
//! explanation a learner who made that mistake needs to read.

use course::check::Failure;
use course::check::shutdown::{self, ServeUntilShutdown};

#[path = "known_wrong/shutdown_drops_lines_in_flight.rs"]
mod shutdown_drops_lines_in_flight;
#[path = "known_wrong/shutdown_forgets_idle_clients.rs"]
mod shutdown_forgets_idle_clients;
#[path = "known_wrong/shutdown_keeps_listening.rs"]
mod shutdown_keeps_listening;
#[path = "known_wrong/shutdown_returns_at_once.rs"]
mod shutdown_returns_at_once;
#[path = "known_wrong/shutdown_waits_for_ever.rs"]
mod shutdown_waits_for_ever;

fn failure(serve: impl ServeUntilShutdown) -> Failure {
    match shutdown::run(serve) {
        Ok(transcript) => panic!(
            "a known-wrong shutdown passed the 08_shutdown check, which is therefore too weak:\n\
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
fn a_server_that_keeps_listening_is_told_to_close_the_listener() {
    let failure = failure(shutdown_keeps_listening::serve);
    assert_says(
        &failure,
        "Client C could still connect 300 ms after the shutdown",
    );
    assert_says(&failure, "close the listener (drop it) at once?");
}

#[test]
fn client_threads_that_ignore_the_shutdown_are_told_about_idle_clients() {
    let failure = failure(shutdown_forgets_idle_clients::serve);
    assert_says(&failure, "Client B receives nothing within 1 s where");
    assert_says(
        &failure,
        "An idle client never sends the byte that would wake a blocked read",
    );
}

#[test]
fn a_goodbye_mid_line_is_told_to_let_the_line_finish() {
    let failure = failure(shutdown_drops_lines_in_flight::serve);
    assert_says(
        &failure,
        "Client A receives \"The server is shutting down. Goodbye!\\n\"",
    );
    assert_says(&failure, "Say goodbye only between two lines");
}

#[test]
fn a_shutdown_without_a_deadline_is_told_to_cut_off() {
    let failure = failure(shutdown_waits_for_ever::serve);
    assert_says(&failure, "Client D receives nothing within 1 s where");
    assert_says(&failure, "or the shutdown would wait for it for ever");
}

#[test]
fn a_serve_that_returns_at_once_is_told_to_join() {
    let failure = failure(shutdown_returns_at_once::serve);
    assert_says(
        &failure,
        "Your serve() returned while client D was still connected",
    );
}

#[test]
fn a_server_that_ignores_the_shutdown_is_told_it_still_accepts() {
    // What the shipped exercise does: serve as if no shutdown existed.
    let failure = failure(|listener, _shutdown, _grace| -> anyhow::Result<()> {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(&stream);
                let mut line = String::new();
                while std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) > 0 {
                    if line.ends_with('\n') {
                        let _ = std::io::Write::write_all(&mut &stream, line.as_bytes());
                        line.clear();
                    }
                }
            });
        }
        Ok(())
    });
    assert_says(
        &failure,
        "Client C could still connect 300 ms after the shutdown",
    );
}
