//! Lesson 06's common mistakes: each careless program fails the way its chapter says, and its
//! `fixed` run does not.

use crate::support;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use support::{PATIENCE, Server, Terminal, read_exactly, run};

const ECHO: &str = env!("CARGO_BIN_EXE_03_threaded_echo");
const NO_TIMEOUT: &str = env!("CARGO_BIN_EXE_06_mistake_no_timeout");
const PINNED: &str = env!("CARGO_BIN_EXE_06_mistake_pinned_server");
const IGNORED: &str = env!("CARGO_BIN_EXE_06_mistake_ignored_errors");
const HARD_CODED: &str = env!("CARGO_BIN_EXE_06_mistake_hard_coded_address");

/// How long a test watches a careless program fail to do anything. Waiting for ever cannot be
/// tested; a wait past the point where a right program has answered stands in for it (lesson
/// 03's server echoes at once; the careless client is watched past its fixed twin's end).
const A_WHILE: Duration = Duration::from_millis(700);

/// Asserts that nothing arrives on `stream` for [`A_WHILE`].
fn assert_silent(stream: &mut std::net::TcpStream) {
    stream.set_read_timeout(Some(A_WHILE)).unwrap();
    let error = stream
        .read(&mut [0; 64])
        .expect_err("nothing should arrive");
    assert!(matches!(
        error.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
}

#[test]
fn without_a_timeout_the_client_waits_on_and_on() {
    let silent = Server::start_on_any_port(ECHO);
    let mut client = Terminal::start(NO_TIMEOUT, &[&silent.address.to_string()]);
    let waiting = client.next_line();
    insta::assert_snapshot!(
        "06_mistake_no_timeout",
        support::normalize(
            &format!("$ cargo run --bin 06_mistake_no_timeout\n{waiting}\n"),
            silent.address,
            "127.0.0.1:65434"
        )
    );
    // The fixed client, started now against the same silent server, gives up after its own
    // limit; the careless one is still waiting a while after that. (Killed when dropped.)
    let mut fixed = Terminal::start(NO_TIMEOUT, &[&silent.address.to_string(), "fixed"]);
    let gave_up = fixed.finish();
    assert!(
        !gave_up.status.success()
            && gave_up
                .stderr
                .contains("the server sent nothing for too long"),
        "the fixed client should give up: {}",
        gave_up.stderr
    );
    thread::sleep(A_WHILE);
    assert!(
        client.still_running(),
        "the careless client should still be waiting after the fixed one gave up"
    );
    client.end_input();
    assert!(silent.next_line().ends_with("connected"));
}

#[test]
fn with_a_timeout_the_client_gives_up_and_says_why() {
    let silent = Server::start_on_any_port(ECHO);
    let client = run(NO_TIMEOUT, &[&silent.address.to_string(), "fixed"], "");
    assert!(!client.status.success());
    assert!(
        client
            .stderr
            .contains("the server sent nothing for too long"),
        "{}",
        client.stderr
    );
}

#[test]
fn one_silent_client_pins_the_careless_server() {
    let server = Server::start_on_any_port(PINNED);
    let _silent = server.connect();
    let mut waiting = server.connect();
    waiting.write_all(b"anyone home?\n").unwrap();
    assert_silent(&mut waiting);
}

#[test]
fn the_fixed_server_closes_the_silent_client_and_serves_the_next() {
    let server = Server::start(PINNED, &["127.0.0.1:0", "fixed"]);
    let mut silent = server.connect();
    let mut waiting = server.connect();
    waiting.write_all(b"anyone home?\n").unwrap();
    let mut goodbye = String::new();
    BufReader::new(&mut silent).read_line(&mut goodbye).unwrap();
    assert_eq!(
        goodbye,
        "you sent nothing for 2 s: goodbye, others are waiting\n"
    );
    assert_eq!(read_exactly(&mut waiting, 13), b"anyone home?\n");
}

/// A client that sends far more than the buffers hold and never reads its echo: the fixed server's
/// echo stalls, and its write limit, not only its read limit, lets the next client in.
#[test]
fn the_fixed_server_gives_up_on_a_client_that_never_reads() {
    let server = Server::start(PINNED, &["127.0.0.1:0", "fixed"]);
    let mut hoarder = server.connect();
    hoarder.set_write_timeout(Some(PATIENCE)).unwrap();
    // More than the loopback buffers both ways hold (about 12 MiB on Linux), then silence.
    let flood = thread::spawn(move || {
        let _ = hoarder.write_all(&vec![b'x'; 32 << 20]);
        hoarder
    });
    let mut waiting = server.connect();
    waiting.write_all(b"anyone home?\n").unwrap();
    assert_eq!(read_exactly(&mut waiting, 13), b"anyone home?\n");
    drop(flood.join().expect("the flooding client"));
}

#[test]
fn a_line_that_is_not_text_kills_the_careless_server() {
    let server = Server::start_on_any_port(IGNORED);
    let mut client = server.connect();
    client.write_all(b"caf\xe9\n").unwrap();
    // The server's only thread panicked: the process is gone, and everyone's connection with it.
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    assert!(rest.is_empty());
    // The panic message, after whatever blank line the panic starts with.
    let panicked = (0..3).any(|_| server.next_error_line().contains("panicked"));
    assert!(panicked, "the server should report its panic");
    // Soon nobody can connect at all: the port is closed.
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::net::TcpStream::connect_timeout(&server.address, PATIENCE).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server still accepts"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_fixed_server_answers_bad_text_and_carries_on() {
    let server = Server::start(IGNORED, &["127.0.0.1:0", "fixed"]);
    let mut client = server.connect();
    client.write_all(b"caf\xe9\ncafe\n").unwrap();
    let expected = b"error: that line is not UTF-8 text\ncafe\n";
    assert_eq!(read_exactly(&mut client, expected.len()), expected);
}

#[test]
fn the_hard_coded_address_ignores_the_one_asked_for() {
    let mut child = Command::new(HARD_CODED)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the program");
    let stdout = child.stdout.take().unwrap();
    let (first_line, arrived) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = first_line.send(line);
    });
    let line = arrived
        .recv_timeout(PATIENCE)
        .expect("a first line, or none");
    let _ = child.kill();
    let output = child.wait_with_output().expect("wait for it");
    // Asked for any free port, it took 65437; or, if something already has that port (you may be
    // running lesson 06), it could not start at all. Either way, never the port asked for.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        line == "listening on 127.0.0.1:65437\n" || stderr.contains("binding 127.0.0.1:65437"),
        "{line:?} {stderr}"
    );
}

#[test]
fn the_fixed_program_listens_where_asked() {
    let server = Server::start(HARD_CODED, &["127.0.0.1:0", "fixed"]);
    let mut client = server.connect();
    let mut greeting = String::new();
    client.read_to_string(&mut greeting).unwrap();
    assert_eq!(greeting, format!("Hello from {}\n", server.address));
}

#[test]
fn the_fixed_client_keeps_only_the_first_bytes_of_a_flood() {
    // A megabyte without end: the fixed client takes one buffer's worth and stops, at once.
    let (address, server) = support::flooding_server(1, vec![b'x'; 1024 * 1024]);
    let client = run(NO_TIMEOUT, &[&address.to_string(), "fixed"], "");
    assert!(client.status.success(), "{client:?}");
    let received = client
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("received \""))
        .unwrap_or_else(|| panic!("no received line in {}", client.stdout));
    let kept = received.trim_end_matches('"').len();
    assert!((1..=1024).contains(&kept), "kept {kept} bytes");
    server.join().expect("the flooding server");
}
