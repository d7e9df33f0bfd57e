//! Lesson 04 end to end: the real chat server and client binaries, over loopback.
//!
//! Most tests talk to the server through plain sockets (a [`Chatter`]), so they control every
//! byte that is sent. Nothing here sleeps: a test waits for a line the server must send, and every
//! wait has a time limit, so a broken server fails a test in seconds instead of hanging it.

use crate::support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use support::{PATIENCE, Server, Terminal, normalize, run};

/// The server under test: lesson 04's. `async-lessons/tests/suite/main.rs` compiles this file
/// again, with `cfg(async_chat)`, to hold lesson 10's server to the same scenarios.
#[cfg(not(async_chat))]
const SERVER: &str = env!("CARGO_BIN_EXE_04_chat");
#[cfg(async_chat)]
const SERVER: &str = env!("CARGO_BIN_EXE_10_async_chat");
#[cfg(not(async_chat))]
const CLIENT: &str = env!("CARGO_BIN_EXE_04_chat_client");
/// How the book shows the server's address: the lesson's default.
const SHOWN_AS: &str = "127.0.0.1:65435";

const WELCOME: &str = "* Welcome to the chat! What is your name?";
const ASK_AGAIN: &str = "* What is your name?";

/// One person in the chat, made of a plain socket. It keeps a record of what their screen would
/// show, for the transcript the book includes.
struct Chatter {
    /// Who this is, for failure messages.
    label: String,
    /// The connection: read through the buffer, written directly with `get_mut`. One socket,
    /// not two handles, so that a hundred chatters fit in macOS's 256 open files.
    reader: BufReader<TcpStream>,
    /// What they typed (marked `> `) and what they received, in order.
    screen: Vec<String>,
}

impl Chatter {
    /// Connects, and checks that the server asks for a name.
    fn connect(server: &Server, label: &str) -> Chatter {
        let stream = server.connect();
        let mut chatter = Chatter {
            label: label.to_string(),
            reader: BufReader::new(stream),
            screen: Vec::new(),
        };
        chatter.expect(WELCOME);
        chatter
    }

    /// Connects and joins as `name`.
    fn join(server: &Server, name: &str) -> Chatter {
        let mut chatter = Chatter::connect(server, name);
        chatter.type_line(name);
        let welcome = chatter.next_line();
        assert!(
            welcome.starts_with(&format!("* Welcome, {name}! ")),
            "{name} expected to be welcomed by name, got {welcome:?}"
        );
        chatter
    }

    /// Sends `text` and a newline, as someone typing it would.
    fn type_line(&mut self, text: &str) {
        self.screen.push(format!("> {text}"));
        self.send_bytes(format!("{text}\n").as_bytes());
    }

    /// Sends raw bytes, unrecorded.
    fn send_bytes(&mut self, bytes: &[u8]) {
        self.reader
            .get_mut()
            .write_all(bytes)
            .unwrap_or_else(|error| {
                panic!(
                    "{} could not send for {PATIENCE:?} ({error}): is the server still reading?",
                    self.label
                )
            });
    }

    /// The next line the server sends, without its `\n`.
    fn next_line(&mut self) -> String {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => panic!("{}: the server closed the connection", self.label),
            Ok(_) if line.last() != Some(&b'\n') => {
                panic!("{}: the server closed mid-line, after {line:?}", self.label)
            }
            Ok(_) => {}
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{} received nothing for {PATIENCE:?}", self.label)
            }
            Err(error) => panic!("{}: reading failed: {error}", self.label),
        }
        line.pop();
        let line = String::from_utf8(line).unwrap_or_else(|error| {
            panic!("{} received a line that is not UTF-8: {error}", self.label)
        });
        self.screen.push(line.clone());
        line
    }

    /// Checks that the next line is `wanted`.
    fn expect(&mut self, wanted: &str) {
        let line = self.next_line();
        assert_eq!(line, wanted, "{} received the wrong line", self.label);
    }

    /// Checks that the server closes the connection next, with nothing more to say.
    fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(
                rest.is_empty(),
                "{} expected the connection to close, but received {:?}",
                self.label,
                String::from_utf8_lossy(&rest)
            ),
            Err(error) => panic!("{} expected the server to close: {error}", self.label),
        }
        self.screen
            .push("[the server closed the connection]".into());
    }

    fn screen(&self) -> String {
        self.screen.join("\n")
    }
}

fn start() -> Server {
    Server::start_on_any_port(SERVER)
}

/// Checks that the server still serves newcomers and has reported no panic.
fn assert_still_serving(server: &Server) {
    let mut first = Chatter::join(server, "late1");
    let mut second = Chatter::join(server, "late2");
    first.expect("* late2 joined");
    second.type_line("still there?");
    first.expect("late2: still there?");
    let errors = server.error_lines_so_far();
    assert!(
        !errors.iter().any(|line| line.contains("panicked")),
        "the server panicked: {errors:#?}"
    );
}

/// alice, bob and carol join, in that order, and each hears of those who came after.
fn alice_bob_and_carol(server: &Server) -> (Chatter, Chatter, Chatter) {
    let mut alice = Chatter::join(server, "alice");
    let mut bob = Chatter::join(server, "bob");
    let carol = Chatter::join(server, "carol");
    alice.expect("* bob joined");
    alice.expect("* carol joined");
    bob.expect("* carol joined");
    (alice, bob, carol)
}

