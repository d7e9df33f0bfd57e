//! Lesson 11: the load generator counts every round trip against a right server, and turns a
//! wrong, missing or late reply into an error and a failing exit, never into a success.
//!
//! No test here times anything: the numbers it measures belong in the book, from the bench.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use support::{Finished, Server};

const LOAD: &str = env!("CARGO_BIN_EXE_11_load");
const THREADED_ECHO: &str = env!("CARGO_BIN_EXE_03_threaded_echo");
const CHAT: &str = env!("CARGO_BIN_EXE_04_chat");

/// Runs the load generator against `address` with `args` after it.
fn load(address: SocketAddr, args: &[&str]) -> Finished {
    let address = address.to_string();
    let mut all = vec![address.as_str()];
    all.extend_from_slice(args);
    support::run(LOAD, &all, "")
}

/// A number from the one-line JSON object `--json` prints.
fn field(json: &str, name: &str) -> u64 {
    let key = format!("\"{name}\":");
    let start = json
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {json}"))
        + key.len();
    let digits: String = json[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a whole number in {json}"))
}

#[test]
fn against_lesson_03_every_round_trip_is_counted_and_none_fails() {
    let server = Server::start_on_any_port(THREADED_ECHO);
    let run = load(
        server.address,
        &["--clients", "4", "--messages", "50", "--json"],
    );
    assert!(run.status.success(), "{run:?}");
    let json = run.stdout.trim();
    assert!(json.starts_with('{') && json.ends_with('}'), "{json}");
    assert_eq!(field(json, "errors"), 0, "{json}");
    assert_eq!(field(json, "round_trips"), 4 * 50, "{json}");
    for name in ["rt_per_s", "p50_us", "p99_us", "max_us"] {
        field(json, name);
    }
    assert!(field(json, "p50_us") <= field(json, "max_us"), "{json}");
}

#[test]
fn the_table_names_its_columns_and_sizes_are_honoured() {
    let server = Server::start_on_any_port(THREADED_ECHO);
    // A message bigger than the server's 1024-byte buffer comes back in several reads.
    let run = load(
        server.address,
        &["--clients", "2", "--messages", "5", "--size", "3000"],
    );
    assert!(run.status.success(), "{run:?}");
    for column in [
        "clients",
        "round trips",
        "errors",
        "rt/s",
        "p50",
        "p90",
        "p99",
        "max",
    ] {
        assert!(
            run.stdout.contains(column),
            "no {column:?} in:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("2 clients, each sending 5 messages of 3000 bytes")
    );
}

#[test]
fn chat_fan_out_reaches_every_other_client() {
    let server = Server::start_on_any_port(CHAT);
    let run = load(
        server.address,
        &["--chat", "--clients", "4", "--messages", "3", "--json"],
    );
    assert!(run.status.success(), "{run:?}");
    let json = run.stdout.trim();
    assert_eq!(field(json, "errors"), 0, "{json}");
    // A fan-out is one message arriving at all three others.
    assert_eq!(field(json, "round_trips"), 4 * 3, "{json}");
}

/// `--burst`: every client sends all its messages at once, in one write, and each must still
/// reach every other client.
#[test]
fn a_chat_burst_reaches_every_other_client() {
    let server = Server::start_on_any_port(CHAT);
    let run = load(
        server.address,
        &[
            "--chat",
            "--burst",
            "--clients",
            "40",
            "--messages",
            "20",
            "--json",
        ],
    );
    assert!(run.status.success(), "{run:?}");
    let json = run.stdout.trim();
    assert_eq!(field(json, "errors"), 0, "{json}");
    assert_eq!(field(json, "round_trips"), 40 * 20, "{json}");
}

/// What a fake chat server says and reads before the room: it asks for a name, reads it, and
/// welcomes the client by it. The name, or `None` if the client left first.
fn greet_as_a_chat(reader: &mut BufReader<&TcpStream>) -> Option<String> {
    let mut stream = *reader.get_ref();
    let _ = stream.write_all(b"* Welcome to the chat! What is your name?\n");
    let mut name = String::new();
    reader.read_line(&mut name).ok()?;
    let name = name.trim().to_string();
    let _ = stream.write_all(format!("* Welcome, {name}! Nobody else is here yet.\n").as_bytes());
    Some(name)
}

/// A chat that relays every line, but only after it has let a burst wait 1.5 s in the buffers:
/// with `--timeout 0.5`, every message reaches the others too late, and must count as an error.
/// The time counts from the sending, not from the moment the burst's write returns.
#[test]
fn a_burst_the_server_is_slow_to_take_is_late() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let address = listener.local_addr().expect("its address");
    thread::spawn(move || {
        let clients: Vec<TcpStream> = listener.incoming().take(2).flatten().collect();
        for (number, stream) in clients.iter().enumerate() {
            let (mine, other) = (
                stream.try_clone().expect("a handle"),
                clients[1 - number].try_clone().expect("a handle"),
            );
            thread::spawn(move || {
                let mut reader = BufReader::new(&mine);
                let Some(name) = greet_as_a_chat(&mut reader) else {
                    return;
                };
                // Leave the burst in the buffers a while, then pass every line on.
                thread::sleep(std::time::Duration::from_millis(1500));
                let mut line = String::new();
                while matches!(reader.read_line(&mut line), Ok(1..)) {
                    let _ = (&other).write_all(format!("{name}: {line}").as_bytes());
                    line.clear();
                }
            });
        }
    });
    // 6,000 lines of 1,025 bytes: about 6 MB, more than loopback's buffers take in before the
    // server reads, so the burst's write itself waits for the server.
    let run = load(
        address,
        &[
            "--chat",
            "--burst",
            "--clients",
            "2",
            "--messages",
            "6000",
            "--size",
            "1025",
            "--timeout",
            "0.5",
            "--json",
        ],
    );
    let json = run.stdout.trim();
    assert_eq!(
        field(json, "round_trips"),
        0,
        "every message reached the other client over a second after it was sent, with a \
         timeout of 0.5 s: none may count as a fan-out ({json})"
    );
    assert_eq!(field(json, "errors"), 2 * 6000, "{json}");
}

/// A "chat" that trickles its welcome a byte every 100 ms and never ends it: joining must give
/// up within `--timeout` in all, not wait for each byte afresh.
#[test]
fn a_chat_server_that_trickles_its_welcome_is_given_up_on_in_time() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let address = listener.local_addr().expect("its address");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                for _ in 0..600 {
                    if (&stream).write_all(b"*").is_err() {
                        return;
                    }
                    thread::sleep(std::time::Duration::from_millis(100));
                }
            });
        }
    });
    let started = std::time::Instant::now();
    let run = load(
        address,
        &[
            "--chat",
            "--clients",
            "2",
            "--messages",
            "1",
            "--timeout",
            "0.5",
        ],
    );
    let both = format!("{}{}", run.stdout, run.stderr);
    assert!(!run.status.success(), "{both}");
    assert!(
        both.contains("joining: no reply within 500ms"),
        "joining a server that trickles its welcome must fail as late: {both}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "11_load took {:?} to give up on a trickled welcome with --timeout 0.5",
        started.elapsed()
    );
}

