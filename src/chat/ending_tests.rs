//! How a client's two threads end when the server, not the client, ends the connection.
//!
//! These drive one client's reader and writer threads directly, with short timeouts in place of
//! `WRITE_TIMEOUT` and `READ_CHECK_INTERVAL`, so that each test takes well under a second.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use super::*;

/// Long enough for any event here; a test that waits this long has failed.
const PATIENCE: Duration = Duration::from_secs(10);

/// A connected pair over loopback: the server's end, and the client's.
fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    (server, client)
}

/// Starts a client's threads on `server`, as the accept loop does, and returns the broker's
/// inbox, the client's queue, and the seat count.
fn serve(server: TcpStream) -> (Receiver<Event>, Sender<Line>, Arc<AtomicUsize>) {
    let seats = Seats::new(1);
    let seat = seats.take().expect("a free seat");
    let (events, inbox) = crossbeam_channel::bounded(EVENT_QUEUE_LEN);
    let peer = server.peer_addr().unwrap();
    start_client_threads(server, peer, 1, seat, events).expect("start the client's threads");
    let outgoing = match inbox.recv_timeout(PATIENCE) {
        Ok(Event::Connected { outgoing, .. }) => outgoing,
        _ => panic!("the reader should introduce the client first"),
    };
    (inbox, outgoing, seats.taken)
}

fn next_leaving(inbox: &Receiver<Event>) -> Leaving {
    loop {
        match inbox.recv_timeout(PATIENCE) {
            Ok(Event::Disconnected { how, .. }) => return how,
            Ok(_) => continue,
            Err(_) => panic!("the reader thread did not end within {PATIENCE:?}"),
        }
    }
}

#[test]
fn a_client_that_stops_reading_in_a_quiet_room_is_cut_off_not_said_to_leave() {
    let (server, client) = connected_pair();
    server
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    server
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let (inbox, outgoing, _) = serve(server);
    // The client stays connected and never reads. Lines go out until the system's buffers are
    // full (megabytes on loopback), then the writer waits, and its write timeout expires.
    let line = Line::from(format!("{}\n", "x".repeat(1023)));
    while outgoing.send_timeout(Arc::clone(&line), PATIENCE).is_ok() {}
    // `send` failed: the writer has stopped and dropped its queue.
    assert!(
        matches!(next_leaving(&inbox), Leaving::TooSlow),
        "a client dropped by the write timeout must be reported as cut off, not as leaving"
    );
    drop(client);
}

#[test]
fn the_reader_ends_with_its_writer_even_if_closing_does_not_wake_it() {
    // Windows does not wake a thread blocked in `read` when the connection is shut down. To
    // stand in for that here, the writer's note is left without shutting anything down: the
    // reader must find it by itself, between two read timeouts.
    let (server, client) = connected_pair();
    server
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let connection = Arc::new(server);
    let peer = connection.peer_addr().unwrap();
    let seats = Seats::new(1);
    let seat = seats.take().expect("a free seat");
    let (events, inbox) = crossbeam_channel::bounded(EVENT_QUEUE_LEN);
    let (outgoing, _queue) = crossbeam_channel::bounded(OUTGOING_QUEUE_LINES);
    let writer_ended = Arc::new(OnceLock::new());
    let for_reader = Arc::clone(&writer_ended);
    let reader = thread::spawn(move || {
        read_lines(connection, peer, 1, outgoing, events, seat, &for_reader);
    });
    assert!(matches!(
        inbox.recv_timeout(PATIENCE),
        Ok(Event::Connected { .. })
    ));
    // The client is connected, quiet, and stays so; the writer has finished.
    writer_ended.set(WriterEnded::Done).unwrap();
    assert!(matches!(next_leaving(&inbox), Leaving::Closed));
    reader.join().expect("the reader thread ends");
    assert_eq!(
        seats.taken.load(Ordering::SeqCst),
        0,
        "the seat is free again"
    );
    drop(client);
}

#[test]
fn a_quiet_client_is_not_disconnected_by_the_read_checks() {
    let (server, mut client) = connected_pair();
    server
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let (inbox, _outgoing, _) = serve(server);
    // Many read timeouts pass; the connection stays, and a late line still arrives.
    thread::sleep(Duration::from_millis(200));
    client.write_all(b"still here\n").unwrap();
    match inbox.recv_timeout(PATIENCE) {
        Ok(Event::Line { text, .. }) => assert_eq!(text, "still here"),
        _ => panic!("the quiet client's line should arrive"),
    }
}
