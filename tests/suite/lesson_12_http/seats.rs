//! Lesson 12's seats: a full house answers 503 whole, a seat is free the moment its connection
//! is done, and a newcomer's request takes the seat of whoever waited longest, so that slow
//! clients cannot keep normal ones out.

use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::{HTTP, SITE, TempSite, ask, assert_closed, read_response};
use crate::support::{self, PATIENCE, Server};

/// The server with `seats` seats and a header timeout long enough not to matter here.
fn start_with_seats(folder: &str, seats: usize) -> Server {
    let seats = seats.to_string();
    let server = Server::start(HTTP, &["127.0.0.1:0", folder, "5", &seats]);
    assert!(server.next_line().starts_with("open http://"));
    server
}

/// Reads the server's log until a line that `wanted` accepts, and returns it.
fn log_line(server: &Server, wanted: impl Fn(&str) -> bool) -> String {
    loop {
        let line = server.next_line();
        if wanted(&line) {
            return line;
        }
    }
}

// ANCHOR: turned_away_whole
/// A site named `name` with one file, `big.bin`, bigger than every buffer between the two ends.
fn big_site(name: &str) -> TempSite {
    TempSite::new(name, &[("big.bin", &vec![b'x'; 16 << 20])])
}

/// Takes a seat with a request for `big.bin`, and reads none of the answer: the seat's thread is
/// stuck writing, busy, and cannot give its seat up. Keep the connection while the seat must
/// stay taken.
fn hold_a_seat_busy(server: &Server) -> TcpStream {
    let mut holder = server.connect();
    holder
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    let mut status = [0; 12];
    holder.read_exact(&mut status).expect("the answer begins");
    assert_eq!(&status, b"HTTP/1.1 200");
    holder
}

