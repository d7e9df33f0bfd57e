//! Lesson 02 end to end: the real echo server and client binaries, over loopback.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use support::{Server, normalize, read_exactly, run};

const SERVER: &str = env!("CARGO_BIN_EXE_02_echo");
const CLIENT: &str = env!("CARGO_BIN_EXE_02_echo_client");

#[test]
fn the_lesson_client_sends_one_message() {
    let server = Server::start_on_any_port(SERVER);
    let address = server.address.to_string();
    let client = run(CLIENT, &[&address, "Hello, Echo Server!"], "");
    assert!(client.status.success(), "the client failed: {client:?}");
    let connected = server.next_line();
    let disconnected = server.next_line();

    let transcript = format!(
        "$ cargo run --bin 02_echo\nlistening on {address}\n{connected}\n{disconnected}\n\n\
         $ cargo run --bin 02_echo_client -- {address} \"Hello, Echo Server!\"\n{}",
        client.stdout
    );
    insta::assert_snapshot!(
        "02_echo_run",
        normalize(&transcript, server.address, "127.0.0.1:65433")
    );
}

#[test]
fn the_lesson_client_sends_each_typed_line() {
    let server = Server::start_on_any_port(SERVER);
    let address = server.address.to_string();
    let client = run(CLIENT, &[&address], "first line\nsecond line\n");
    assert!(client.status.success(), "the client failed: {client:?}");
    insta::assert_snapshot!(
        "02_echo_client_typed",
        normalize(&client.stdout, server.address, "127.0.0.1:65433")
    );
}

#[test]
fn every_byte_comes_back_however_it_is_split() {
    let server = Server::start_on_any_port(SERVER);
    let mut stream = server.connect();
    // One byte per write...
    for byte in b"one byte at a time\n" {
        stream.write_all(&[*byte]).expect("send");
    }
    assert_eq!(read_exactly(&mut stream, 19), b"one byte at a time\n");
    // ...and far more than one read's worth at once: 100 KiB comes back whole.
    let big: Vec<u8> = (0..100 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let mut writer = stream.try_clone().expect("clone the stream");
    let to_send = big.clone();
    let sending = std::thread::spawn(move || writer.write_all(&to_send));
    assert_eq!(read_exactly(&mut stream, big.len()), big);
    sending
        .join()
        .expect("sender thread")
        .expect("send 100 KiB");
}

#[test]
fn a_long_message_from_the_lesson_client_comes_back_whole() {
    let server = Server::start_on_any_port(SERVER);
    let long = "x".repeat(50_000);
    // Typed in, not given as an argument: Windows allows a command line of 32,767 characters.
    let client = run(CLIENT, &[&server.address.to_string()], &format!("{long}\n"));
    assert!(client.status.success(), "{client:?}");
    assert!(
        client.stdout.contains(&format!("received {long:?}\n")),
        "{}",
        &client.stdout[..client.stdout.len().min(300)]
    );
}

#[test]
fn a_second_client_waits_until_the_first_leaves() {
    let server = Server::start_on_any_port(SERVER);
    let mut first = server.connect();
    first.write_all(b"first\n").unwrap();
    assert_eq!(read_exactly(&mut first, 6), b"first\n");

    // The second client connects (the system queues it) and sends, but hears nothing back...
    let mut second = server.connect();
    second.write_all(b"second\n").unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buffer = [0; 16];
    // A signal may interrupt the wait (EINTR): that is no answer either way, so wait again.
    let error = loop {
        match second.read(&mut buffer) {
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            result => break result,
        }
    }
    .expect_err("lesson 02 serves one client at a time: the second must wait");
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "the second client should wait, with nothing to read, but its read failed: {error:?}"
    );

    // ...until the first client leaves. Then its message, sent long ago, is echoed.
    drop(first);
    second.set_read_timeout(Some(support::PATIENCE)).unwrap();
    assert_eq!(read_exactly(&mut second, 7), b"second\n");
}

#[test]
fn the_seed_python_client_works_unchanged_but_for_the_port() {
    let Some(python) = support::python_command() else {
        return;
    };
    let server = Server::start_on_any_port(SERVER);
    let script = include_str!("../../book/src/python/echo_client.py")
        .replace("65433", &server.address.port().to_string());
    // `run` gives Python the same time limit as any lesson client.
    let finished = run(python, &["-c", &script], "");
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(
        support::unix_lines(&finished.stdout),
        "Received b'Hello, Echo Server!'\n"
    );
}

