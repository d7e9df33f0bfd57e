//! Lesson 09 end to end: the chaos proxy in front of the naive line server, which breaks, and in
//! front of the course's own servers, which keep working.
//!
//! Nothing here depends on exactly where the proxy cuts: timing decides where one read ends. The
//! tests check what holds for every cut.

use crate::support;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use support::{Server, normalize, run};

const PROXY: &str = env!("CARGO_BIN_EXE_09_chaos_proxy");
const NAIVE: &str = env!("CARGO_BIN_EXE_09_naive_line_server");
const ECHO: &str = env!("CARGO_BIN_EXE_03_threaded_echo");
const CHAT: &str = env!("CARGO_BIN_EXE_04_chat");
const ECHO_CLIENT: &str = env!("CARGO_BIN_EXE_02_echo_client");
const CHAT_CLIENT: &str = env!("CARGO_BIN_EXE_04_chat_client");

/// Starts the proxy on any port, in front of `upstream`, with `options`.
fn proxy(upstream: &Server, options: &[&str]) -> Server {
    proxy_and_banner(upstream, options).0
}

/// Starts the proxy like [`proxy`], and returns the two lines it prints after `listening on`:
/// what it does to the bytes, and its seed.
fn proxy_and_banner(upstream: &Server, options: &[&str]) -> (Server, [String; 2]) {
    let upstream = upstream.address.to_string();
    let mut args = vec!["127.0.0.1:0", upstream.as_str()];
    args.extend_from_slice(options);
    let proxy = Server::start(PROXY, &args);
    let banner = [proxy.next_line(), proxy.next_line()];
    assert!(
        banner[0].starts_with(&format!("forwarding to {upstream}: ")),
        "{banner:?}"
    );
    assert!(banner[1].starts_with("seed "), "{banner:?}");
    (proxy, banner)
}

/// Reads one line, `\n` dropped; panics if none comes in time.
fn next_line(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => panic!("the connection closed"),
        Ok(_) => line.trim_end_matches('\n').to_string(),
        Err(error) => panic!("no whole line arrived: {error}"),
    }
}

// ANCHOR: naive_breaks
#[test]
fn the_naive_server_works_on_loopback_but_breaks_behind_the_proxy() {
    let naive = Server::start_on_any_port(NAIVE);
    let sentence = "the quick brown fox jumps over the lazy dog";

    // Straight to the server: one write, one read, one answer. It looks right.
    let mut direct = naive.connect();
    direct
        .write_all(format!("{sentence}\n").as_bytes())
        .unwrap();
    let mut direct = BufReader::new(direct);
    assert_eq!(next_line(&mut direct), format!("line 1: {sentence}"));

    // Through the proxy, the same write reaches the server in pieces, and it answers each piece
    // as if it were a line.
    let proxy = proxy(&naive, &["--seed", "9"]);
    let mut through = proxy.connect();
    through
        .write_all(format!("{sentence}\n").as_bytes())
        .unwrap();
    let mut through = BufReader::new(through);
    let mut answers = Vec::new();
    let mut pieces = String::new();
    while pieces.len() < sentence.len() {
        let answer = next_line(&mut through);
        let prefix = format!("line {}: ", answers.len() + 1);
        let piece = answer
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("expected an answer starting {prefix:?}, got {answer:?}"));
        pieces.push_str(piece);
        answers.push(answer);
    }
    // Every byte got through, in order...
    assert_eq!(pieces, sentence);
    // ...but one line was answered as many. (The proxy cuts it into pieces of 1 to 3 bytes; a
    // busy machine may let the server read a few pieces at once, so only "more than one" is
    // certain.)
    assert!(
        answers.len() > 1,
        "one line of {} bytes came out as {} answers: {answers:?}",
        sentence.len(),
        answers.len()
    );
}
// ANCHOR_END: naive_breaks

#[test]
fn merging_writes_makes_two_lines_one() {
    let naive = Server::start_on_any_port(NAIVE);
    let (proxy, banner) = proxy_and_banner(&naive, &["--merge", "100", "--seed", "1"]);
    let mut client = proxy.connect();
    client.set_nodelay(true).unwrap();
    // Two writes, two lines: straight to the server, they would get two answers.
    client.write_all(b"one\n").unwrap();
    client.write_all(b"two\n").unwrap();
    let mut client = BufReader::new(client);
    let answers = [next_line(&mut client), next_line(&mut client)];
    // The proxy joined them into one write, and the server took it as one line.
    assert_eq!(answers, ["line 1: one", "two"]);
    // The naive server's real port is shown as its default, like the proxy's.
    let transcript = format!(
        "$ cargo run --bin 09_naive_line_server\nlistening on NAIVE\n\n\
         $ cargo run --bin 09_chaos_proxy -- 127.0.0.1:65440 NAIVE --merge 100 --seed 1\n\
         listening on {proxy}\n{}\n{}\n\n\
         # a client connects to the proxy and writes \"one\\n\", then \"two\\n\": two writes\n\
         {}\n{}\n",
        banner[0],
        banner[1],
        answers[0],
        answers[1],
        proxy = proxy.address,
    )
    .replace(&naive.address.to_string(), "NAIVE");
    insta::assert_snapshot!(
        "09_merged_lines",
        normalize(&transcript, proxy.address, "127.0.0.1:65440")
            .replace("NAIVE", "127.0.0.1:65444")
    );
}