#[test]
#[cfg(not(async_chat))] // about lesson 04's own binaries
fn a_session_for_the_book() {
    let server = start();
    let mut alice = Chatter::connect(&server, "alice");
    alice.type_line("alice");
    alice.expect("* Welcome, alice! Nobody else is here yet. /help lists the commands.");
    alice.type_line("/help");
    for line in [
        "* Commands:",
        "*   /who             list who is here",
        "*   /nick NEW_NAME   change your name",
        "*   /msg NAME TEXT   send TEXT to NAME only",
        "*   /quit            leave the chat",
        "*   /help            show this list",
        "* Any other line goes to everyone else.",
    ] {
        alice.expect(line);
    }

    let mut bob = Chatter::connect(&server, "bob");
    bob.type_line("bob");
    bob.expect("* Welcome, bob! Also here: alice. /help lists the commands.");
    alice.expect("* bob joined");
    alice.type_line("hi bob!");
    bob.expect("alice: hi bob!");
    bob.type_line("hello alice");
    alice.expect("bob: hello alice");

    let mut carol = Chatter::connect(&server, "carol");
    carol.type_line("Alice");
    carol.expect("! the name Alice is taken");
    carol.expect(ASK_AGAIN);
    carol.type_line("carol");
    carol.expect("* Welcome, carol! Also here: alice, bob. /help lists the commands.");
    alice.expect("* carol joined");
    bob.expect("* carol joined");
    carol.type_line("/who");
    carol.expect("* 3 here: alice, bob, carol");
    carol.type_line("/msg alice is bob always this cheerful?");
    alice.expect("carol (private): is bob always this cheerful?");
    carol.expect("* sent privately to alice");

    bob.type_line("/nick robert");
    bob.expect("* You are now robert");
    alice.expect("* bob is now robert");
    carol.expect("* bob is now robert");
    carol.type_line("/dance");
    carol.expect("! unknown command /dance: /help lists the commands");

    bob.type_line("/quit");
    bob.expect("* Goodbye, robert!");
    bob.expect_closed();
    alice.expect("* robert left");
    carol.expect("* robert left");

    // Carol's connection drops halfway through a line.
    carol.screen.push("> I have to g".into());
    carol.send_bytes(b"I have to g");
    carol.screen.push("[carol's connection drops]".into());
    drop(carol.reader);
    alice.expect("* carol left (connection lost)");

    let mut log = vec![format!("listening on {}", server.address)];
    while !log.last().is_some_and(|line| line.contains("(carol) left")) {
        log.push(server.next_line());
    }
    let transcript = format!(
        "$ cargo run --bin 04_chat\n{}\n\n\
         $ nc 127.0.0.1 65435      # alice, in a second terminal (typed lines are marked >)\n{}\n\n\
         $ nc 127.0.0.1 65435      # bob, in a third terminal\n{}\n\n\
         $ nc 127.0.0.1 65435      # carol, in a fourth terminal\n{}\n",
        log.join("\n"),
        alice.screen(),
        bob.screen(),
        carol.screen.join("\n"),
    );
    insta::assert_snapshot!(
        "04_chat_session",
        normalize(&transcript, server.address, SHOWN_AS)
    );
}

#[test]
fn names_are_checked_and_asked_for_again() {
    let server = start();
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.expect("* bob joined");
    let mut newcomer = Chatter::connect(&server, "newcomer");
    // Someone talks in the room while the newcomer has no name: once bob has heard it, the room
    // has had its say, and the newcomer's next line must still be the answer to its first try.
    alice.type_line("anyone new?");
    bob.expect("alice: anyone new?");
    let only = "! a name may hold only the letters a-z and A-Z, digits, - and _";
    let twenty_one = "abcdefghij_klmnopqrst";
    for (name, problem) in [
        ("", "! a name needs at least one character"),
        (twenty_one, "! a name has at most 20 characters"),
        ("bob smith", only),
        ("bob!", only),
        ("zoë", only),
        ("/quit", only),
        // Two rules broken at once: the page's order says which one the answer names.
        ("bob the builder, 1234", only),
        ("ëëëëëëëëëëëëëëëëëëëëë", only),
        ("ALICE", "! the name ALICE is taken"),
        ("Alice", "! the name Alice is taken"),
    ] {
        newcomer.type_line(name);
        let answer = newcomer.next_line();
        assert_eq!(answer, problem, "the name {name:?} should be refused");
        newcomer.expect(ASK_AGAIN);
    }
    // telnet ends lines with `\r\n`: the `\r` is not part of the name. 20 characters is fine.
    let twenty = "Robert_the-2nd_12345";
    newcomer.send_bytes(format!("{twenty}\r\n").as_bytes());
    newcomer.expect(&format!(
        "* Welcome, {twenty}! Also here: alice, bob. /help lists the commands."
    ));
    // Nobody heard the attempts: the first thing alice and bob hear next is the join.
    alice.expect(&format!("* {twenty} joined"));
    bob.expect(&format!("* {twenty} joined"));
}

#[test]
fn messages_reach_everyone_else_but_not_the_sender() {
    let server = start();
    let (mut alice, mut bob, mut carol) = alice_bob_and_carol(&server);

    alice.type_line("hello, both of you");
    bob.expect("alice: hello, both of you");
    carol.expect("alice: hello, both of you");
    // Empty lines are ignored, and so are lines of only white space, Unicode's included (a tab,
    // a no-break space U+00A0, an ideographic space U+3000); `\r\n` is a line ending like `\n`.
    alice.send_bytes("\n\r\n   \n\t \u{a0}\u{3000}\nfrom telnet\r\n".as_bytes());
    bob.expect("alice: from telnet");
    carol.expect("alice: from telnet");
    // The server handles a client's lines in order, so had it echoed alice's messages to her,
    // they would arrive before this answer.
    alice.type_line("/who");
    alice.expect("* 3 here: alice, bob, carol");
}

#[test]
fn joins_and_leaves_are_announced() {
    let server = start();
    let mut alice = Chatter::join(&server, "alice");
    let bob = Chatter::join(&server, "bob");
    alice.expect("* bob joined");
    drop(bob);
    alice.expect("* bob left");

    let mut carol = Chatter::join(&server, "carol");
    alice.expect("* carol joined");
    carol.type_line("/quit");
    carol.expect("* Goodbye, carol!");
    carol.expect_closed();
    alice.expect("* carol left");

    // Someone who leaves before choosing a name was never in the room: nobody is told.
    drop(Chatter::connect(&server, "shy"));
    let _dave = Chatter::join(&server, "dave");
    alice.expect("* dave joined");
}

