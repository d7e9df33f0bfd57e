//! Lesson 08 end to end: the real server, stopped by real signals (Unix: `kill -INT` and
//! `kill -TERM`; Windows has no such signals to send from a test).
#![cfg(unix)]

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::{Server, read_exactly};

const SERVER: &str = env!("CARGO_BIN_EXE_08_shutdown");
const GOODBYE: &str = "The server is shutting down. Goodbye!\n";

fn signal(server: &Server, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} failed");
}

/// Connects, and waits for the server's log to show the connection, so it surely counts.
fn connect(server: &Server) -> TcpStream {
    let client = server.connect();
    let me = client.local_addr().unwrap();
    assert_eq!(server.next_line(), format!("{me} connected"));
    client
}

/// Everything `client` receives until the server closes the connection.
fn rest_of(client: &mut TcpStream) -> String {
    let mut heard = String::new();
    client
        .read_to_string(&mut heard)
        .expect("read until the close");
    heard
}

/// Reads the server's log until the line that says the shutdown has begun.
fn wait_for_shutdown_line(server: &Server) -> String {
    loop {
        let line = server.next_line();
        if line.starts_with("shutting down:") {
            return line;
        }
    }
}

#[test]
fn ctrl_c_refuses_newcomers_says_goodbye_finishes_lines_and_exits_0() {
    let mut server = Server::start(SERVER, &["127.0.0.1:0", "5"]);
    let mut idle = connect(&server);
    let mut busy = connect(&server);
    // Half a line is in flight when the signal comes: sent in one write with a whole line, whose
    // echo shows the server has read the half too (a half line still unread in the socket
    // would look like an idle client to it).
    busy.write_all(b"one\nhalf a ").unwrap();
    assert_eq!(read_exactly(&mut busy, 4), b"one\n");

    signal(&server, "INT");
    let announced = wait_for_shutdown_line(&server);
    assert!(
        announced.contains("telling 2 connected clients goodbye"),
        "{announced:?}"
    );
    // The listener is closed: a newcomer is refused, not left waiting.
    let refused = TcpStream::connect_timeout(&server.address, Duration::from_secs(2));
    assert_eq!(
        refused.map(|_| ()).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
    // The idle client hears goodbye, then the close.
    assert_eq!(rest_of(&mut idle), GOODBYE);
    // The busy one finishes its line, gets its echo, and then the goodbye.
    busy.write_all(b"line\n").unwrap();
    assert_eq!(rest_of(&mut busy), format!("half a line\n{GOODBYE}"));
    assert!(server.wait_for_exit().success());
    // The server's log from the signal on; the book's chapter shows it.
    let mut log = vec![announced];
    log.extend((0..3).map(|_| server.next_line()));
    let log = support::normalize(&log.join("\n"), server.address, "127.0.0.1:65439");
    insta::assert_snapshot!("08_shutdown_log", log);
}

#[test]
fn sigterm_is_a_shutdown_too() {
    let mut server = Server::start(SERVER, &["127.0.0.1:0", "5"]);
    let mut client = connect(&server);
    signal(&server, "TERM");
    assert_eq!(rest_of(&mut client), GOODBYE);
    assert!(server.wait_for_exit().success());
}

#[test]
fn a_line_that_never_ends_is_cut_off_at_the_deadline() {
    let mut server = Server::start(SERVER, &["127.0.0.1:0", "0.3"]);
    let mut stuck = connect(&server);
    stuck.write_all(b"and then I stopp").unwrap();
    let began = Instant::now();
    signal(&server, "INT");
    assert_eq!(
        rest_of(&mut stuck),
        "The server has shut down; your unfinished line was dropped.\n"
    );
    assert!(server.wait_for_exit().success());
    assert!(
        began.elapsed() >= Duration::from_millis(300),
        "cut off before the grace ended"
    );
}

#[test]
fn a_line_sent_a_byte_at_a_time_is_cut_off_at_the_deadline() {
    // A byte every 10 ms, never a newline: no read ever waits a whole TURN (50 ms) in silence, so
    // only a thread that looks at the deadline after every read cuts this client off.
    let mut server = Server::start(SERVER, &["127.0.0.1:0", "0.3"]);
    let mut trickling = connect(&server);
    trickling.write_all(b"a").unwrap();
    let began = Instant::now();
    signal(&server, "INT");
    let mut heard = Vec::new();
    let mut buffer = [0; 256];
    trickling
        .set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    // Until the server closes the connection, or 3 s (ten times the grace) have passed.
    while began.elapsed() < Duration::from_secs(3) {
        if trickling.write_all(b"b").is_err() {
            break;
        }
        match trickling.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => heard.extend_from_slice(&buffer[..count]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&heard),
        "The server has shut down; your unfinished line was dropped.\n",
        "after {:?}",
        began.elapsed()
    );
    assert!(server.wait_for_exit().success());
    assert!(
        began.elapsed() >= Duration::from_millis(300),
        "cut off before the grace ended"
    );
}

/// A client that reads its echo, but slowly, lets every write make a little progress, so no write
/// ever waits a whole write timeout: only a server whose writes watch the deadline too ends in
/// time. (At this pace the echo below would take minutes.)
#[test]
fn a_client_reading_its_echo_slowly_is_cut_off_at_the_deadline() {
    let mut server = Server::start(SERVER, &["127.0.0.1:0", "2"]);
    let mut idle = connect(&server);
    let mut slow = connect(&server);
    // Far past every buffer between the two ends (a few MiB on loopback); its end comes later.
    slow.write_all(&vec![b'x'; 32 << 20]).unwrap();
    signal(&server, "INT");
    // The idle client's goodbye shows the deadline is set: the whole echo is written after it.
    assert_eq!(rest_of(&mut idle), GOODBYE);
    slow.write_all(b"\n").unwrap();
    let reading = AtomicBool::new(true);
    let heard = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            // 16 KiB every 100 ms, until the test is done or 15 s have passed.
            let began = Instant::now();
            let mut heard = Vec::new();
            let mut buffer = vec![0; 16 << 10];
            while reading.load(Ordering::Relaxed) && began.elapsed() < Duration::from_secs(15) {
                match slow.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(count) => heard.extend_from_slice(&buffer[..count]),
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            heard
        });
        let status = server.wait_for_exit();
        reading.store(false, Ordering::Relaxed);
        assert!(status.success(), "{status:?}");
        reader.join().expect("the slow reader")
    });
    assert!(
        heard.starts_with(b"xxxx"),
        "the echo should have begun: {:?}",
        String::from_utf8_lossy(&heard[..heard.len().min(80)])
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    // A grace far longer than the test's patience: only the second Ctrl-C can end it in time.
    let mut server = Server::start(SERVER, &["127.0.0.1:0", "600"]);
    let mut stuck = connect(&server);
    stuck.write_all(b"never finished").unwrap();
    signal(&server, "INT");
    wait_for_shutdown_line(&server);
    signal(&server, "INT");
    let status = server.wait_for_exit();
    assert_eq!(status.code(), Some(130));
}

#[test]
fn with_nobody_connected_it_exits_at_once() {
    let mut server = Server::start(SERVER, &["127.0.0.1:0"]);
    signal(&server, "INT");
    assert!(wait_for_shutdown_line(&server).contains("telling 0 connected clients goodbye"));
    assert!(server.wait_for_exit().success());
}

/// Check 08 judges any program by `--command`, as the README says: the lesson's own server, a
/// program the check starts with a shell command and that ends with status 0 on Ctrl-C, passes
/// (it failed before: only the exercise's Rust `serve` returning `Ok(())` counted as stopping).
#[cfg(unix)]
#[test]
fn the_lesson_passes_the_exercise_check_by_command() {
    let target = course::check::Target::Command(format!("{SERVER} 127.0.0.1:{{port}} {{args}}"));
    if let Err(failure) = course::check::run(&course::check::shutdown::CHECK, &target) {
        panic!("{failure}");
    }
}
