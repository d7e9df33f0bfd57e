//! Lesson 10's echo server end to end, over loopback: what lesson 03's tests ask of the threaded
//! echo, asked of the async one.

use crate::support;

use std::io::{Read, Write};
use std::thread;

use support::{Server, read_exactly, run};

const SERVER: &str = env!("CARGO_BIN_EXE_10_async_echo");

#[test]
fn the_lesson_passes_exercise_10s_check_at_its_address() {
    // What `cargo run -p exercises -- check 10 --address ADDRESS` plays, against the lesson's own
    // server: the same scripted clients that judge exercise 10.
    let _sockets = support::sockets(course::check::async_echo::SCRIPT.most_clients_at_once() + 2);
    let server = Server::start_on_any_port(SERVER);
    if let Err(failure) = course::check::async_echo::SCRIPT.run_against(server.address) {
        panic!("{failure}");
    }
}

#[test]
fn every_byte_comes_back_however_it_is_split() {
    let server = Server::start_on_any_port(SERVER);
    let mut stream = server.connect();
    for byte in b"one byte at a time\n" {
        stream.write_all(&[*byte]).expect("send");
    }
    assert_eq!(read_exactly(&mut stream, 19), b"one byte at a time\n");
    // Far more than one read's worth at once: 100 KiB comes back whole.
    let big: Vec<u8> = (0..100 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let mut writer = stream.try_clone().expect("clone the stream");
    let to_send = big.clone();
    let sending = thread::spawn(move || writer.write_all(&to_send));
    assert_eq!(read_exactly(&mut stream, big.len()), big);
    sending.join().expect("the sending thread").expect("send");
}

#[test]
fn a_silent_client_keeps_nobody_waiting() {
    let server = Server::start_on_any_port(SERVER);
    // Fifty clients connect and say nothing; each holds a task, none holds a thread.
    let silent: Vec<_> = (0..50).map(|_| server.connect()).collect();
    let mut talker = server.connect();
    talker.write_all(b"anyone there?\n").expect("send");
    assert_eq!(read_exactly(&mut talker, 14), b"anyone there?\n");
    drop(silent);
}

#[test]
fn clients_that_vanish_do_not_stop_the_server() {
    let server = Server::start_on_any_port(SERVER);
    for _ in 0..20 {
        let mut gone = server.connect();
        gone.write_all(b"half a li").expect("send");
        // Closing with unread echo in our buffer makes our system send a reset.
    }
    let mut next = server.connect();
    next.write_all(b"still here\n").expect("send");
    assert_eq!(read_exactly(&mut next, 11), b"still here\n");
    let mut rest = Vec::new();
    next.shutdown(std::net::Shutdown::Write)
        .expect("half-close");
    next.read_to_end(&mut rest)
        .expect("the server closes after our half-close");
    assert!(rest.is_empty());
}

#[test]
fn help_says_how_to_talk_to_it() {
    let finished = run(SERVER, &["--help"], "");
    assert!(finished.status.success());
    assert!(
        finished.stdout.contains("usage: 10_async_echo [ADDRESS]"),
        "{}",
        finished.stdout
    );
    assert!(
        finished.stdout.contains("nc 127.0.0.1 65441"),
        "{}",
        finished.stdout
    );
}