/// A "chat" that welcomes everyone and then passes nothing on: every message of a burst must
/// count as an error, never as a fan-out.
#[test]
fn a_burst_that_reaches_nobody_is_all_errors() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let address = listener.local_addr().expect("its address");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                if greet_as_a_chat(&mut reader).is_none() {
                    return;
                }
                // Read everything, pass nothing on.
                let _ = std::io::copy(&mut reader, &mut std::io::sink());
            });
        }
    });
    let run = load(
        address,
        &[
            "--chat",
            "--burst",
            "--clients",
            "3",
            "--messages",
            "5",
            "--timeout",
            "0.5",
        ],
    );
    assert!(!run.status.success(), "{run:?}");
    let both = format!("{}{}", run.stdout, run.stderr);
    assert!(
        both.contains("15 messages failed") && both.contains("reached 0 of the 2 others"),
        "{both}"
    );
}

#[test]
fn burst_needs_chat_and_a_number_of_messages() {
    for args in [
        &["--burst"][..],
        &["--chat", "--burst", "--duration", "1"][..],
    ] {
        let run = support::run(LOAD, args, "");
        assert!(!run.status.success(), "{run:?}");
        assert!(
            run.stderr
                .contains("--burst needs --chat, and --messages rather than --duration"),
            "{}",
            run.stderr
        );
    }
}

