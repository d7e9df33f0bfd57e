//! Lesson 05 end to end: the UDP echo server and client binaries, over loopback. Where a test
//! needs a server that loses datagrams or a stranger who butts in, the test plays that part.

use crate::support;

use std::net::{SocketAddr, UdpSocket};
use std::thread;

use support::{PATIENCE, Server, normalize, run};

const SERVER: &str = env!("CARGO_BIN_EXE_05_udp_echo");
const CLIENT: &str = env!("CARGO_BIN_EXE_05_udp_echo_client");
const SIZES: &str = env!("CARGO_BIN_EXE_05_udp_sizes");

/// A UDP socket on a free loopback port, that gives up waiting after [`PATIENCE`].
fn socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback UDP socket");
    socket
        .set_read_timeout(Some(PATIENCE))
        .expect("set a read timeout");
    socket
}

fn address(socket: &UdpSocket) -> SocketAddr {
    socket.local_addr().expect("a bound socket has an address")
}

#[test]
fn the_lesson_client_sends_one_message() {
    let server = Server::start_on_any_port(SERVER);
    let address = server.address.to_string();
    let client = run(CLIENT, &[&address, "Hello, UDP!"], "");
    assert!(client.status.success(), "the client failed: {client:?}");
    let echoing = server.next_line();
    let transcript = format!(
        "$ cargo run --bin 05_udp_echo\nlistening on {address}\n{echoing}\n\n\
         $ cargo run --bin 05_udp_echo_client -- {address} \"Hello, UDP!\"\n{}",
        client.stdout
    );
    insta::assert_snapshot!(
        "05_udp_echo_run",
        normalize(&transcript, server.address, "127.0.0.1:65436")
    );
}

#[test]
fn three_datagrams_get_three_whole_replies() {
    let server = Server::start_on_any_port(SERVER);
    let client = socket();
    // All three leave before any reply is read: over TCP they could arrive as one piece.
    for datagram in ["one", "two, a little longer", "three"] {
        client.send_to(datagram.as_bytes(), server.address).unwrap();
    }
    let mut buffer = [0; 100];
    for datagram in ["one", "two, a little longer", "three"] {
        let (size, from) = client.recv_from(&mut buffer).expect("an echo");
        assert_eq!(from, server.address);
        assert_eq!(&buffer[..size], datagram.as_bytes());
    }
    for size in [3, 20, 5] {
        assert!(
            server
                .next_line()
                .starts_with(&format!("echoing {size} bytes to "))
        );
    }
}

#[test]
fn with_nobody_answering_the_client_gives_up_after_three_tries() {
    // A socket that receives and never answers: as silent as a server that is not running, but
    // certain not to be some other program's port.
    let silent = socket();
    let client = run(
        CLIENT,
        &[&address(&silent).to_string(), "anyone there?"],
        "",
    );
    assert!(!client.status.success(), "{client:?}");
    insta::assert_snapshot!("05_udp_echo_client_no_answer", client.stdout);
    assert!(
        client
            .stderr
            .contains("no answer after 3 tries: is the server running? UDP cannot tell you"),
        "{}",
        client.stderr
    );
    // It really sent three datagrams, and no more.
    let mut buffer = [0; 100];
    for _ in 0..3 {
        let (size, _) = silent.recv_from(&mut buffer).expect("a datagram");
        assert_eq!(&buffer[..size], b"anyone there?");
    }
    silent
        .set_read_timeout(Some(std::time::Duration::from_millis(1)))
        .unwrap();
    assert!(silent.recv_from(&mut buffer).is_err(), "a fourth datagram");
}

#[test]
fn a_lost_datagram_is_sent_again() {
    let lossy = socket();
    let server = address(&lossy);
    let playing_the_server = thread::spawn(move || {
        let mut buffer = [0; 100];
        // The first datagram is "lost": received and forgotten, as if it never arrived.
        lossy.recv_from(&mut buffer).expect("the first datagram");
        let (size, client) = lossy.recv_from(&mut buffer).expect("the second datagram");
        lossy.send_to(&buffer[..size], client).unwrap();
    });
    let client = run(CLIENT, &[&server.to_string(), "are you there?"], "");
    playing_the_server.join().unwrap();
    assert!(client.status.success(), "{client:?}");
    insta::assert_snapshot!("05_udp_echo_client_lost", client.stdout);
}

#[test]
fn a_datagram_from_a_stranger_or_a_late_echo_is_ignored() {
    let real = socket();
    let server = address(&real);
    let playing_the_server = thread::spawn(move || {
        let mut buffer = [0; 100];
        let (size, client) = real.recv_from(&mut buffer).expect("the datagram");
        // Someone else gets there first, with an answer of their own.
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        stranger
            .send_to(b"I am the server, honest", client)
            .unwrap();
        stranger.send_to(&buffer[..size], client).unwrap();
        // And the server's own echo of some earlier datagram turns up late.
        real.send_to(b"an earlier line", client).unwrap();
        real.send_to(&buffer[..size], client).unwrap();
    });
    let client = run(CLIENT, &[&server.to_string(), "hello"], "");
    playing_the_server.join().unwrap();
    assert!(client.status.success(), "{client:?}");
    insta::assert_snapshot!(
        "05_udp_echo_client_stranger",
        normalize(&client.stdout, server, "127.0.0.1:65436")
            .replace("<client port>", "<stranger's port>")
    );
}