#[test]
fn a_full_house_answers_503_whole_to_20_of_20_clients() {
    let _sockets = support::sockets(24); // the holder, twenty clients, and room to spare
    let site = big_site("busy");
    let server = start_with_seats(&site.folder_arg(), 1);
    let _holder = hold_a_seat_busy(&server);
    let answers: Vec<Result<Vec<u8>, std::io::Error>> = thread::scope(|scope| {
        let clients: Vec<_> = (0..20)
            .map(|_| {
                scope.spawn(|| {
                    let mut stream = support::connect(server.address);
                    stream.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")?;
                    let mut answer = Vec::new();
                    stream.read_to_end(&mut answer)?;
                    Ok(answer)
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|client| client.join().expect("a client thread"))
            .collect()
    });
    let failures: Vec<String> = answers
        .iter()
        .filter_map(|answer| match answer {
            Ok(bytes) if bytes.starts_with(b"HTTP/1.1 503 ") => None,
            Ok(bytes) => Some(format!("{:?}", String::from_utf8_lossy(bytes))),
            Err(error) => Some(format!("{:?}", error.kind())),
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of 20 heard the 503 whole; the others got {failures:?}",
        20 - failures.len()
    );
}
// ANCHOR_END: turned_away_whole

#[test]
fn a_seat_is_free_the_moment_its_connection_is_done() {
    let server = start_with_seats(SITE, 1);
    let mut first = BufReader::new(server.connect());
    first
        .get_mut()
        .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("send");
    assert_eq!(read_response(&mut first, false).status, 200);
    // The server has said it is done (end of stream); `first` stays open, so the server is
    // still lingering on it, but the seat must already be free for the next client.
    assert_closed(first.get_mut(), "after Connection: close");
    let mut second = BufReader::new(server.connect());
    let second_address = second.get_ref().local_addr().expect("its address");
    second
        .get_mut()
        .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    assert_eq!(read_response(&mut second, false).status, 200);
    let seated = log_line(&server, |line| {
        line.starts_with(&second_address.to_string())
    });
    assert_eq!(
        seated,
        format!("{second_address} connected"),
        "the second client should find the seat free, not wait at the door"
    );
}

#[test]
fn a_newcomer_with_a_request_takes_the_seat_of_the_longest_idle_connection() {
    let server = start_with_seats(SITE, 2);
    let mut idle: Vec<BufReader<TcpStream>> = Vec::new();
    for _ in 0..2 {
        let mut reader = BufReader::new(server.connect());
        reader
            .get_mut()
            .write_all(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
            .expect("send");
        assert_eq!(read_response(&mut reader, true).status, 200);
        idle.push(reader);
    }
    let newcomer = ask(
        server.address,
        b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(newcomer.status, 200, "{newcomer:?}");
    // Which of the two waited longest is the server's to measure: under load the first one's
    // thread can start waiting after the second one's. So the test reads whom the server chose,
    // and checks that the log says why, that one lost its seat, and the other kept it.
    let line = log_line(&server, |line| line.contains("takes the seat of "));
    assert!(
        line.ends_with(", which waited longest for a request"),
        "the log should say why the seat was taken: {line:?}"
    );
    let addresses: Vec<SocketAddr> = idle
        .iter()
        .map(|reader| reader.get_ref().local_addr().expect("its address"))
        .collect();
    let taken = addresses
        .iter()
        .position(|address| line.contains(&format!("takes the seat of {address},")))
        .unwrap_or_else(|| panic!("the seat taken was neither idle connection's: {line:?}"));
    let kept = 1 - taken;
    assert_closed(idle[taken].get_mut(), "the connection idle longest");
    // The other one kept its seat.
    idle[kept]
        .get_mut()
        .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    assert_eq!(read_response(&mut idle[kept], false).status, 200);
}

#[test]
fn a_busy_connection_keeps_its_seat_and_the_newcomer_hears_503() {
    let server = start_with_seats(SITE, 1);
    let mut busy = BufReader::new(server.connect());
    let request = b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    busy.get_mut().write_all(request).expect("send");
    assert_eq!(read_response(&mut busy, false).status, 200);
    let done = AtomicBool::new(false);
    let (newcomer, served) = thread::scope(|scope| {
        let newcomer = scope.spawn(|| {
            let answer = ask(server.address, request);
            done.store(true, Ordering::Relaxed);
            answer
        });
        // Request after request, with no pause between them: never idle, so never given up.
        let mut served = 0;
        while !done.load(Ordering::Relaxed) {
            busy.get_mut()
                .write_all(request)
                .expect("the busy connection is still open");
            assert_eq!(read_response(&mut busy, false).status, 200);
            served += 1;
        }
        (newcomer.join().expect("the newcomer"), served)
    });
    assert_eq!(newcomer.status, 503, "{newcomer:?}");
    assert!(served > 0);
}

/// A header timeout shorter than `DOOR_TIMEOUT` shortens the wait at the door too: a newcomer
/// whose head is still unfinished hears 503 then, and the log names the wait it was given.
#[test]
fn a_newcomer_too_slow_at_the_door_hears_503_after_the_shorter_of_the_two_waits() {
    // The seat is busy, so it stays taken whatever the newcomer's timing.
    let site = big_site("door");
    let server = Server::start(HTTP, &["127.0.0.1:0", &site.folder_arg(), "0.5", "1"]);
    assert!(server.next_line().starts_with("open http://"));
    let _seated = hold_a_seat_busy(&server);
    let mut newcomer = server.connect();
    newcomer.write_all(b"GET / HTTP/1.1\r\n").expect("send");
    let mut answer = Vec::new();
    let _ = newcomer.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 503 "),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    let line = log_line(&server, |line| line.contains("at the door within"));
    assert!(
        line.ends_with("at the door within 500ms"),
        "the log should name the wait the newcomer had: {line:?}"
    );
}

/// A newcomer whose whole request was read at the door keeps its place there while it waits
/// for a seat: newer arrivals push out whoever at the door is still sending, never it. Here the
/// one seat stays busy, so it hears 503 when its wait is over, after more newcomers than the
/// door's 64 places have come.
#[test]
fn a_newcomer_whose_request_is_read_keeps_its_place_at_the_door() {
    let _sockets = support::sockets(80); // the holder, the newcomer, 70 more, and room to spare
    let site = big_site("door-kept");
    let server = start_with_seats(&site.folder_arg(), 1);
    let _seated = hold_a_seat_busy(&server);
    let mut newcomer = server.connect();
    newcomer
        .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    let at_the_door = newcomer.local_addr().expect("its address").to_string();
    log_line(&server, |line| {
        line.starts_with(&at_the_door) && line.contains("has a whole request at the door")
    });
    // More silent newcomers than the door has places: the door must give some up.
    let crowd: Vec<TcpStream> = (0..70).map(|_| server.connect()).collect();
    log_line(&server, |line| {
        line.contains("waiting at the door, instead of")
    });
    let mut answer = Vec::new();
    let ending = newcomer.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 503 "),
        "the newcomer whose request was read at the door got {:?} ({ending:?}): it was pushed \
         out of the door by newer arrivals, though it had nothing more to send",
        String::from_utf8_lossy(&answer)
    );
    drop(crowd);
}

/// The seats the slowloris test gives the server: few, so that the door fills up too.
const SEATS: usize = 8;
/// How many slow clients the slowloris test holds: more than the seats and the 64 places at the
/// door (`MAX_AT_THE_DOOR`) together, so that both are full.
const SLOW_CLIENTS: usize = 80;

// ANCHOR: slowloris
#[test]
fn normal_clients_are_served_under_80_slowloris_clients() {
    // The slow clients, the ones that replace them, and a probe at a time.
    let _sockets = support::sockets(SLOW_CLIENTS + 8);
    let server = start_with_seats(SITE, SEATS);
    let stop = AtomicBool::new(false);
    let statuses: Vec<u16> = thread::scope(|scope| {
        scope.spawn(|| slowloris(server.address, SLOW_CLIENTS, &stop));
        // Every seat taken by a slow client, and the door so full that one gave up its place,
        // before the first normal client comes.
        log_line(&server, |line| {
            line.contains("waiting at the door, instead of")
        });
        let statuses = (0..16)
            .map(|_| {
                ask(
                    server.address,
                    b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n",
                )
                .status
            })
            .collect();
        stop.store(true, Ordering::Relaxed);
        statuses
    });
    assert_eq!(statuses, vec![200; 16], "normal clients among slow ones");
}

/// Holds `count` connections that send a request's head one line every 50 ms and never end
/// it, and opens a new one whenever the server closes one, until `stop` (or PATIENCE).
fn slowloris(address: SocketAddr, count: usize, stop: &AtomicBool) {
    let open = |address| {
        let mut stream = support::connect(address);
        let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n");
        stream
    };
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..count).map(|_| open(address)).collect();
    while !stop.load(Ordering::Relaxed) && started.elapsed() < PATIENCE {
        for stream in &mut slow {
            if let Err(error) = stream.write_all(b"X-Slow: 1\r\n") {
                assert_ne!(error.kind(), ErrorKind::WouldBlock, "a write timed out");
                *stream = open(address);
            }
        }
        thread::sleep(Duration::from_millis(50)); // the pace of the attack, not a wait
    }
}
// ANCHOR_END: slowloris
