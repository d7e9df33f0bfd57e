//! How a client's two threads end when the server, not the client, ends the connection.
//!
//! These drive one client's reader and writer threads directly, with short timeouts in place of
//! `WRITE_TIMEOUT` and `READ_CHECK_INTERVAL`, so that each test takes well under a second.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

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

/// A connected pair whose server end has the read timeout `read_check` (in place of
/// READ_CHECK_INTERVAL) and the write timeout `write` (in place of WRITE_TIMEOUT; `None`: none).
fn connected_pair_with(read_check: Duration, write: Option<Duration>) -> (TcpStream, TcpStream) {
    let (server, client) = connected_pair();
    server.set_read_timeout(Some(read_check)).unwrap();
    server.set_write_timeout(write).unwrap();
    (server, client)
}

/// Starts a client's threads on `server`, as the accept loop does, and returns the broker's
/// inbox, the client's queue, and the seat count.
fn serve(
    server: TcpStream,
    leaving_time: Duration,
) -> (Receiver<Event>, Sender<Line>, Arc<AtomicUsize>) {
    let seats = Seats::new(1);
    let seat = seats.take().expect("a free seat");
    let (events, inbox) = crossbeam_channel::bounded(EVENT_QUEUE_LEN);
    let peer = server.peer_addr().unwrap();
    start_client_threads(server, peer, 1, seat, events, leaving_time)
        .expect("start the client's threads");
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
    let (server, client) =
        connected_pair_with(Duration::from_millis(50), Some(Duration::from_millis(200)));
    let (inbox, outgoing, _) = serve(server, PATIENCE);
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
    let (server, client) = connected_pair_with(Duration::from_millis(50), None);
    let connection = Arc::new(server);
    let peer = connection.peer_addr().unwrap();
    let seats = Seats::new(1);
    let seat = seats.take().expect("a free seat");
    let (events, inbox) = crossbeam_channel::bounded(EVENT_QUEUE_LEN);
    let (outgoing, _queue) = crossbeam_channel::bounded(OUTGOING_QUEUE_LINES);
    let (writer_says, news) = crossbeam_channel::bounded(1);
    let writer = WriterThread {
        news,
        ended: None,
        leaving_time: PATIENCE,
    };
    let reader = thread::spawn(move || {
        read_lines(
            connection,
            peer,
            1,
            outgoing,
            events,
            Arc::new(seat),
            writer,
        );
    });
    assert!(matches!(
        inbox.recv_timeout(PATIENCE),
        Ok(Event::Connected { .. })
    ));
    // The client is connected, quiet, and stays so; the writer has finished.
    writer_says.send(WriterEnded::Done).unwrap();
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
    let (server, mut client) = connected_pair_with(Duration::from_millis(20), None);
    let (inbox, _outgoing, _) = serve(server, PATIENCE);
    // Many read timeouts pass; the connection stays, and a late line still arrives.
    thread::sleep(Duration::from_millis(200));
    client.write_all(b"still here\n").unwrap();
    match inbox.recv_timeout(PATIENCE) {
        Ok(Event::Line { text, .. }) => assert_eq!(text, "still here"),
        _ => panic!("the quiet client's line should arrive"),
    }
}

/// Queues `line` for the client until the queue stays full for a tenth of a second, and returns
/// how many were queued. With lines of 64 KiB, a full queue holds 256 MiB, far more than the
/// system's buffers on any machine: a client that reads nothing keeps the writer waiting.
fn fill_the_queue(outgoing: &Sender<Line>, line: &Line) -> usize {
    let mut queued = 0;
    while outgoing
        .send_timeout(Arc::clone(line), Duration::from_millis(100))
        .is_ok()
    {
        queued += 1;
    }
    queued
}

/// Waits until the seat is free, and says how long that took.
fn seat_free_after(seats_taken: &AtomicUsize, since: Instant) -> Duration {
    while seats_taken.load(Ordering::SeqCst) > 0 {
        assert!(
            since.elapsed() < PATIENCE,
            "the seat was not given back within {PATIENCE:?}"
        );
        thread::sleep(Duration::from_millis(5));
    }
    since.elapsed()
}

