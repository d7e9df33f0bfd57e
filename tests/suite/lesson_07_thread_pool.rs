//! Lesson 07 end to end: the real pool server, over loopback, with 2 workers and room for 2 more
//! connections to wait, so that every limit is reached with a handful of clients.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::{Server, read_exactly, thread_count};

const SERVER: &str = env!("CARGO_BIN_EXE_07_thread_pool");
const WORKERS: usize = 2;
const MAX_WAITING: usize = 2;

fn start_small_pool() -> Server {
    let server = Server::start(
        SERVER,
        &[
            "127.0.0.1:0",
            &WORKERS.to_string(),
            &MAX_WAITING.to_string(),
        ],
    );
    assert_eq!(
        server.next_line(),
        format!("{WORKERS} workers ready, {MAX_WAITING} connections may wait for them")
    );
    server
}

/// Connects, and waits until the server's log says a worker has taken the connection.
fn connect_and_be_served(server: &Server) -> TcpStream {
    let client = server.connect();
    let me = client.local_addr().unwrap();
    let line = server.next_line();
    assert!(
        line.starts_with(&format!("{me} served by worker")),
        "expected a worker to take {me}, but the server said {line:?}"
    );
    client
}

/// Asserts that nothing arrives on `client` for a little while: it is waiting, not served.
fn assert_waits(client: &mut TcpStream) {
    client
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut byte = [0; 1];
    match client.read(&mut byte) {
        Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("a waiting client should hear nothing yet, but read gave {other:?}"),
    }
    client.set_read_timeout(Some(support::PATIENCE)).unwrap();
}

#[test]
fn silent_clients_hold_the_workers_the_queue_waits_and_the_next_is_turned_away() {
    let server = start_small_pool();
    // Two silent clients take both workers.
    let first = connect_and_be_served(&server);
    let _second = connect_and_be_served(&server);
    // Two more fill the queue. The first of them speaks, and is not answered: it waits.
    let mut third = server.connect();
    third.write_all(b"am I served?\n").unwrap();
    let _fourth = server.connect();
    assert_waits(&mut third);
    // The pool's promise: the workers, and the main thread that accepts. No thread per client.
    // (A client turned away holds a short-lived thread while its connection closes gently, so
    // count before the next one comes.)
    if let Some(threads) = thread_count(server.pid()) {
        assert_eq!(threads, WORKERS + 1, "threads while 4 clients are held");
    }
    // One more than the server can hold: one line, then the end of the connection.
    let mut fifth = server.connect();
    let mut heard = String::new();
    fifth.read_to_string(&mut heard).unwrap();
    assert_eq!(
        heard,
        "Sorry, the server is busy. Please try again later.\n"
    );
    let turned_away = server.next_line();
    assert!(
        turned_away.ends_with(&format!(
            "turned away: {WORKERS} clients served, {MAX_WAITING} waiting"
        )),
        "{turned_away:?}"
    );
    // The first client leaves: its worker takes the next connection in the queue, whose line
    // has waited in the system's buffer all along.
    drop(first);
    assert_eq!(read_exactly(&mut third, 13), b"am I served?\n");
}

#[test]
fn clients_in_turn_reuse_the_same_threads() {
    let server = start_small_pool();
    for number in 0..50 {
        let mut client = server.connect();
        let line = format!("client {number:02}\n");
        client.write_all(line.as_bytes()).unwrap();
        assert_eq!(read_exactly(&mut client, line.len()), line.as_bytes());
    }
    if let Some(threads) = thread_count(server.pid()) {
        assert_eq!(threads, WORKERS + 1, "threads after 50 clients");
    }
}

#[test]
fn a_bad_count_is_explained() {
    // Not a number, none, and more threads than a system starts (the pool panicked on the way
    // before); a queue too large to set aside (crossbeam's channel panicked before).
    let wrong_counts = [
        (
            ["many", "64"],
            "WORKERS must be a whole number from 1 to 10000, not \"many\"",
        ),
        (
            ["0", "64"],
            "WORKERS must be a whole number from 1 to 10000, not \"0\"",
        ),
        (
            ["10001", "64"],
            "WORKERS must be a whole number from 1 to 10000, not \"10001\"",
        ),
        (
            ["4", "18446744073709551615"],
            "MAX_WAITING must be a whole number from 0 to 1000000, not \"18446744073709551615\"",
        ),
    ];
    for (counts, said) in wrong_counts {
        let finished = support::run(SERVER, &["127.0.0.1:0", counts[0], counts[1]], "");
        assert!(!finished.status.success(), "{counts:?} was taken");
        assert!(finished.stderr.contains(said), "{}", finished.stderr);
    }
}

#[test]
fn the_lesson_passes_the_exercise_check() {
    // The clients that judge exercise 07, against the lesson's own server at the same size.
    let workers = course::check::pool::WORKERS.to_string();
    let waiting = course::check::pool::MAX_WAITING.to_string();
    let server = Server::start(SERVER, &["127.0.0.1:0", &workers, &waiting]);
    if let Err(failure) = course::check::pool::run_against(server.address, server.pid()) {
        panic!("{failure}");
    }
}

/// A turned-away client that has already sent its line, as `echo hi | nc -N` does, still reads
/// the busy line. Closing a socket with unread bytes in it sends a reset, and a reset that
/// arrives first destroys the line the client has not read yet; the server must close gently.
#[test]
fn a_client_turned_away_after_it_spoke_still_reads_why() {
    let server = start_small_pool();
    let mut held = Vec::new();
    for _ in 0..WORKERS {
        held.push(connect_and_be_served(&server));
    }
    for _ in 0..MAX_WAITING {
        held.push(server.connect());
    }
    for attempt in 0..20 {
        let mut client = server.connect();
        client.write_all(b"hello, anyone?\n").unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let mut heard = Vec::new();
        match client.read_to_end(&mut heard) {
            Ok(_) => assert_eq!(
                String::from_utf8_lossy(&heard),
                "Sorry, the server is busy. Please try again later.\n",
                "attempt {attempt}"
            ),
            Err(error) => panic!(
                "attempt {attempt}: reading the busy line failed ({:?}) after {:?}: the \
                 server closed with the client's line unread, and its reset came first",
                error.kind(),
                String::from_utf8_lossy(&heard)
            ),
        }
    }
}