/// A client that half-closes (says it will send no more) still reads: the room hears at once that
/// it left, and the server sends it what was queued for it, then closes. Until then its
/// connection and its writer are still in use, so its seat stays taken. Checked with lines that
/// wait in the server, not in the system's buffers: each of alice's lines is 1,024 control
/// characters, which the server sends as 3 bytes each (U+FFFD), so 4,000 of them make about
/// 12 MiB for bob, several times what loopback's buffers took in on Linux for a client that
/// reads nothing (under 3 MiB), and fewer lines than the 4,096 a queue holds.
#[test]
fn a_client_that_leaves_with_lines_waiting_keeps_its_seat_until_it_has_them() {
    const LINES: usize = 4000;
    let server = Server::start(SERVER, &["127.0.0.1:0", "2"]);
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.expect("* bob joined");
    let unprintable = "\u{1}".repeat(1024);
    for _ in 0..LINES {
        alice.send_bytes(format!("{unprintable}\n").as_bytes());
    }
    // The broker answers alice's lines in order: once she hears this, bob's queue has them all.
    alice.type_line("/who");
    alice.expect("* 2 here: alice, bob");
    bob.reader
        .get_mut()
        .shutdown(std::net::Shutdown::Write)
        .expect("bob half-closes");
    alice.expect("* bob left");

    // A third of a second of newcomers: each must find the room full, as bob's seat is taken.
    let full = "! Sorry, the chat is full (2 people). Please try again later.";
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until {
        let mut newcomer = BufReader::new(server.connect());
        let mut first = String::new();
        newcomer
            .read_line(&mut first)
            .expect("a newcomer reads the server's first line");
        assert_eq!(
            first.trim_end(),
            full,
            "bob half-closed with lines still waiting for him, and read none yet: until he has \
             them (or the server's time for it runs out), his connection is in use and his seat \
             taken, so a newcomer must be turned away"
        );
    }

    // bob reads: every line queued for him, then the end of the connection.
    let wanted = format!("alice: {}", "\u{FFFD}".repeat(1024));
    for number in 0..LINES {
        let line = bob.next_line();
        assert!(
            line == wanted,
            "bob's line {number} of {LINES} is not alice's: {line:.40}..."
        );
    }
    bob.expect_closed();
    // Once bob has read the end, his seat is free.
    let _carol = Chatter::join(&server, "carol");
    alice.expect("* carol joined");
}

#[test]
fn commands_work_and_unknown_ones_are_refused() {
    let server = start();
    let (mut alice, mut bob, mut carol) = alice_bob_and_carol(&server);

    bob.type_line("/who");
    bob.expect("* 3 here: alice, bob, carol");

    // /nick: refused like a name, even when only the case differs from someone else's...
    bob.type_line("/nick");
    bob.expect("! usage: /nick NEW_NAME");
    bob.type_line("/nick CAROL");
    bob.expect("! the name CAROL is taken");
    bob.type_line("/nick bob the builder");
    bob.expect("! a name may hold only the letters a-z and A-Z, digits, - and _");
    // ...but changing the case of your own name is fine.
    bob.type_line("/nick Bob");
    bob.expect("* You are now Bob");
    alice.expect("* bob is now Bob");
    carol.expect("* bob is now Bob");
    carol.type_line("/who");
    carol.expect("* 3 here: alice, Bob, carol");

    // /msg reaches one person only, whatever case their name is typed in.
    alice.type_line("/msg BOB just between us");
    bob.expect("alice (private): just between us");
    alice.expect("* sent privately to Bob");
    alice.type_line("/msg nobody hello?");
    alice.expect("! nobody here is called nobody");
    alice.type_line("/msg Bob");
    alice.expect("! usage: /msg NAME TEXT");
    alice.type_line("/msg Bob    ");
    alice.expect("! usage: /msg NAME TEXT");
    // The spaces around the argument, and those at the start of TEXT, are not part of it.
    alice.type_line("/msg   Bob    quietly  ");
    bob.expect("alice (private): quietly");
    alice.expect("* sent privately to Bob");

    alice.type_line("/shout hey");
    alice.expect("! unknown command /shout: /help lists the commands");
    // A command's name is lower case: /WHO is another, unknown, word.
    alice.type_line("/WHO");
    alice.expect("! unknown command /WHO: /help lists the commands");
    // A command that takes no argument ignores one.
    alice.type_line("/who is here?");
    alice.expect("* 3 here: alice, Bob, carol");
    // A `/` anywhere but at the start is plain text, for the room.
    alice.type_line("either/or, and 1/2");
    bob.expect("alice: either/or, and 1/2");
    carol.expect("alice: either/or, and 1/2");
    alice.type_line("/help");
    alice.expect("* Commands:");
    for _ in 0..6 {
        assert!(alice.next_line().starts_with("* "));
    }

    // Carol heard none of the commands: her next line is the next thing said to the room.
    bob.type_line("done");
    carol.expect("Bob: done");
    alice.expect("Bob: done");
}

/// What the listening thread tells the talker in the slow-reader test.
enum Heard {
    /// One more of the talker's messages arrived.
    Message,
    /// The room was told that the slow client was cut off.
    CutOff,
}

#[test]
fn a_client_that_stops_reading_is_cut_off_and_nobody_waits_for_it() {
    let server = start();
    // `slow` joins, then never reads another byte.
    let slow = Chatter::join(&server, "slow");
    let mut talker = Chatter::join(&server, "talker");
    let mut listener = Chatter::join(&server, "listener");
    talker.expect("* listener joined");
    let cut_off = "* slow was disconnected: they stopped reading their messages";

    // The talker sends 1 KB messages until the room hears that `slow` was cut off. It keeps at
    // most WINDOW of them on their way to the listener, so the listener never falls behind,
    // however busy the machine: only `slow`, who reads nothing, can fill a queue.
    const WINDOW: usize = 64;
    const GIVE_UP_AFTER: usize = 200_000;
    let filler = "x".repeat(1000);
    let (heard_sender, heard) = mpsc::channel();
    let listening = thread::spawn(move || {
        let mut expected = 0;
        loop {
            let line = listener.next_line();
            if line == cut_off {
                let _ = heard_sender.send(Heard::CutOff);
                continue;
            }
            if line == "talker: done" {
                return (expected, listener);
            }
            let number = line
                .strip_prefix("talker: ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|number| number.parse::<usize>().ok());
            assert_eq!(
                number,
                Some(expected),
                "the listener lost a message: it expected number {expected}, got {line:.40}..."
            );
            expected += 1;
            let _ = heard_sender.send(Heard::Message);
        }
    });

    let (mut sent, mut received) = (0, 0);
    'talking: loop {
        // Take in what the listener has reported so far; wait only while the window is full.
        loop {
            let report = if sent - received >= WINDOW {
                match heard.recv_timeout(PATIENCE) {
                    Ok(report) => report,
                    Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                        "the listener received nothing for {PATIENCE:?} while `slow` was not \
                         reading: is the server waiting for the slow client?"
                    ),
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        panic!("the listening thread failed (see its message above)")
                    }
                }
            } else {
                match heard.try_recv() {
                    Ok(report) => report,
                    Err(_) => break,
                }
            };
            match report {
                Heard::Message => received += 1,
                Heard::CutOff => break 'talking,
            }
        }
        assert!(
            sent < GIVE_UP_AFTER,
            "`slow` read nothing of {sent} messages of 1 KB, yet was not disconnected: is its \
             queue bounded, and does the broker use try_send?"
        );
        talker.send_bytes(format!("{sent} {filler}\n").as_bytes());
        sent += 1;
    }
    talker.type_line("done");
    let (listened, mut listener) = listening.join().expect("the listening thread");
    assert_eq!(listened, sent, "the listener missed messages at the end");
    talker.expect(cut_off);
    talker.type_line("/who");
    talker.expect("* 2 here: listener, talker");
    listener.type_line("and I heard it all");
    talker.expect("listener: and I heard it all");
    drop(slow);
    assert_still_serving(&server);
}

