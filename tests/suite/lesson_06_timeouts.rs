//! Lesson 06 end to end: the echo server with timeouts, and the closing demonstration. Every
//! test runs the server with IDLE_SECONDS = 1, so no test waits out the default 30 s.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use support::{PATIENCE, Server, normalize, read_exactly, run};

const SERVER: &str = env!("CARGO_BIN_EXE_06_timeouts");
const CLOSING: &str = env!("CARGO_BIN_EXE_06_closing");

/// The idle limit the tests give the server, in seconds.
const IDLE: &str = "1";
const GOODBYE: &str = "you sent nothing for 1 s, so the server is closing this connection\n";

fn start() -> Server {
    Server::start(SERVER, &["127.0.0.1:0", IDLE])
}

/// Reads until the server closes the connection, and returns everything that came.
fn read_until_closed(stream: &mut std::net::TcpStream) -> String {
    let mut all = Vec::new();
    stream
        .read_to_end(&mut all)
        .expect("the server should close the connection");
    String::from_utf8(all).expect("text")
}

#[test]
fn a_silent_client_is_told_why_and_closed() {
    let server = start();
    let limit_line = server.next_line();
    let started = Instant::now();
    let mut silent = server.connect();
    let connected = server.next_line();
    assert_eq!(read_until_closed(&mut silent), GOODBYE);
    // Not before its time: a second of silence, not a moment.
    assert!(started.elapsed() >= Duration::from_millis(900));
    let closed = server.next_line();
    let address = server.address.to_string();
    let transcript = format!(
        "$ cargo run --bin 06_timeouts -- {address} 1\nlistening on {address}\n{limit_line}\n\
         {connected}\n{closed}\n\n$ nc 127.0.0.1 65437\n{GOODBYE}"
    );
    insta::assert_snapshot!(
        "06_timeouts_idle",
        normalize(&transcript, server.address, "127.0.0.1:65437")
    );
}

#[test]
fn a_client_that_keeps_talking_is_never_dropped() {
    let server = start();
    let mut talking = server.connect();
    let mut silent = server.connect();
    // Talk for two and a half idle limits, a line every quarter of one.
    let until = Instant::now() + Duration::from_millis(2500);
    let mut number = 0;
    while Instant::now() < until {
        let line = format!("line {number}\n");
        talking.write_all(line.as_bytes()).unwrap();
        assert_eq!(read_exactly(&mut talking, line.len()), line.as_bytes());
        number += 1;
        thread::sleep(Duration::from_millis(250));
    }
    // Meanwhile the silent one was told and closed.
    assert_eq!(read_until_closed(&mut silent), GOODBYE);
    // And a newcomer is served as ever.
    let mut newcomer = server.connect();
    newcomer.write_all(b"hello\n").unwrap();
    assert_eq!(read_exactly(&mut newcomer, 6), b"hello\n");
}

#[test]
fn a_client_that_stops_reading_is_closed() {
    let server = start();
    let mut not_reading = server.connect();
    // Send, and never read the echoes: they fill the client's receive buffer, then the server's
    // send buffer, and then the server's write waits, for at most the idle limit.
    not_reading
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let deadline = Instant::now() + PATIENCE;
    while not_reading.write_all(&chunk).is_ok() && Instant::now() < deadline {}
    let _limit = server.next_line();
    let _connected = server.next_line();
    let closed = server.next_line();
    assert!(
        closed.ends_with("read nothing we sent for 1 s: closed"),
        "{closed}"
    );
}

#[test]
fn a_bad_idle_limit_is_explained() {
    // None, past an hour (every number up to 2^64 was taken before), and a fraction.
    for wrong in ["0", "3601", "18446744073709551615", "0.5"] {
        let finished = run(SERVER, &["127.0.0.1:0", wrong], "");
        assert!(!finished.status.success(), "{wrong} was taken");
        assert!(
            finished.stderr.contains(&format!(
                "IDLE_SECONDS must be a whole number from 1 to 3600, not \"{wrong}\""
            )),
            "{}",
            finished.stderr
        );
    }
}

#[test]
fn dropping_closes_unless_a_copy_lives_on() {
    let closing = run(CLOSING, &["127.0.0.1:0"], "");
    assert!(closing.status.success(), "{closing:?}");
    // Everything after the listening line: no ports, the same on every system.
    let shown: String = closing
        .stdout
        .lines()
        .skip(1)
        .map(|line| format!("{line}\n"))
        .collect();
    insta::assert_snapshot!("06_closing", shown);
}

#[test]
fn the_timeout_is_reported_as_a_timeout() {
    // What the server matches on: a read that runs out of time is WouldBlock on Unix and
    // TimedOut on Windows, never a plain error.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let error = stream.read(&mut [0; 1]).unwrap_err();
    assert!(matches!(
        error.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
}