/// A client that half-closes while lines wait for it, and then reads nothing. The room hears
/// at once that it left, but its writer is still at work, with a thread and the socket, so the
/// seat is given back only when the writer has finished: here, when the leaving time is up and
/// the connection is closed under it.
#[test]
fn a_client_that_leaves_and_reads_nothing_keeps_its_seat_until_the_leaving_time_is_up() {
    // The writer does not give up by itself here: the leaving time must end it.
    let (server, client) =
        connected_pair_with(Duration::from_millis(50), Some(Duration::from_secs(5)));
    let leaving_time = Duration::from_millis(500);
    let (inbox, outgoing, seats_taken) = serve(server, leaving_time);
    let line = Line::from(format!("{}\n", "x".repeat(64 * 1024 - 1)));
    fill_the_queue(&outgoing, &line);

    client.shutdown(Shutdown::Write).expect("half-close");
    let left_at = Instant::now();
    let how = next_leaving(&inbox);
    assert!(
        matches!(how, Leaving::Closed),
        "a client that half-closed between two lines has left: got {how:?}"
    );
    // The broker lets go of the queue when it hears the client left.
    drop(outgoing);
    let waited = seat_free_after(&seats_taken, left_at);
    assert!(
        waited >= leaving_time,
        "the seat was free {waited:?} after the client half-closed, while its writer still had \
         lines to send it: the writer holds its share of the seat until it has finished, which \
         is when it has sent them, or the leaving time ({leaving_time:?}) is up"
    );
    // Closing the connection under the writer wakes its write at once on Linux (where a system
    // does not, the write timeout ends it).
    #[cfg(target_os = "linux")]
    assert!(
        waited < Duration::from_millis(2500),
        "the seat was free {waited:?} after the client half-closed: when the leaving time is \
         up, the connection must be closed under the writer, not left to its write timeout"
    );
    // The close threw away what the system still held for the client, with a reset: reading
    // what did arrive, the client meets an error, not an end that looks complete.
    assert_eq!(
        read_until_the_end(client),
        Err(ErrorKind::ConnectionReset),
        "when the leaving time is up, the server's close must discard what is left (a reset), \
         not go on delivering it after the seat is someone else's"
    );
}

/// Reads everything `client` is sent: `Ok(bytes)` at a clean end, or how reading failed.
fn read_until_the_end(mut client: TcpStream) -> Result<usize, ErrorKind> {
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut received = 0;
    let mut buffer = vec![0; 64 * 1024];
    loop {
        match client.read(&mut buffer) {
            Ok(0) => return Ok(received),
            Ok(count) => received += count,
            Err(error) => return Err(error.kind()),
        }
    }
}

/// A client that half-closes while lines wait for it, and reads them all in time, gets every
/// line that was queued for it, then the end of the stream; by then its seat is free.
#[test]
fn a_client_that_leaves_still_gets_every_line_queued_for_it() {
    let (server, client) = connected_pair_with(Duration::from_millis(50), None);
    let (inbox, outgoing, seats_taken) = serve(server, PATIENCE);
    let line = Line::from(format!("{}\n", "y".repeat(16 * 1024 - 1)));
    let queued = fill_the_queue(&outgoing, &line);

    client.shutdown(Shutdown::Write).expect("half-close");
    assert!(matches!(next_leaving(&inbox), Leaving::Closed));
    drop(outgoing);
    let received = read_until_the_end(client)
        .unwrap_or_else(|error| panic!("reading what was queued failed ({error:?})"));
    assert_eq!(
        received,
        queued * line.len(),
        "the client left with {queued} lines queued for it, and must get each of them"
    );
    assert_eq!(
        seats_taken.load(Ordering::SeqCst),
        0,
        "the seat must be free by the time the client reads the end of the stream"
    );
}

/// A client that half-closes while lines wait for it and then reads nothing, where the write
/// timeout runs out before the leaving time: the writer gives up, and the close throws away
/// what the system still holds for the client, as when the leaving time runs out.
#[test]
fn a_client_that_leaves_and_takes_nothing_is_closed_with_a_reset_when_a_write_times_out() {
    let (server, client) =
        connected_pair_with(Duration::from_millis(50), Some(Duration::from_millis(300)));
    let (inbox, outgoing, seats_taken) = serve(server, PATIENCE);
    // The client leaves first, with nothing queued yet, so that the room hears a goodbye
    // whatever the timing; then the broker's last lines for it come, 12.8 MiB of them.
    client.shutdown(Shutdown::Write).expect("half-close");
    assert!(matches!(next_leaving(&inbox), Leaving::Closed));
    let line = Line::from(format!("{}\n", "z".repeat(64 * 1024 - 1)));
    for _ in 0..200 {
        outgoing.send(Arc::clone(&line)).expect("queue a line");
    }
    drop(outgoing);
    seat_free_after(&seats_taken, Instant::now());
    assert_eq!(
        read_until_the_end(client),
        Err(ErrorKind::ConnectionReset),
        "a writer that timed out after its client left must leave a reset, not an end that \
         looks complete"
    );
}
