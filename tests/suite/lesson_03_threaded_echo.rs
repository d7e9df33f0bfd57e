//! Lesson 03 end to end: the real threaded echo server, over loopback.

use crate::support;

use std::io::Write;

use support::{Server, read_exactly};

const SERVER: &str = env!("CARGO_BIN_EXE_03_threaded_echo");

#[test]
fn the_lesson_passes_the_exercise_check() {
    // The same scripted clients that judge exercise 03 (silent, vanishing, piecemeal and
    // half-closing clients) must find nothing wrong with the lesson's own server.
    let _sockets =
        support::sockets(course::check::threaded_echo::SCRIPT.most_clients_at_once() + 2);
    let server = Server::start_on_any_port(SERVER);
    if let Err(failure) = course::check::threaded_echo::SCRIPT.run_against(server.address) {
        panic!("{failure}");
    }
}

#[test]
fn a_hundred_and_fifty_clients_are_served_at_once() {
    // macOS allows a process 256 open files by default, and each client here is one (the
    // server's end of each is in the server's process). 150 fits in the tests' socket budget,
    // with room for what else is open; `.ci/run` runs the suite within 256 to keep it so.
    const CLIENTS: usize = 150;
    let _sockets = support::sockets(CLIENTS);
    let server = Server::start_on_any_port(SERVER);
    // Every connection is open before any is served: a server that handled them one at a time
    // would answer only the first.
    let mut streams: Vec<_> = (0..CLIENTS).map(|_| server.connect()).collect();
    for (number, stream) in streams.iter_mut().enumerate() {
        stream
            .write_all(format!("client {number:03}\n").as_bytes())
            .expect("send");
    }
    // Answer in reverse order, so no client is helped by having connected first.
    for (number, stream) in streams.iter_mut().enumerate().rev() {
        let echo = read_exactly(stream, 11);
        assert_eq!(echo, format!("client {number:03}\n").as_bytes());
    }
}

#[test]
fn connects_and_disconnects_are_logged_with_the_peer() {
    let server = Server::start_on_any_port(SERVER);
    let mut client = server.connect();
    let peer = client.local_addr().unwrap();
    assert_eq!(server.next_line(), format!("{peer} connected"));
    client.write_all(b"hi\n").unwrap();
    assert_eq!(read_exactly(&mut client, 3), b"hi\n");
    drop(client);
    assert_eq!(server.next_line(), format!("{peer} disconnected"));
}

#[test]
fn a_vanished_client_is_logged_as_abrupt() {
    let server = Server::start_on_any_port(SERVER);
    let mut client = server.connect();
    let peer = client.local_addr().unwrap();
    assert_eq!(server.next_line(), format!("{peer} connected"));
    client.write_all(b"ping\n").unwrap();
    // Wait for the echo, and close without reading it: the system resets the connection.
    let mut first = [0; 1];
    assert_eq!(client.peek(&mut first).unwrap(), 1);
    client.write_all(b"cut off mid-li").unwrap();
    drop(client);
    let line = server.next_line();
    assert!(
        line.starts_with(&format!("{peer} disconnected abruptly:")),
        "expected an abrupt disconnect, got {line:?}"
    );
}
