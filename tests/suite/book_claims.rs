//! Claims the book makes about how the system behaves, shown on the machine that runs the tests.
//!
//! Each test names the chapter that makes its claim. Where a claim holds only on some systems, the
//! test runs only there (`cfg`), and the chapter names those systems; what differs elsewhere is
//! in the book's Platforms page. A test here fails when the system does not do what the book says,
//! which is the point: a new kernel or a new platform that behaves otherwise should send someone to
//! correct the book.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

use crate::support::{PATIENCE, closed_port, connect};

/// Chapter 08: on Linux and macOS, `shutdown` on one handle wakes a `read` blocked on another
/// handle to the same stream, in another thread (std's docs for `Shutdown::Read` promise it;
/// Windows does not do it, rust-lang/rust#121594).
#[cfg(unix)]
#[test]
fn shutdown_wakes_a_read_blocked_in_another_thread() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let _client = connect(listener.local_addr().expect("an address"));
    let (stream, _) = listener.accept().expect("accept");
    // The read would wait PATIENCE and then fail with a timeout: a woken read returns Ok(0) long
    // before that.
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("set a read timeout");
    let mut for_the_reader = stream.try_clone().expect("clone the stream");
    let (reader_id, read_id) = std::sync::mpsc::channel();
    let reader = thread::spawn(move || {
        let _ = reader_id.send(this_thread_id());
        for_the_reader.read(&mut [0; 16])
    });
    // Wait until the reader is really asleep in `read` (Linux shows it in /proc), so the shutdown
    // wakes a blocked read rather than coming first.
    let reader_id = read_id.recv().expect("the reader says who it is");
    wait_until_asleep(reader_id);
    stream
        .shutdown(Shutdown::Both)
        .expect("shut the stream down");
    let read = reader.join().expect("the reader does not panic");
    assert!(
        matches!(read, Ok(0)),
        "a read blocked in another thread should end with Ok(0) when the stream is shut down, \
         as chapter 08 says for Linux and macOS; it ended with {read:?}"
    );
}

/// Chapter 08: when a process ends (Ctrl-C), its sockets are closed. An idle client reads the end
/// of the stream; on Linux and macOS a client whose bytes were never read gets a reset instead.
#[cfg(any(target_os = "linux", target_os = "macos"))]
#[test]
fn a_close_with_unread_bytes_resets_and_an_idle_close_ends_the_stream() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("an address");
    let mut idle = connect(address);
    let (idle_on_server, _) = listener.accept().expect("accept");
    let mut talker = connect(address);
    let (talker_on_server, _) = listener.accept().expect("accept");
    talker.write_all(b"never read\n").expect("write");
    // `peek` waits until the bytes are in the server's socket, and leaves them unread.
    talker_on_server
        .set_read_timeout(Some(PATIENCE))
        .expect("set a read timeout");
    talker_on_server
        .peek(&mut [0; 1])
        .expect("the bytes arrive");
    drop(idle_on_server);
    drop(talker_on_server);
    let idle_read = idle.read(&mut [0; 16]);
    assert!(
        matches!(idle_read, Ok(0)),
        "an idle client should read the end of the stream: {idle_read:?}"
    );
    let talker_read = talker.read(&mut [0; 16]);
    assert!(
        matches!(&talker_read, Err(error) if error.kind() == ErrorKind::ConnectionReset),
        "a client whose bytes were never read should get a reset: {talker_read:?}"
    );
}

/// Chapters 05 and 08: connecting where nothing listens is refused, at once on Linux and macOS.
/// (A Windows client tries again for about 2 s first; the limit below would catch that.)
#[cfg(any(target_os = "linux", target_os = "macos"))]
#[test]
fn a_connection_to_a_closed_port_is_refused_at_once() {
    let (_holds_the_port, address) = closed_port();
    let outcome = TcpStream::connect_timeout(&address, Duration::from_millis(1500));
    assert!(
        matches!(&outcome, Err(error) if error.kind() == ErrorKind::ConnectionRefused),
        "a connection to a port where nothing listens should be refused at once: {outcome:?}"
    );
}

/// Chapter 05: the largest datagram is 65,507 bytes over IPv4 and 65,527 over IPv6 (Linux; macOS
/// stops at 9,216 by default, and Windows is not measured here).
#[cfg(target_os = "linux")]
#[test]
fn the_largest_datagram_is_65507_bytes_over_ipv4_and_65527_over_ipv6() {
    assert_largest_datagram("127.0.0.1:0", 65_507);
    match UdpSocket::bind("[::1]:0") {
        Ok(_) => assert_largest_datagram("[::1]:0", 65_527),
        Err(error) => println!("skipped IPv6: no ::1 here ({error})"),
    }
}