/// How a deliberately wrong echo server treats the lines it receives, counting from 1 on each
/// connection.
#[derive(Clone, Copy)]
enum Wrong {
    /// Every third reply has one byte changed.
    Corrupts,
    /// Every third line gets no reply at all.
    Drops,
    /// Answers every line with the connection's first: a stale reply, right but for the number.
    Replays,
    /// Reads everything and answers nothing.
    Stalls,
    /// Closes every connection at once, like a server that turns everyone away.
    Closes,
}

/// A wrong server on a port of its own, stopped when dropped.
struct WrongServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl WrongServer {
    fn start(how: Wrong) -> WrongServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let address = listener.local_addr().expect("its address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                if let Ok(stream) = stream {
                    // Each connection ends when the load generator closes it (or exits).
                    thread::spawn(move || serve_wrongly(stream, how));
                }
            }
        });
        WrongServer { address, stop }
    }
}

impl Drop for WrongServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

fn serve_wrongly(stream: TcpStream, how: Wrong) {
    let _ = stream.set_read_timeout(Some(support::PATIENCE));
    let mut writer = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::new(stream);
    if let Wrong::Closes = how {
        return;
    }
    if let Wrong::Stalls = how {
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
        return;
    }
    let mut line = Vec::new();
    let mut first = None;
    for number in 1.. {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if let Wrong::Replays = how {
            line = first.get_or_insert_with(|| line.clone()).clone();
        }
        let third = number % 3 == 0;
        match how {
            Wrong::Corrupts if third => line[0] ^= 0x20,
            Wrong::Drops if third => continue,
            _ => {}
        }
        if writer.write_all(&line).is_err() {
            return;
        }
    }
}

/// Runs the load generator against a wrong server and checks that it failed, and how.
fn load_against(how: Wrong, messages: &str) -> (Finished, String) {
    let server = WrongServer::start(how);
    let run = load(
        server.address,
        &[
            "--clients",
            "3",
            "--messages",
            messages,
            "--timeout",
            "0.2",
            "--json",
        ],
    );
    assert!(!run.status.success(), "it should fail: {run:?}");
    assert!(run.stderr.contains("Error: "), "{}", run.stderr);
    let json = run.stdout.trim().to_string();
    // Every message is either a round trip or an error: none goes uncounted.
    let messages: u64 = messages.parse().expect("a number");
    assert_eq!(
        field(&json, "round_trips") + field(&json, "errors"),
        3 * messages,
        "{json}"
    );
    (run, json)
}

#[test]
fn corrupted_replies_are_errors() {
    let (run, json) = load_against(Wrong::Corrupts, "6");
    // On each connection the third reply is wrong; then the client starts a new connection.
    assert_eq!(field(&json, "wrong"), 3 * 2, "{json}");
    assert_eq!(field(&json, "round_trips"), 3 * 4, "{json}");
    assert!(run.stderr.contains("6 wrong"), "{}", run.stderr);
}

#[test]
fn dropped_replies_are_errors() {
    let (run, json) = load_against(Wrong::Drops, "6");
    assert_eq!(field(&json, "late"), 3 * 2, "{json}");
    assert_eq!(field(&json, "round_trips"), 3 * 4, "{json}");
    assert!(run.stderr.contains("6 late"), "{}", run.stderr);
}

/// The message's numbers are what tell a stale reply from the right one, so they must fit:
/// `--size 17` (the smallest, `000000 000000001` and the newline) still catches every stale
/// reply, and a smaller size, which would cut them off, is refused.
#[test]
fn stale_replies_are_errors_down_to_the_smallest_size() {
    let server = WrongServer::start(Wrong::Replays);
    let run = load(
        server.address,
        &[
            "--clients",
            "3",
            "--messages",
            "4",
            "--size",
            "17",
            "--json",
        ],
    );
    assert!(!run.status.success(), "it should fail: {run:?}");
    let json = run.stdout.trim();
    // On each connection the first reply is right and the second is the first again; then the
    // client starts a new connection.
    assert_eq!(field(json, "wrong"), 3 * 2, "{json}");
    assert_eq!(field(json, "round_trips"), 3 * 2, "{json}");
    for (size, refused) in [("16", true), ("17", false)] {
        let run = load(server.address, &["--messages", "1", "--size", size]);
        let said = run
            .stderr
            .contains("--size needs a whole number of bytes from 17 to");
        assert_eq!(said, refused, "--size {size}: {}", run.stderr);
    }
}