#[test]
fn the_threaded_echo_returns_every_byte_behind_the_proxy() {
    let echo = Server::start_on_any_port(ECHO);
    let proxy = proxy(&echo, &["--seed", "3", "--latency", "5"]);
    let mut client = proxy.connect();
    // 600 bytes in one write come back whole and in order, however they were cut on the way.
    let sent: Vec<u8> = (0..600).map(|i| b'a' + (i % 26) as u8).collect();
    client.write_all(&sent).unwrap();
    let mut received = vec![0; sent.len()];
    client.read_exact(&mut received).unwrap();
    assert_eq!(received, sent);
}

// ANCHOR: chat_keeps_working
#[test]
fn the_chat_keeps_working_behind_the_proxy() {
    let chat = Server::start_on_any_port(CHAT);
    let proxy = proxy(&chat, &[]);
    let join = |name: &str| {
        let stream = proxy.connect();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        assert_eq!(
            next_line(&mut reader),
            "* Welcome to the chat! What is your name?"
        );
        writer.write_all(format!("{name}\n").as_bytes()).unwrap();
        assert!(next_line(&mut reader).starts_with(&format!("* Welcome, {name}!")));
        (reader, writer)
    };
    let (mut alice, _alice) = join("alice");
    let (_bob, mut bob) = join("bob");
    assert_eq!(next_line(&mut alice), "* bob joined");
    // Multi-byte characters are cut in the middle too, yet arrive whole: the chat decodes a line
    // only once all of it is there.
    bob.write_all("héllo wörld, ça va? ✓\n".as_bytes()).unwrap();
    assert_eq!(next_line(&mut alice), "bob: héllo wörld, ça va? ✓");
}
// ANCHOR_END: chat_keeps_working

#[test]
fn a_dropped_connection_is_lost_mid_line() {
    let chat = Server::start_on_any_port(CHAT);
    // The name line is 4 bytes; the cut comes 5 bytes into the next line.
    let proxy = proxy(&chat, &["--drop-after", "9", "--pieces", "0"]);
    let mut listener = BufReader::new(chat.connect());
    assert_eq!(
        next_line(&mut listener),
        "* Welcome to the chat! What is your name?"
    );
    listener.get_mut().write_all(b"bob\n").unwrap();
    next_line(&mut listener);

    let stream = proxy.connect();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    next_line(&mut reader);
    writer.write_all(b"eve\n").unwrap();
    next_line(&mut reader);
    assert_eq!(next_line(&mut listener), "* eve joined");
    writer.write_all(b"goodbye, everyone\n").unwrap();
    assert_eq!(next_line(&mut listener), "* eve left (connection lost)");
    // And eve's side sees the connection end.
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

#[test]
fn a_stalled_direction_forwards_nothing() {
    let echo = Server::start_on_any_port(ECHO);
    let proxy = proxy(&echo, &["--stall", "down"]);
    let mut client = proxy.connect();
    client
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    client.write_all(b"hello?\n").unwrap();
    let mut buffer = [0; 16];
    loop {
        match client.read(&mut buffer) {
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break;
            }
            // A signal (another test's child process ending) woke the wait: wait again.
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            other => panic!("expected nothing back through a stalled proxy, got {other:?}"),
        }
    }
}

#[test]
fn an_upstream_that_is_not_there_is_explained() {
    // A port that was free a moment ago: nothing listens there.
    let nowhere: SocketAddr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = Server::start(PROXY, &["127.0.0.1:0", &nowhere.to_string()]);
    let mut client = proxy.connect();
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    assert!(rest.is_empty());
    let error = proxy.next_error_line();
    assert!(
        error.contains("closed, because the proxy cannot connect"),
        "{error}"
    );
    assert!(error.contains("Is the server running?"), "{error}");
}