#[test]
fn a_hundred_clients_hear_every_message_in_one_order() {
    const CLIENTS: usize = 100;
    const MESSAGES: usize = 50;
    let _sockets = support::sockets(CLIENTS);
    let server = start();
    let chatters: Vec<Chatter> = (0..CLIENTS)
        .map(|me| Chatter::join(&server, &format!("c{me:02}")))
        .collect();

    // The clients send in rounds of five messages each, and a round starts when everyone has
    // heard all of the last one. A busy machine may leave any one of these hundred reading
    // threads waiting for the processor; rounds keep it at most 5 * 99 lines behind, well within
    // the server's queue of 4096, so the server never (rightly) cuts off a client that is merely
    // starved. Within a round, a hundred clients still send at once.
    const ROUNDS: usize = 10;
    const PER_ROUND: usize = MESSAGES / ROUNDS;
    let (round_done, rounds_done) = mpsc::channel::<usize>();
    let mut starters = Vec::new();
    let mut threads = Vec::new();
    for (me, mut chatter) in chatters.into_iter().enumerate() {
        let (starter, start_round) = mpsc::channel::<usize>();
        starters.push(starter);
        let round_done = round_done.clone();
        threads.push(thread::spawn(move || {
            // Each message heard, as (sender, number).
            let mut heard = Vec::with_capacity((CLIENTS - 1) * MESSAGES);
            for round in 0..ROUNDS {
                if start_round.recv_timeout(PATIENCE).is_err() {
                    panic!("c{me:02} was not told to start round {round} (see above)");
                }
                for number in round * PER_ROUND..(round + 1) * PER_ROUND {
                    chatter.send_bytes(format!("{number}\n").as_bytes());
                }
                while heard.len() < (round + 1) * PER_ROUND * (CLIENTS - 1) {
                    let line = chatter.next_line();
                    if line.starts_with("* ") {
                        continue; // someone joined after us
                    }
                    let parsed = line.split_once(": ").and_then(|(from, number)| {
                        let from = from.strip_prefix('c')?.parse::<usize>().ok()?;
                        Some((from, number.parse::<usize>().ok()?))
                    });
                    match parsed {
                        Some(message) => heard.push(message),
                        None => panic!("c{me:02} received an unexpected line: {line:?}"),
                    }
                }
                let _ = round_done.send(me);
            }
            heard
        }));
    }
    for round in 0..ROUNDS {
        for starter in &starters {
            let _ = starter.send(round);
        }
        for _ in 0..CLIENTS {
            if rounds_done.recv_timeout(PATIENCE).is_err() {
                panic!("in round {round}, not every client heard every message (see above)");
            }
        }
    }
    let heard: Vec<Vec<(usize, usize)>> = threads
        .into_iter()
        .enumerate()
        .map(|(me, thread)| {
            thread
                .join()
                .unwrap_or_else(|_| panic!("c{me:02} did not hear everything (see above)"))
        })
        .collect();

    for (me, messages) in heard.iter().enumerate() {
        let mut by_sender: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &(from, number) in messages {
            by_sender.entry(from).or_default().push(number);
        }
        assert!(
            !by_sender.contains_key(&me),
            "c{me:02} heard its own messages"
        );
        assert_eq!(by_sender.len(), CLIENTS - 1, "c{me:02} missed a sender");
        for (from, numbers) in by_sender {
            assert!(
                numbers.iter().copied().eq(0..MESSAGES),
                "c{me:02} heard c{from:02}'s messages as {numbers:?}: lost or out of order"
            );
        }
    }
    // One order for everybody: any two clients heard the messages they both heard in the same
    // order.
    for (a, heard_by_a) in heard.iter().enumerate() {
        for (b, heard_by_b) in heard.iter().enumerate().skip(a + 1) {
            let common_a = heard_by_a.iter().filter(|(from, _)| *from != b);
            let common_b = heard_by_b.iter().filter(|(from, _)| *from != a);
            assert!(
                common_a.eq(common_b),
                "c{a:02} and c{b:02} heard the same messages in different orders"
            );
        }
    }
}

#[test]
fn invalid_utf8_is_refused_and_the_connection_kept() {
    let server = start();
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.expect("* bob joined");

    alice.send_bytes(b"caf\xe9 in Latin-1\n");
    alice.expect("! line refused: it is not UTF-8 text");
    // (Not 0xFF: that byte starts a telnet command, see `telnet_commands_are_not_text`.)
    alice.send_bytes(b"\xfe\xfd\xfc\n");
    alice.expect("! line refused: it is not UTF-8 text");
    // A name must be text too, and no longer than a line may be.
    let mut newcomer = Chatter::connect(&server, "newcomer");
    newcomer.send_bytes(b"b\xf6b\n");
    newcomer.expect("! line refused: it is not UTF-8 text");
    newcomer.type_line(&"n".repeat(course::chat::MAX_LINE_BYTES + 1));
    newcomer.expect(&format!(
        "! line refused: it is longer than {} bytes",
        course::chat::MAX_LINE_BYTES
    ));

    alice.type_line("still here");
    bob.expect("alice: still here");
    // No second question after a refused line, nothing of the room heard before a name, and the
    // name still awaited: the next line the newcomer hears is its welcome.
    newcomer.type_line("carol");
    newcomer.expect("* Welcome, carol! Also here: alice, bob. /help lists the commands.");
    assert_still_serving(&server);
}