#[test]
fn typed_lines_are_one_datagram_each() {
    let server = Server::start_on_any_port(SERVER);
    let address = server.address.to_string();
    let client = run(CLIENT, &[&address], "first line\nsecond\nthe third line\n");
    assert!(client.status.success(), "{client:?}");
    let first = server.next_line();
    assert!(first.starts_with("echoing 10 bytes to "), "{first}");
    let second = server.next_line();
    assert!(second.starts_with("echoing 6 bytes to "), "{second}");
    let third = server.next_line();
    assert!(third.starts_with("echoing 14 bytes to "), "{third}");
    // The client's own port changes from run to run: show it as the book does. The book shows
    // the Unix way to end input; Windows names its own keys.
    let stdout = client.stdout.replace("Ctrl-Z then Enter", "Ctrl-D");
    let (before, after) = stdout
        .split_once("sending from port ")
        .expect("the client says which port it sends from");
    let after = after.trim_start_matches(|c: char| c.is_ascii_digit());
    let transcript = format!(
        "$ cargo run --bin 05_udp_echo\nlistening on {address}\n{first}\n{second}\n{third}\n\n\
         $ cargo run --bin 05_udp_echo_client\n{before}sending from port 50382{after}"
    );
    insta::assert_snapshot!(
        "05_udp_echo_client_typed",
        normalize(&transcript, server.address, "127.0.0.1:65436")
    );
}

#[test]
fn a_client_that_left_does_not_stop_the_server() {
    let server = Server::start_on_any_port(SERVER);
    {
        let gone = socket();
        gone.send_to(b"bye", server.address).unwrap();
    } // closed before the echo arrives: on Windows the server's next receive reports it
    let client = run(CLIENT, &[&server.address.to_string(), "still here"], "");
    assert!(client.status.success(), "{client:?}");
}

#[test]
fn an_oversized_datagram_cannot_be_sent() {
    let server = Server::start_on_any_port(SERVER);
    let sizes = run(SIZES, &[&server.address.to_string()], "");
    assert!(sizes.status.success(), "{sizes:?}");
    // The same everywhere: small datagrams go, and one over the IPv4 limit is refused. Between
    // the two, systems differ (macOS refuses more than 9,216 bytes unless told otherwise).
    assert!(
        sizes
            .stdout
            .contains("  1000 bytes: sent, and 1000 came back")
    );
    assert!(sizes.stdout.contains(" 65508 bytes: cannot send: "));
    // The book shows Linux's run (the sizes that go differ by system), without the error's
    // words: they are the system's own, and differ even between Linux's C libraries.
    if cfg!(target_os = "linux") {
        let shown: String = sizes
            .stdout
            .lines()
            .map(|line| match line.split_once("cannot send: ") {
                Some((size, _)) => format!("{size}cannot send: [the system's message]\n"),
                None => format!("{line}\n"),
            })
            .collect();
        insta::assert_snapshot!("05_udp_sizes_linux", shown);
    }
}

#[test]
fn the_client_refuses_port_0() {
    let client = run(CLIENT, &["127.0.0.1:0", "hi"], "");
    assert!(!client.status.success());
    assert!(
        client.stderr.contains("must name the port"),
        "{}",
        client.stderr
    );
}

/// A server's "every interface" is no address to send to: on Linux the datagram goes, but the
/// echo comes from 127.0.0.1, not from 0.0.0.0, and would be ignored as a stranger's three times
/// over. The client says what to use instead, before sending anything.
#[test]
fn the_client_refuses_the_unspecified_address_and_names_this_machine() {
    let server = Server::start(SERVER, &["0.0.0.0:0"]);
    let port = server.address.port();
    for (given, instead) in [
        (format!("0.0.0.0:{port}"), format!("127.0.0.1:{port}")),
        (format!("[::]:{port}"), format!("[::1]:{port}")),
    ] {
        let client = run(CLIENT, &[&given, "hi"], "");
        assert!(!client.status.success(), "{client:?}");
        assert!(
            client
                .stderr
                .contains(&format!("use {instead} on the server's machine")),
            "{}",
            client.stderr
        );
        assert!(!client.stdout.contains("ignored"), "{}", client.stdout);
    }
}

/// The client's buffer bounds what a server can make it hold, and is big enough that no echo is
/// cut short: the largest datagram UDP over IPv4 carries comes back whole. (Linux only: macOS
/// sends at most 9,216 bytes unless told otherwise, and Windows limits a command line to 32,767
/// characters.)
#[test]
#[cfg(target_os = "linux")]
fn the_largest_datagram_comes_back_whole() {
    let server = Server::start_on_any_port(SERVER);
    let largest = "x".repeat(65_507);
    let client = run(CLIENT, &[&server.address.to_string(), &largest], "");
    assert!(client.status.success(), "{client:?}");
    assert_eq!(
        client.stdout,
        format!("received {largest:?} (answered on attempt 1 of 3)\n")
    );
}