#[test]
fn an_abrupt_client_does_not_stop_the_server() {
    let server = Server::start_on_any_port(SERVER);
    {
        let mut vanishing = server.connect();
        vanishing.write_all(b"half a li").unwrap();
        // Wait for the echo, and close without reading it: with unread bytes in its socket, the
        // system resets the connection, and the server's read or write fails.
        let mut first = [0; 1];
        assert_eq!(vanishing.peek(&mut first).unwrap(), 1);
    } // dropped mid-line
    let mut next = server.connect();
    next.write_all(b"still here\n").unwrap();
    assert_eq!(read_exactly(&mut next, 11), b"still here\n");
}

#[test]
fn the_client_explains_a_message_in_place_of_the_address() {
    let finished = run(CLIENT, &["Hello"], "");
    assert!(!finished.status.success());
    assert!(
        finished.stderr.contains("The address comes first"),
        "{}",
        finished.stderr
    );
}

#[test]
fn connection_refused_asks_whether_the_server_runs() {
    // A port that nothing listens on.
    let (_held, address) = support::closed_port();
    let client = run(CLIENT, &[&address.to_string(), "hi"], "");
    assert!(!client.status.success());
    assert!(
        client.stderr.contains("Is the server running?"),
        "{}",
        client.stderr
    );
}

#[test]
fn the_lesson_client_refuses_a_reply_longer_than_its_echo() {
    // A server that answers "hi" with a megabyte and no newline: not an echo, and a client
    // without a limit would read it all into memory, waiting for a newline that never comes.
    let (address, server) = support::flooding_server(1, vec![b'x'; 1024 * 1024]);
    let client = run(CLIENT, &[&address.to_string(), "hi"], "");
    assert!(!client.status.success(), "{client:?}");
    for sentence in [
        "the server sent something this program cannot accept",
        "its reply went past 1024 bytes before its line ended, beginning \"xxxx",
        "is it an echo server?",
    ] {
        assert!(client.stderr.contains(sentence), "{}", client.stderr);
    }
    assert!(!client.stderr.contains("panicked"), "{}", client.stderr);
    server.join().expect("the flooding server");
}

/// Both sides of the client's limit on a reply to "hi" (1024 bytes, its newline included), and a
/// reply that differs only by the `\r` before its newline, which the client must show.
#[test]
fn the_lesson_client_holds_its_reply_limit_exactly_and_shows_a_stray_cr() {
    let x = |count: usize| vec![b'x'; count];
    let cases: [(Vec<u8>, &str); 5] = [
        (x(1024), "the server closed the connection after sending"),
        (
            x(1025),
            "its reply went past 1024 bytes before its line ended",
        ),
        (
            [x(1023), b"\n".to_vec()].concat(),
            "the server answered \"xxx",
        ),
        (
            [x(1024), b"\n".to_vec()].concat(),
            "its reply went past 1024 bytes before its line ended",
        ),
        (
            b"hi\r\n".to_vec(),
            "the server answered \"hi\\r\" instead of echoing \"hi\"",
        ),
    ];
    for (reply, wanted) in cases {
        let length = reply.len();
        let (address, server) = support::sending_server(1, reply, support::AfterSending::EndStream);
        let client = run(CLIENT, &[&address.to_string(), "hi"], "");
        assert!(!client.status.success(), "{client:?}");
        assert!(
            client.stderr.contains(wanted),
            "a reply of {length} bytes: {}",
            client.stderr
        );
        server.join().expect("the server");
    }
}

/// A server that answers with something else than the echo, as lesson 07's pool does when it is
/// full: the client shows that line whole, says it is not the echo, and fails, even for a message
/// longer than the line.
#[test]
fn the_lesson_client_shows_a_reply_that_is_not_the_echo() {
    let busy = "Sorry, the server is busy. Please try again later.";
    for message in [
        "hi",
        "a message longer than the line that comes back instead of its echo",
    ] {
        let (address, server) = support::flooding_server(1, format!("{busy}\n").into_bytes());
        let client = run(CLIENT, &[&address.to_string(), message], "");
        assert!(!client.status.success(), "{client:?}");
        let wanted = format!("the server answered {busy:?} instead of echoing {message:?}");
        assert!(client.stderr.contains(&wanted), "{}", client.stderr);
        assert!(!client.stdout.contains("received"), "{}", client.stdout);
        server.join().expect("the busy server");
    }
}