/// telnet sends commands between the lines (RFC 854): options it wants, its window size, and in
/// character mode a line end of `\r` NUL. These bytes are what Linux's telnet (inetutils) sends,
/// and what a telnet that negotiates its window sends; each is cut in two on its way, as TCP may.
#[test]
fn telnet_commands_are_not_text() {
    let server = start();
    let mut alice = Chatter::join(&server, "alice");
    let mut dave = Chatter::connect(&server, "dave");
    // IAC WILL NAWS, IAC WILL TTYPE, IAC SB NAWS 0 80 0 24 IAC SE, then the name.
    dave.send_bytes(b"\xff\xfb\x1f\xff\xfb\x18\xff\xfa\x1f\x00");
    dave.send_bytes(b"\x50\x00\x18\xff\xf0dave\r\n");
    let welcome = dave.next_line();
    assert!(
        welcome.starts_with("* Welcome, dave! "),
        "a name after telnet's negotiation should be welcomed, but dave got {welcome:?}"
    );
    alice.expect("* dave joined");
    // The window changes size mid-session: a subnegotiation, then a line.
    dave.send_bytes(b"\xff\xfa\x1f\x00\x64\x00");
    dave.send_bytes(b"\x1e\xff\xf0resized\r\n");
    alice.expect("dave: resized");
    // Ctrl-] `mode character`: IAC DO SUPPRESS-GO-AHEAD, IAC DO ECHO, then lines ending `\r` NUL.
    dave.send_bytes(b"\xff\xfd\x03\xff\xfd\x01hi\r");
    dave.send_bytes(b"\x00yo\r\x00");
    alice.expect("dave: hi");
    alice.expect("dave: yo");
    assert_still_serving(&server);
}

#[test]
fn a_line_longer_than_1024_bytes_is_refused_and_the_connection_kept() {
    let server = start();
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.expect("* bob joined");
    let too_long = "! line refused: it is longer than 1024 bytes";

    // 1024 bytes is allowed, with either line ending.
    let longest = "a".repeat(1024);
    alice.send_bytes(format!("{longest}\n{longest}\r\n").as_bytes());
    bob.expect(&format!("alice: {longest}"));
    bob.expect(&format!("alice: {longest}"));
    alice.send_bytes(format!("{longest}b\n").as_bytes());
    alice.expect(too_long);

    // A 1 MiB line is refused once, and none of it reaches anyone.
    let mut huge = vec![b'z'; 1024 * 1024];
    huge.push(b'\n');
    alice.send_bytes(&huge);
    alice.expect(too_long);
    alice.type_line("after the big one");
    bob.expect("alice: after the big one");
    alice.type_line("/who");
    alice.expect("* 2 here: alice, bob");
    assert_still_serving(&server);
}

#[test]
fn control_characters_never_reach_another_screen() {
    let server = start();
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.expect("* bob joined");

    // A NUL byte; a sequence that clears the screen and turns it red, and a bell; the one-char
    // form of that sequence (U+009B); a tab. Each control character becomes U+FFFD.
    alice.send_bytes(b"nul\0byte\n");
    bob.expect("alice: nul\u{FFFD}byte");
    alice.send_bytes(b"\x1b[2J\x1b[31mred alert\x07\n");
    bob.expect("alice: \u{FFFD}[2J\u{FFFD}[31mred alert\u{FFFD}");
    alice.send_bytes("\u{9b}2Jgone\tnow\n".as_bytes());
    bob.expect("alice: \u{FFFD}2Jgone\u{FFFD}now");
    // Private messages too, and commands echoed back in an error.
    alice.send_bytes(b"/msg bob \x1b]0;new title\x07\n");
    bob.expect("alice (private): \u{FFFD}]0;new title\u{FFFD}");
    alice.expect("* sent privately to bob");
    alice.send_bytes(b"/\x1b[2J\n");
    alice.expect("! unknown command /\u{FFFD}[2J: /help lists the commands");
    assert_still_serving(&server);
}

#[test]
fn format_characters_never_reach_another_screen() {
    let server = start();
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.expect("* bob joined");

    // Each of these is Unicode category Cf: it changes how text displays, not what it says.
    // U+202E displays what follows right to left (the "Trojan Source" trick); U+2066..U+2069
    // isolate and reorder; U+200B and U+FEFF are invisible; U+061C is the Arabic letter mark.
    // Like control characters, each becomes U+FFFD.
    for (sent, shown) in [
        (
            "pay \u{202E}001$ ot\u{202C} bob",
            "pay \u{FFFD}001$ ot\u{FFFD} bob",
        ),
        (
            "\u{2066}isolated\u{2069} end",
            "\u{FFFD}isolated\u{FFFD} end",
        ),
        ("zero\u{200B}width\u{FEFF}", "zero\u{FFFD}width\u{FFFD}"),
        (
            "mark\u{061C} and tag \u{E0041}",
            "mark\u{FFFD} and tag \u{FFFD}",
        ),
    ] {
        alice.type_line(sent);
        bob.expect(&format!("alice: {shown}"));
    }
    // The same rule for every line the server sends: private messages, and error lines that
    // quote a name someone typed.
    alice.type_line("/msg bob \u{202E}terces");
    bob.expect("alice (private): \u{FFFD}terces");
    alice.expect("* sent privately to bob");
    alice.type_line("/msg b\u{200B}ob hi");
    alice.expect("! nobody here is called b\u{FFFD}ob");
    // A name may hold none of them: names are ASCII letters, digits, - and _ only.
    let mut newcomer = Chatter::connect(&server, "newcomer");
    newcomer.type_line("mallory\u{202E}");
    newcomer.expect("! a name may hold only the letters a-z and A-Z, digits, - and _");
    newcomer.expect(ASK_AGAIN);
    assert_still_serving(&server);
}

#[test]
fn a_client_that_vanishes_mid_line_is_announced_gone() {
    let server = start();
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.expect("* bob joined");

    // Closes its connection halfway through a line.
    let mut ghost = Chatter::join(&server, "ghost");
    alice.expect("* ghost joined");
    bob.expect("* ghost joined");
    ghost.send_bytes(b"I was about to say som");
    drop(ghost);
    alice.expect("* ghost left (connection lost)");
    bob.expect("* ghost left (connection lost)");

    // Vanishes mid-line with lines it never read: its system answers with a reset.
    let mut phantom = Chatter::join(&server, "phantom");
    alice.expect("* phantom joined");
    bob.expect("* phantom joined");
    bob.type_line("hello phantom");
    alice.expect("bob: hello phantom");
    phantom.send_bytes(b"hal");
    drop(phantom);
    alice.expect("* phantom left (connection lost)");
    bob.expect("* phantom left (connection lost)");

    // Leaves between lines, but with a line it never read: a lost connection too (its system
    // resets it), though no line was cut.
    let wraith = Chatter::join(&server, "wraith");
    alice.expect("* wraith joined");
    bob.expect("* wraith joined");
    bob.type_line("hello wraith");
    alice.expect("bob: hello wraith");
    // Waits until the line is in wraith's socket, unread (peek leaves it there).
    let mut first_byte = [0; 1];
    let peeked = wraith.reader.get_ref().peek(&mut first_byte);
    assert_eq!(peeked.ok(), Some(1), "wraith's line never arrived");
    drop(wraith);
    alice.expect("* wraith left (connection lost)");
    bob.expect("* wraith left (connection lost)");

    bob.type_line("anyone else?");
    alice.expect("bob: anyone else?");
    assert_still_serving(&server);
}