#[test]
fn help_lists_the_options_and_bad_ones_are_refused() {
    let help = run(PROXY, &["--help"], "");
    assert!(help.status.success());
    for option in ["--seed N", "--pieces MAX", "--merge MS", "--latency MS"] {
        assert!(help.stdout.contains(option), "{}", help.stdout);
    }
    for option in ["--drop-after N", "--stall up|down", "127.0.0.1:65434"] {
        assert!(help.stdout.contains(option), "{}", help.stdout);
    }
    let refused = run(PROXY, &["127.0.0.1:0", "--stall", "sideways"], "");
    assert!(!refused.status.success());
    assert!(
        refused
            .stderr
            .contains("--stall takes up or down, not \"sideways\""),
        "{}",
        refused.stderr
    );
    let refused = run(PROXY, &["--fast"], "");
    assert!(
        refused.stderr.contains("there is no option --fast"),
        "{}",
        refused.stderr
    );
    // An upstream on port 0, where no server is ever found, and a drop after no bytes at all
    // (which cut a client only once it spoke): both ran before, and failed every client.
    let wrong: [(&[&str], &str); 7] = [
        (
            &["127.0.0.1:0", "127.0.0.1:0"],
            "names no server: port 0 means",
        ),
        (
            &["127.0.0.1:0", "127.0.0.1:1", "--drop-after", "0"],
            "--drop-after takes 1 or more bytes, not 0",
        ),
        // Past an hour (any number of milliseconds was taken).
        (
            &["127.0.0.1:0", "127.0.0.1:1", "--latency", "3600001"],
            "--latency must be a whole number from 0 to 3600000",
        ),
        // Pieces longer than one read (any number was taken), options that undo each other,
        // and an option given twice (the last one won without a word).
        (
            &["127.0.0.1:0", "127.0.0.1:1", "--pieces", "65537"],
            "--pieces must be a whole number from 0 to 65536",
        ),
        (
            &[
                "127.0.0.1:0",
                "127.0.0.1:1",
                "--merge",
                "5",
                "--pieces",
                "2",
            ],
            "--merge gathers writes and --pieces cuts them",
        ),
        (
            &[
                "127.0.0.1:0",
                "127.0.0.1:1",
                "--stall",
                "up",
                "--drop-after",
                "5",
            ],
            "--stall up stops them all",
        ),
        (
            &["127.0.0.1:0", "127.0.0.1:1", "--seed", "1", "--seed", "2"],
            "--seed was given twice",
        ),
    ];
    for (arguments, said) in wrong {
        let refused = run(PROXY, arguments, "");
        assert!(!refused.status.success(), "{arguments:?} was taken");
        assert!(refused.stderr.contains(said), "{}", refused.stderr);
    }
}

#[test]
fn the_seed_is_printed_so_a_run_can_be_repeated() {
    let echo = Server::start_on_any_port(ECHO);
    let proxy = Server::start(
        PROXY,
        &["127.0.0.1:0", &echo.address.to_string(), "--seed", "42"],
    );
    assert!(
        proxy
            .next_line()
            .ends_with("cutting writes into pieces of 1-3 bytes, up to 2 ms apart")
    );
    assert_eq!(
        proxy.next_line(),
        "seed 42: run again with --seed 42 to cut the same way"
    );
}

#[test]
fn the_lesson_clients_work_through_the_proxy() {
    // Lesson 02's client, through the proxy to lesson 03's echo, prints what it prints without
    // the proxy: it reads until a whole line has come back.
    let echo = Server::start_on_any_port(ECHO);
    let proxy = proxy(&echo, &[]);
    let typed = "first line\nsecond line, a little longer\n";
    let direct = run(ECHO_CLIENT, &[&echo.address.to_string()], typed);
    let through = run(ECHO_CLIENT, &[&proxy.address.to_string()], typed);
    assert!(through.status.success(), "{through:?}");
    assert_eq!(
        through
            .stdout
            .replace(&proxy.address.to_string(), "ADDRESS"),
        direct.stdout.replace(&echo.address.to_string(), "ADDRESS")
    );

    // Lesson 04's client joins the chat through the proxy, talks, and leaves with a half-close,
    // which the proxy passes on.
    let chat = Server::start_on_any_port(CHAT);
    let proxy = self::proxy(&chat, &[]);
    let mut bob = BufReader::new(chat.connect());
    assert_eq!(
        next_line(&mut bob),
        "* Welcome to the chat! What is your name?"
    );
    bob.get_mut().write_all(b"bob\n").unwrap();
    next_line(&mut bob);
    let alice = run(
        CHAT_CLIENT,
        &[&proxy.address.to_string()],
        "alice\nhello bob\n",
    );
    assert!(alice.status.success(), "{alice:?}");
    assert_eq!(next_line(&mut bob), "* alice joined");
    assert_eq!(next_line(&mut bob), "alice: hello bob");
    assert_eq!(next_line(&mut bob), "* alice left");
}