/// Chapter 05: a connected UDP socket hears "port unreachable" as `ConnectionRefused` on its next
/// receive or send (an unconnected one does not, on Linux), and datagrams that arrived before
/// `connect` are still received, whoever sent them.
#[cfg(target_os = "linux")]
#[test]
fn a_connected_udp_socket_hears_refusals_and_keeps_what_came_before() {
    let nobody = {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket.local_addr().expect("an address")
    }; // dropped: nothing listens there now
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(PATIENCE))
        .expect("set a read timeout");
    let own_address = socket.local_addr().expect("an address");

    // Unconnected: the refusal is not passed on, so the next receive gets the next datagram.
    socket.send_to(b"anyone?", nobody).expect("send");
    socket.send_to(b"to myself", own_address).expect("send");
    let mut buffer = [0; 64];
    let unconnected = socket.recv_from(&mut buffer).map(|(size, _)| size);
    assert!(
        matches!(unconnected, Ok(9)),
        "an unconnected socket should not hear the refusal on Linux: {unconnected:?}"
    );

    // A stranger's datagram arrives before `connect`, and is still received after it.
    let stranger = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    stranger.send_to(b"early", own_address).expect("send");
    socket
        .connect(server.local_addr().expect("an address"))
        .expect("connect");
    let early = socket.recv(&mut buffer);
    assert!(
        matches!(early, Ok(5)),
        "a datagram queued before connect should still be received: {early:?}"
    );

    // Connected to a port where nothing listens: the refusal comes back on the next receive.
    socket.connect(nobody).expect("connect");
    socket.send(b"anyone?").expect("send");
    let refused = socket.recv(&mut buffer);
    assert!(
        matches!(&refused, Err(error) if error.kind() == ErrorKind::ConnectionRefused),
        "a connected socket should hear the refusal: {refused:?}"
    );
}

#[cfg(target_os = "linux")]
fn assert_largest_datagram(bind_to: &str, largest: usize) {
    let receiver = UdpSocket::bind(bind_to).expect("bind");
    receiver
        .set_read_timeout(Some(PATIENCE))
        .expect("set a read timeout");
    let sender = UdpSocket::bind(bind_to).expect("bind");
    let to = receiver.local_addr().expect("an address");
    sender
        .send_to(&vec![b'x'; largest], to)
        .unwrap_or_else(|error| panic!("{largest} bytes should go to {to}: {error}"));
    let mut buffer = vec![0; largest + 100];
    let received = receiver.recv(&mut buffer).expect("receive");
    assert_eq!(
        received, largest,
        "the datagram to {to} should arrive whole"
    );
    assert!(
        sender.send_to(&vec![b'x'; largest + 1], to).is_err(),
        "{} bytes should be refused on the way to {to}",
        largest + 1
    );
}

/// This thread's id as the system knows it (Linux: the last part of /proc/thread-self).
#[cfg(unix)]
fn this_thread_id() -> Option<String> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

/// Waits until the thread `id` sleeps in the kernel (state S in /proc), or, where there is no
/// /proc, returns at once: the test then still passes if the shutdown came before the read.
#[cfg(unix)]
fn wait_until_asleep(id: Option<String>) {
    let Some(id) = id else { return };
    let stat = format!("/proc/self/task/{id}/stat");
    let started = std::time::Instant::now();
    while started.elapsed() < PATIENCE {
        let Ok(text) = std::fs::read_to_string(&stat) else {
            return;
        };
        // The state is the first field after the command name, which is in parentheses.
        if text
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            == Some("S")
        {
            return;
        }
        thread::yield_now();
    }
}

/// Chapter 14: on Linux the whole of 127.0.0.0/8 is loopback with no setup, so a test can play a
/// stranger from 127.0.0.2 (lesson 14's `a_data_connection_from_another_address_is_refused`).
#[cfg(target_os = "linux")]
#[test]
fn on_linux_127_0_0_2_is_this_machine_too() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let stranger =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    let second: std::net::SocketAddr = "127.0.0.2:0".parse().expect("an address");
    stranger
        .bind(&second.into())
        .expect("127.0.0.2 can be bound on Linux, as chapter 14 says");
    let server = listener.local_addr().expect("an address");
    stranger.connect(&server.into()).expect("connect");
    let (_, peer) = listener.accept().expect("accept");
    assert_eq!(peer.ip().to_string(), "127.0.0.2");
}

/// Platforms page: a read timeout shows up as the error kind `WouldBlock` on Linux and macOS, and
/// `TimedOut` on Windows (std's docs for `set_read_timeout` say the kind is platform-specific).
#[test]
fn a_read_timeout_is_would_block_on_unix_and_timed_out_on_windows() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut client = connect(listener.local_addr().expect("an address"));
    let _server_side = listener.accept().expect("accept");
    client
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("set a read timeout");
    let kind = client
        .read(&mut [0; 16])
        .expect_err("nobody writes, so the read times out")
        .kind();
    let expected = if cfg!(windows) {
        ErrorKind::TimedOut
    } else {
        ErrorKind::WouldBlock
    };
    assert_eq!(
        kind, expected,
        "the Platforms page says which kind each system gives"
    );
}

/// Platforms page: Linux and macOS let a client connect to `0.0.0.0`, and take it to mean this
/// machine; Windows refuses the address.
#[cfg(any(target_os = "linux", target_os = "macos"))]
#[test]
fn a_client_may_connect_to_0_0_0_0_and_reaches_this_machine() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("an address").port();
    let client = TcpStream::connect_timeout(&([0, 0, 0, 0], port).into(), PATIENCE)
        .expect("a connection to 0.0.0.0 reaches a listener on 127.0.0.1, as the page says");
    let (_, from) = listener.accept().expect("accept");
    assert_eq!(client.local_addr().expect("an address"), from);
}