#[test]
fn connections_past_the_limit_are_turned_away_politely() {
    let server = Server::start(SERVER, &["127.0.0.1:0", "4"]);
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.expect("* bob joined");
    // Two more take the last seats without choosing a name.
    let _third = Chatter::connect(&server, "third");
    let _fourth = Chatter::connect(&server, "fourth");

    // A flood: fifty more connect at once. Each is told why, and closed.
    let _sockets = support::sockets(55);
    let flood: Vec<TcpStream> = (0..50).map(|_| server.connect()).collect();
    for mut extra in flood {
        let mut answer = String::new();
        extra
            .read_to_string(&mut answer)
            .expect("a turned-away client gets a line, then the close");
        assert_eq!(
            answer,
            "! Sorry, the chat is full (4 people). Please try again later.\n"
        );
    }

    // Everyone inside carried on.
    alice.type_line("it is busy tonight");
    bob.expect("alice: it is busy tonight");
    // Once someone has left, and read the end of the connection, a newcomer finds their seat
    // free. (The room hears at once that bob left; the seat is free when the server is done
    // with his connection, which bob sees as its end.)
    bob.reader
        .get_mut()
        .shutdown(std::net::Shutdown::Write)
        .expect("bob half-closes");
    alice.expect("* bob left");
    bob.expect_closed();
    let mut carol = Chatter::join(&server, "carol");
    alice.expect("* carol joined");
    carol.type_line("made it");
    alice.expect("carol: made it");
}

/// A newcomer turned away after it typed its name already (a script, or a fast typist) still
/// reads why: closing with its bytes unread would send a reset that can destroy the line.
#[test]
fn a_client_turned_away_after_it_spoke_still_reads_why() {
    let server = Server::start(SERVER, &["127.0.0.1:0", "1"]);
    let _alice = Chatter::join(&server, "alice");
    for attempt in 0..20 {
        let mut extra = server.connect();
        extra.write_all(b"dave\n").expect("send a name");
        extra
            .shutdown(std::net::Shutdown::Write)
            .expect("half-close");
        let mut answer = Vec::new();
        if let Err(error) = extra.read_to_end(&mut answer) {
            panic!(
                "attempt {attempt}: reading the refusal failed ({:?}) after {:?}: the server \
                 closed with the client's name unread, and its reset came first",
                error.kind(),
                String::from_utf8_lossy(&answer)
            );
        }
        assert_eq!(
            String::from_utf8_lossy(&answer),
            "! Sorry, the chat is full (1 person). Please try again later.\n",
            "attempt {attempt}"
        );
    }
}

#[test]
fn a_newcomer_that_chooses_no_name_in_time_is_told_and_closed() {
    // Half a second to choose a name, instead of a minute, so the test need not wait long.
    let server = Server::start(SERVER, &["127.0.0.1:0", "1000", "0.5"]);
    let goodbye = "! you chose no name within 0.5 seconds: goodbye";
    let mut alice = Chatter::join(&server, "alice");
    let mut silent = Chatter::connect(&server, "silent");
    silent.expect(goodbye);
    silent.expect_closed();
    // Trying names that are refused does not restart the clock: one try every 100 ms, and the
    // goodbye still comes at 0.5 s (a server that restarted it would never send it while the
    // tries go on, and they go on for 5 s).
    let mut dithering = Chatter::connect(&server, "dithering");
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "each refused name put the deadline off: 5 s of tries, and no goodbye"
        );
        dithering.type_line("not a name!");
        let line = dithering.next_line();
        if line == goodbye {
            break;
        }
        assert_eq!(
            line,
            "! a name may hold only the letters a-z and A-Z, digits, - and _"
        );
        let line = dithering.next_line();
        if line == goodbye {
            break;
        }
        assert_eq!(line, ASK_AGAIN);
        thread::sleep(Duration::from_millis(100));
    }
    dithering.expect_closed();
    // alice chose her name in time: she stays, and the room was never told of the others.
    alice.type_line("/who");
    alice.expect("* 1 here: alice");
    // The server's log says why each of them was closed.
    let mut sent_away = 0;
    for _ in 0..10 {
        if server
            .next_line()
            .ends_with(" sent away: no name within 0.5 seconds")
        {
            sent_away += 1;
        }
        if sent_away == 2 {
            return;
        }
    }
    panic!("the server's log did not say that two connections were sent away");
}

#[test]
#[cfg(not(async_chat))] // about lesson 04's own binaries
fn help_explains_the_limit_and_how_to_join() {
    let finished = run(SERVER, &["--help"], "");
    assert!(finished.status.success());
    for wanted in [
        "usage: 04_chat [ADDRESS] [MAX_CLIENTS] [NAME_SECONDS]",
        "(default 1000)",
        "(default 60;",
        "cargo run --bin 04_chat_client",
        "nc 127.0.0.1 65435",
        "telnet 127.0.0.1 65435",
    ] {
        assert!(finished.stdout.contains(wanted), "{}", finished.stdout);
    }
    // MAX_CLIENTS not a number, none, or more than a count can hold; NAME_SECONDS not a number,
    // or so large that a deadline would overflow (the broker panicked at the first newcomer
    // before): all refused in words.
    // Lesson 04 takes two threads a client, and so at most 5,000 (chapter 03: past about 16,000
    // threads std ends the process); lesson 10's tasks, as many as a count of a million.
    let max_clients = if cfg!(async_chat) {
        "MAX_CLIENTS must be a whole number from 1 to 1000000"
    } else {
        "MAX_CLIENTS must be a whole number from 1 to 5000"
    };
    let one_past = if cfg!(async_chat) { "1000001" } else { "5001" };
    let name_seconds = "NAME_SECONDS must be a number of seconds from 0.001 to 3600";
    for (arguments, said) in [
        (["lots", "60"], max_clients),
        (["0", "60"], max_clients),
        ([one_past, "60"], max_clients),
        (["18446744073709551616", "60"], max_clients),
        (["10", "soon"], name_seconds),
        (["10", "1e19"], name_seconds),
        (["10", "1e-9"], name_seconds),
    ] {
        let refused = run(SERVER, &["127.0.0.1:0", arguments[0], arguments[1]], "");
        assert!(!refused.status.success(), "{arguments:?} was taken");
        assert!(refused.stderr.contains(said), "{}", refused.stderr);
    }
}