#[test]
fn a_stalled_server_fails_every_message() {
    let (_, json) = load_against(Wrong::Stalls, "2");
    assert_eq!(field(&json, "round_trips"), 0, "{json}");
    assert_eq!(field(&json, "late"), 3 * 2, "{json}");
}

#[test]
fn a_client_turned_away_again_and_again_gives_up() {
    let (run, json) = load_against(Wrong::Closes, "6");
    // Three tries each, then the other three messages are never sent: errors all the same.
    assert_eq!(field(&json, "closed"), 3 * 3, "{json}");
    assert_eq!(field(&json, "abandoned"), 3 * 3, "{json}");
    assert_eq!(field(&json, "gave_up"), 3, "{json}");
    assert!(
        run.stderr
            .contains("9 never sent because their client gave up"),
        "{}",
        run.stderr
    );
    // What the book shows of a failed run: the sentence it ends with.
    let error = run
        .stderr
        .lines()
        .find(|line| line.starts_with("Error: "))
        .expect("an error line");
    insta::assert_snapshot!("11_load_gave_up", error);
}

#[test]
fn the_table_shows_what_went_wrong() {
    let server = WrongServer::start(Wrong::Corrupts);
    let run = load(
        server.address,
        &["--clients", "2", "--messages", "3", "--size", "20"],
    );
    assert!(!run.status.success());
    // The third message, `000000 000000002 ab\n`, came back with its first byte changed; the
    // report shows 16 bytes from there.
    assert!(
        run.stdout.contains(
            r#"error: client 0, message 2: the reply differs from the message at byte 0: got "\x1000000 000000002" where "000000 000000002" was sent"#
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn options_are_checked_and_help_is_given() {
    let help = support::run(LOAD, &["--help"], "");
    assert!(help.status.success());
    assert!(help.stdout.contains("--clients N"), "{}", help.stdout);
    let wrong = support::run(LOAD, &["--clients", "0"], "");
    assert!(!wrong.status.success());
    assert!(
        wrong
            .stderr
            .contains("--clients must be a whole number from 1 to 10000, not \"0\""),
        "{}",
        wrong.stderr
    );
    let unknown = support::run(LOAD, &["--frobnicate"], "");
    assert!(unknown.stderr.contains("--frobnicate is not an option"));
    // More clients than a count holds (a panic before), a process id past 32 bits (wrapped
    // round to another process before), a message past a GiB (cut to one without a word before),
    // a tenth digit in a message's number (cut off at the smallest size, so that a stale reply
    // could pass), a timeout so long that a deadline overflows (a client thread panicked
    // before) or so short it rounds to nothing: all refused in words, before any client starts.
    let wrong = [
        (
            "--clients",
            "18446744073709551615",
            "must be a whole number from 1 to 10000",
        ),
        // A thread each: past about 16,000, Linux's memory maps run out and std aborts.
        (
            "--clients",
            "10001",
            "must be a whole number from 1 to 10000",
        ),
        (
            "--pid",
            "4294967297",
            "must be a whole number from 1 to 4294967295",
        ),
        (
            "--size",
            "1073741825",
            "needs a whole number of bytes from 17 to 1073741824 (a GiB)",
        ),
        (
            "--messages",
            "1000000000",
            "must be a whole number from 1 to 999999999",
        ),
        (
            "--timeout",
            "1e19",
            "must be a number of seconds from 0.001 to 3600",
        ),
        (
            "--timeout",
            "0.0001",
            "must be a number of seconds from 0.001 to 3600",
        ),
        // Too long for a Duration (refused before, but said to be not above 0).
        (
            "--duration",
            "1e30",
            "must be a number of seconds from 0.001 to 1000000000",
        ),
    ];
    for (option, wrong, said) in wrong {
        let refused = support::run(LOAD, &[option, wrong], "");
        assert!(!refused.status.success());
        let said = format!("{option} {said}, not \"{wrong}\"");
        assert!(refused.stderr.contains(&said), "{}", refused.stderr);
    }
    // Two threads a chat client: half as many.
    let refused = support::run(LOAD, &["--chat", "--clients", "5001"], "");
    assert!(!refused.status.success());
    let said = "with --chat, --clients must be at most 5000";
    assert!(refused.stderr.contains(said), "{}", refused.stderr);
    // A process that is not there (Linux, where /proc shows): no footprint, and no word why, before.
    if cfg!(target_os = "linux") {
        let refused = support::run(LOAD, &["--pid", "4294967295"], "");
        assert!(!refused.status.success());
        assert!(
            refused.stderr.contains("no process 4294967295 is running"),
            "{}",
            refused.stderr
        );
    }
    // Ten clients of a GiB each would hold 20 GiB (an allocation that fails aborts the program).
    let refused = support::run(LOAD, &["--size", "1073741824"], "");
    assert!(!refused.status.success());
    assert!(
        refused
            .stderr
            .contains("--clients times --size must be at most 1073741824 bytes"),
        "{}",
        refused.stderr
    );
    // A burst is built in memory in one piece (the clients panicked on a huge one before).
    let burst = [
        "--chat",
        "--burst",
        "--messages",
        "999999999",
        "--size",
        "64",
    ];
    let refused = support::run(LOAD, &burst, "");
    assert!(!refused.status.success());
    assert!(
        refused
            .stderr
            .contains("--messages times --size must be at most 1073741824 bytes"),
        "{}",
        refused.stderr
    );
}

/// A chat run of the fewest clients it takes (two), one message each, a second to answer.
const CHAT_OF_TWO: [&str; 7] = [
    "--chat",
    "--clients",
    "2",
    "--messages",
    "1",
    "--timeout",
    "1",
];

#[test]
fn a_chat_server_that_never_ends_its_line_is_refused() {
    // A megabyte without a newline where the chat's welcome should be: a client without a limit
    // would read it all into memory, then wait for the rest of the line.
    let (address, server) = support::flooding_server(2, vec![b'x'; 1024 * 1024]);
    let run = load(address, &CHAT_OF_TWO);
    assert!(!run.status.success(), "{run:?}");
    assert!(
        run.stdout.contains("the server sent a line longer than")
            && run.stdout.contains("bytes: is it a chat server?"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    server.join().expect("the flooding server");
}

/// Both sides of the 64 KiB limit on a chat server's line, its line end not counted: a welcome of
/// 65,536 bytes is read (and refused as the wrong welcome), one byte more is too long.
#[test]
fn a_chat_server_line_of_64_kib_is_read_and_one_byte_more_is_too_long() {
    let x = |count: usize| vec![b'x'; count];
    let cases: [(Vec<u8>, bool); 4] = [
        ([x(65_536), b"\n".to_vec()].concat(), false),
        ([x(65_536), b"\r\n".to_vec()].concat(), false),
        ([x(65_537), b"\n".to_vec()].concat(), true),
        ([x(65_536), b"\rx\n".to_vec()].concat(), true),
    ];
    for (welcome, too_long) in cases {
        let length = welcome.len();
        // Two clients, the fewest a chat run takes; each hears the same welcome.
        let (address, server) =
            support::sending_server(2, welcome, support::AfterSending::EndStream);
        let run = load(address, &CHAT_OF_TWO);
        assert!(!run.status.success(), "{run:?}");
        assert_eq!(
            run.stdout
                .contains("the server sent a line longer than 65536 bytes"),
            too_long,
            "a welcome of {length} bytes: {}",
            run.stdout
        );
        server.join().expect("the sending server");
    }
}

/// `--spawn` takes a lesson's name, built beside `11_load`, as well as a path.
#[test]
fn spawn_takes_a_lessons_name() {
    let run = support::run(
        LOAD,
        &[
            "--spawn",
            "03_threaded_echo",
            "--clients",
            "2",
            "--messages",
            "3",
        ],
        "",
    );
    assert!(run.status.success(), "{run:?}");
    assert!(run.stdout.contains("echo at 127.0.0.1:"), "{}", run.stdout);
}

/// Measuring a chat as if it were an echo: every error shows what came, and says to use --chat.
#[test]
fn an_echo_run_against_a_chat_says_to_use_chat() {
    let server = Server::start_on_any_port(CHAT);
    let run = load(server.address, &["--clients", "1", "--messages", "1"]);
    assert!(!run.status.success(), "{run:?}");
    let both = format!("{}{}", run.stdout, run.stderr);
    assert!(
        both.contains("got \"* Welcome to the\"") && both.contains("measure a chat with --chat"),
        "{both}"
    );
}
