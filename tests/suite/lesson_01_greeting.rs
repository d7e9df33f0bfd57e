//! Lesson 01 end to end: the real greeting server and client binaries, over loopback.

use crate::support;

use std::io::Read;

use support::{PATIENCE, Server, normalize, run};

const SERVER: &str = env!("CARGO_BIN_EXE_01_greeting");
const CLIENT: &str = env!("CARGO_BIN_EXE_01_greeting_client");

#[test]
fn the_lesson_client_prints_the_greeting() {
    let server = Server::start_on_any_port(SERVER);
    let address = server.address.to_string();
    let client = run(CLIENT, &[&address], "");
    assert!(client.status.success(), "the client failed: {client:?}");
    let connected = server.next_line();

    // This transcript is what the book shows for a run of lesson 01.
    let transcript = format!(
        "$ cargo run --bin 01_greeting\nlistening on {address}\n{connected}\n\n\
         $ cargo run --bin 01_greeting_client      # in a second terminal\n{}",
        client.stdout
    );
    insta::assert_snapshot!(
        "01_greeting_run",
        normalize(&transcript, server.address, "127.0.0.1:65432")
    );
}

#[test]
fn a_plain_std_client_gets_one_line_then_the_close() {
    let server = Server::start_on_any_port(SERVER);
    // The server keeps serving: each of several clients in turn gets the whole greeting.
    for _ in 0..3 {
        let mut stream = server.connect();
        let mut received = String::new();
        stream
            .read_to_string(&mut received)
            .expect("the server sends a line, then closes");
        assert_eq!(received, "Hello, client!\n");
        let logged = server.next_line();
        assert!(
            logged.starts_with("127.0.0.1:") && logged.ends_with(" connected"),
            "{logged}"
        );
    }
}

#[test]
fn the_seed_python_client_works_unchanged_but_for_the_port() {
    let Some(python) = support::python_command() else {
        return;
    };
    let server = Server::start_on_any_port(SERVER);
    let script = include_str!("../../book/src/python/greeting_client.py")
        .replace("65432", &server.address.port().to_string());
    // `run` gives Python the same time limit as any lesson client.
    let finished = run(python, &["-c", &script], "");
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(
        support::unix_lines(&finished.stdout),
        "Received b'Hello, client!\\n'\n"
    );
}

#[test]
fn address_in_use_says_what_to_do() {
    let first = Server::start_on_any_port(SERVER);
    let second = run(SERVER, &[&first.address.to_string()], "");
    assert!(!second.status.success());
    assert!(
        second.stderr.contains("address in use: is another lesson"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("pass another address"),
        "{}",
        second.stderr
    );
}

#[test]
fn connection_refused_asks_whether_the_server_runs() {
    // A port that nothing listens on.
    let (_held, address) = support::closed_port();
    let address = address.to_string();
    let client = run(CLIENT, &[&address], "");
    assert!(!client.status.success());
    assert!(
        client.stderr.contains("connection refused")
            && client.stderr.contains("Is the server running?"),
        "{}",
        client.stderr
    );
}

#[test]
fn a_bad_address_is_named() {
    for binary in [SERVER, CLIENT] {
        let finished = run(binary, &["nonsense"], "");
        assert!(!finished.status.success());
        assert!(
            finished
                .stderr
                .contains("\"nonsense\" is not an address: expected HOST:PORT"),
            "{}",
            finished.stderr
        );
    }
}

#[test]
fn help_explains_and_exits_zero() {
    let finished = run(SERVER, &["--help"], "");
    assert!(finished.status.success());
    assert!(
        finished.stdout.contains("usage: 01_greeting [ADDRESS]"),
        "{}",
        finished.stdout
    );
    assert!(
        finished.stdout.contains("01_greeting_client"),
        "{}",
        finished.stdout
    );
    let _ = PATIENCE;
}

#[test]
fn the_lesson_client_refuses_a_greeting_without_end() {
    // A megabyte, and no close: far past any greeting, and a client without a limit would keep
    // reading it all into memory, then wait for a close that never comes.
    let (address, server) = support::flooding_server(1, vec![b'x'; 1024 * 1024]);
    let client = run(CLIENT, &[&address.to_string()], "");
    assert!(!client.status.success(), "{client:?}");
    for sentence in [
        "the server sent something this program cannot accept",
        "is it a server that greets with a line?",
    ] {
        assert!(client.stderr.contains(sentence), "{}", client.stderr);
    }
    assert!(!client.stderr.contains("panicked"), "{}", client.stderr);
    server.join().expect("the flooding server");
}