// The lesson client.

/// How the client says to end typed input: Ctrl-Z then Enter on Windows, Ctrl-D elsewhere.
const END_OF_INPUT: &str = if cfg!(windows) {
    "Ctrl-Z then Enter"
} else {
    "Ctrl-D"
};

#[test]
#[cfg(not(async_chat))] // about lesson 04's own binaries
fn two_lesson_clients_talk() {
    let server = start();
    let address = server.address.to_string();
    let connected = format!(
        "-- connected to {address}; type a line and press Enter to send it; /quit or {END_OF_INPUT} \
         leaves"
    );
    let mut alice = Terminal::start(CLIENT, &[&address]);
    assert_eq!(alice.next_line(), connected);
    assert_eq!(alice.next_line(), WELCOME);
    alice.type_line("alice");
    assert_eq!(
        alice.next_line(),
        "* Welcome, alice! Nobody else is here yet. /help lists the commands."
    );
    let mut bob = Terminal::start(CLIENT, &[&address]);
    assert_eq!(bob.next_line(), connected);
    assert_eq!(bob.next_line(), WELCOME);
    bob.type_line("bob");
    assert_eq!(
        bob.next_line(),
        "* Welcome, bob! Also here: alice. /help lists the commands."
    );
    assert_eq!(alice.next_line(), "* bob joined");

    alice.type_line("hi bob");
    assert_eq!(bob.next_line(), "alice: hi bob");
    bob.type_line("hi alice, bye alice");
    assert_eq!(alice.next_line(), "bob: hi alice, bye alice");

    bob.type_line("/quit");
    assert_eq!(bob.next_line(), "* Goodbye, bob!");
    let bob = bob.finish();
    assert!(bob.status.success(), "{bob:?}");
    assert_eq!(
        bob.stdout,
        "-- you typed /quit, and the server closed the connection\n"
    );
    assert_eq!(alice.next_line(), "* bob left");

    let alice = alice.finish();
    assert!(alice.status.success(), "{alice:?}");
    assert_eq!(
        alice.stdout,
        "-- your input ended, and the server closed the connection\n"
    );
}

#[test]
#[cfg(not(async_chat))] // about lesson 04's own binaries
fn the_lesson_client_sends_what_is_typed_then_leaves_at_the_end_of_input() {
    let server = start();
    let mut bob = Chatter::join(&server, "bob");
    let address = server.address.to_string();
    let alice = run(CLIENT, &[&address], "alice\nhello bob\n");
    assert!(alice.status.success(), "{alice:?}");
    bob.expect("* alice joined");
    bob.expect("alice: hello bob");
    bob.expect("* alice left");
    let transcript = format!(
        "$ cargo run --bin 04_chat_client      # then type alice, hello bob, and Ctrl-D\n{}",
        alice.stdout
    );
    insta::assert_snapshot!(
        "04_chat_client_run",
        normalize(&transcript, server.address, SHOWN_AS)
    );
}

/// The client leaves at a `/quit` exactly when the server does: " /quit" is a message to the room
/// (the client stopped there before, and waited for a close that never came), "/quit\t" an unknown
/// command (the client stopped there too), and "/quit now" a quit.
#[test]
#[cfg(not(async_chat))] // about lesson 04's own binaries
fn the_lesson_client_leaves_at_the_quits_the_server_takes() {
    let server = start();
    let mut bob = Chatter::join(&server, "bob");
    let address = server.address.to_string();
    let alice = run(
        CLIENT,
        &[&address],
        "alice\n /quit\n/quit\t\nhello\n/quit now\n",
    );
    assert!(alice.status.success(), "{alice:?}");
    assert!(
        alice
            .stdout
            .ends_with("-- you typed /quit, and the server closed the connection\n"),
        "{}",
        alice.stdout
    );
    bob.expect("* alice joined");
    bob.expect("alice:  /quit");
    bob.expect("alice: hello");
    bob.expect("* alice left");
}

#[test]
#[cfg(not(async_chat))] // about lesson 04's own binaries
fn the_lesson_client_works_with_the_echo_servers() {
    for echo in [
        env!("CARGO_BIN_EXE_02_echo"),
        env!("CARGO_BIN_EXE_03_threaded_echo"),
    ] {
        let server = Server::start_on_any_port(echo);
        let address = server.address.to_string();
        let client = run(CLIENT, &[&address], "first line\nsecond line");
        assert!(client.status.success(), "{client:?}");
        assert_eq!(
            client.stdout,
            format!(
                "-- connected to {address}; type a line and press Enter to send it; /quit or \
                 {END_OF_INPUT} leaves\nfirst line\nsecond line\n\
                 -- your input ended, and the server closed the connection\n"
            )
        );
    }
}

#[test]
#[cfg(not(async_chat))] // about lesson 04's own binaries
fn the_lesson_client_exits_cleanly_when_the_server_closes() {
    // The greeting server says its line and closes, while the input is still open.
    let greeting = Server::start_on_any_port(env!("CARGO_BIN_EXE_01_greeting"));
    let mut client = Terminal::start(CLIENT, &[&greeting.address.to_string()]);
    assert!(client.next_line().starts_with("-- connected to "));
    assert_eq!(client.next_line(), "Hello, client!");
    assert_eq!(client.next_line(), "-- the server closed the connection");
    let finished = client.finish();
    assert!(finished.status.success(), "{finished:?}");

    // The chat server stops while a client waits to be asked for nothing in particular.
    let chat = start();
    let mut client = Terminal::start(CLIENT, &[&chat.address.to_string()]);
    assert!(client.next_line().starts_with("-- connected to "));
    assert_eq!(client.next_line(), WELCOME);
    drop(chat); // kills the server
    assert_eq!(client.next_line(), "-- the server closed the connection");
    let finished = client.finish();
    assert!(finished.status.success(), "{finished:?}");
}

#[test]
#[cfg(not(async_chat))] // about lesson 04's own binaries
fn the_lesson_client_refuses_a_line_without_end() {
    // A server that sends a megabyte without a newline, then waits.
    let (address, flooding) = support::flooding_server(1, vec![b'x'; 1024 * 1024]);
    let mut client = Terminal::start(CLIENT, &[&address.to_string()]);
    assert!(client.next_line().starts_with("-- connected to "));
    let finished = client.finish();
    assert!(!finished.status.success(), "{finished:?}");
    assert!(
        finished
            .stderr
            .contains("the server sent something this program cannot accept"),
        "{}",
        finished.stderr
    );
    assert!(
        finished
            .stderr
            .contains("the server sent a line longer than"),
        "{}",
        finished.stderr
    );
    flooding.join().expect("the flooding server");
}

/// The environment variable that turns [`burst_clients`] on, with the server's address in it.
const BURST_SERVER: &str = "COURSE_CHAT_BURST_SERVER";
/// How many clients join the burst, and how many lines each sends at once.
const BURST_CLIENTS: usize = 200;
const BURST_LINES: usize = 20;

/// A burst, as a busy room has them: 200 clients join, then each sends 20 lines at once while
/// reading all the time. Each must hear all 199 × 20 lines of the others, each sender's in the
/// order sent and everybody's in one order, and nobody may be cut off: every client reads as fast
/// as it can, so a server that calls them too slow is the one falling behind.
///
/// 200 connections do not fit in this program beside the other tests within 256 open files, so
/// the clients run in a child process of their own: this same test program, running only
/// [`burst_clients`].
#[test]
fn two_hundred_clients_sending_at_once_lose_nothing() {
    let server = start();
    let output = support::output_within_patience(
        Command::new(std::env::current_exe().expect("the test program's path"))
            .args(["--exact", "lesson_04_chat::burst_clients", "--nocapture"])
            .env(BURST_SERVER, server.address.to_string()),
    );
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    // Whom the server cut off: nobody should be. (Once the clients' process ends, every client
    // leaves, some with a reset for the lines nobody read any more: those are no fault.)
    let cut_off: Vec<String> = server
        .output_lines_so_far()
        .into_iter()
        .filter(|line| line.contains("cut off"))
        .take(5)
        .collect();
    assert!(
        output.status.success() && text(&output.stdout).contains("1 passed"),
        "the burst failed; the server's log said {cut_off:#?};\nthe clients said:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(
        cut_off.is_empty(),
        "the server cut off readers: {cut_off:#?}"
    );
}

/// The clients of [`two_hundred_clients_sending_at_once_lose_nothing`], run by that test as a
/// process of their own. Run alone, without [`BURST_SERVER`] set, it has nothing to do.
#[test]
fn burst_clients() {
    let Ok(address) = std::env::var(BURST_SERVER) else {
        return;
    };
    let server_address = address.parse().expect("the server's address");
    let mut chatters: Vec<Chatter> = Vec::with_capacity(BURST_CLIENTS);
    for me in 0..BURST_CLIENTS {
        let stream = support::connect(server_address);
        let mut chatter = Chatter {
            label: format!("c{me:03}"),
            reader: BufReader::new(stream),
            screen: Vec::new(),
        };
        chatter.expect(WELCOME);
        chatter.type_line(&format!("c{me:03}"));
        let welcome = chatter.next_line();
        assert!(welcome.starts_with("* Welcome, "), "{welcome:?}");
        chatters.push(chatter);
    }
    // Everyone starts sending at the same moment.
    let go = std::sync::Arc::new(std::sync::Barrier::new(BURST_CLIENTS));
    let threads: Vec<_> = chatters
        .into_iter()
        .enumerate()
        .map(|(me, mut chatter)| {
            let go = std::sync::Arc::clone(&go);
            thread::spawn(move || {
                let burst: String = (0..BURST_LINES).map(|n| format!("{n}\n")).collect();
                go.wait();
                chatter.send_bytes(burst.as_bytes());
                let mut heard = Vec::with_capacity((BURST_CLIENTS - 1) * BURST_LINES);
                while heard.len() < (BURST_CLIENTS - 1) * BURST_LINES {
                    // `next_line` would keep every line for a screen nobody shows.
                    chatter.screen.clear();
                    let line = chatter.next_line();
                    if line.starts_with("* ") && line.ends_with(" joined") {
                        continue; // someone who joined after us
                    }
                    let parsed = line.split_once(": ").and_then(|(from, number)| {
                        let from = from.strip_prefix('c')?.parse::<usize>().ok()?;
                        Some((from, number.parse::<usize>().ok()?))
                    });
                    match parsed {
                        Some(message) => heard.push(message),
                        None => panic!(
                            "c{me:03} received {line:?} after {} of the others' lines",
                            heard.len()
                        ),
                    }
                }
                heard
            })
        })
        .collect();
    let heard: Vec<Vec<(usize, usize)>> = threads
        .into_iter()
        .enumerate()
        .map(|(me, thread)| {
            thread
                .join()
                .unwrap_or_else(|_| panic!("c{me:03} did not hear everything (see above)"))
        })
        .collect();
    for (me, messages) in heard.iter().enumerate() {
        let mut next_from: BTreeMap<usize, usize> = BTreeMap::new();
        for &(from, number) in messages {
            assert_ne!(from, me, "c{me:03} heard its own line");
            let next = next_from.entry(from).or_default();
            assert_eq!(
                number, *next,
                "c{me:03} heard c{from:03}'s line {number} where line {next} was next"
            );
            *next += 1;
        }
    }
    // One order for everybody: each client heard what it shares with c000 and with c001 in the
    // order they heard it (c000 and c001 between them hear every line).
    for reference in [0, 1] {
        let rank: BTreeMap<(usize, usize), usize> = heard[reference]
            .iter()
            .enumerate()
            .map(|(rank, &message)| (message, rank))
            .collect();
        for (me, messages) in heard.iter().enumerate() {
            let ranks: Vec<usize> = messages
                .iter()
                .filter_map(|m| rank.get(m).copied())
                .collect();
            assert!(
                ranks.windows(2).all(|pair| pair[0] < pair[1]),
                "c{me:03} and c{reference:03} heard the same lines in different orders"
            );
        }
    }
}
