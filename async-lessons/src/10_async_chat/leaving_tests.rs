//! How long a client that has left keeps its seat: driven directly on one client's reader and
//! writer tasks, with a short leaving time in place of `LEAVING_TIME`, so that the test takes
//! about a second. (Lesson 04's twin is in `src/chat/ending_tests.rs`.)

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// Long enough for any event here; a test that waits this long has failed.
const PATIENCE: Duration = Duration::from_secs(10);

/// A client that half-closes while lines wait for it, and then reads nothing. The room hears at
/// once that it left, but its writer task is still at work, with the socket, so the seat is
/// given back only when the writer has finished: here, when the leaving time is up and the
/// reader drops it.
#[tokio::test]
async fn a_client_that_leaves_and_reads_nothing_keeps_its_seat_until_the_leaving_time_is_up() {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .expect("connect");
    let (server, peer) = listener.accept().await.expect("accept");
    let seats = Arc::new(Semaphore::new(1));
    let seat = Arc::clone(&seats).try_acquire_owned().expect("a free seat");
    let (events, mut inbox) = mpsc::channel(EVENT_QUEUE_LEN);
    let leaving_time = Duration::from_millis(500);
    tokio::spawn(read_lines(server, peer, 1, seat, events, leaving_time));
    let outgoing = match timeout(PATIENCE, inbox.recv()).await {
        Ok(Some(Event::Connected { outgoing, .. })) => outgoing,
        _ => panic!("the reader should introduce the client first"),
    };
    // Lines of 64 KiB until the queue stays full for a tenth of a second: 256 MiB, far more
    // than the system's buffers take in, so the writer waits for a client that reads nothing.
    let line = Line::from(format!("{}\n", "x".repeat(64 * 1024 - 1)));
    while let Ok(Ok(())) =
        timeout(Duration::from_millis(100), outgoing.send(Arc::clone(&line))).await
    {}

    client.shutdown().await.expect("half-close");
    let left_at = Instant::now();
    let how = loop {
        match timeout(PATIENCE, inbox.recv()).await {
            Ok(Some(Event::Disconnected { how, .. })) => break how,
            Ok(Some(_)) => continue,
            _ => panic!("the reader task did not end within {PATIENCE:?}"),
        }
    };
    assert!(
        matches!(how, Leaving::Closed),
        "a client that half-closed between two lines has left: got {how:?}"
    );
    // The broker lets go of the queue when it hears the client left.
    drop(outgoing);
    // Wait for the seat: the permit comes back when the writer task is dropped.
    let seat_back = timeout(PATIENCE, seats.acquire())
        .await
        .expect("the seat was not given back within the patience");
    let waited = left_at.elapsed();
    drop(seat_back);
    assert!(
        waited >= leaving_time,
        "the seat was free {waited:?} after the client half-closed, while its writer still had \
         lines to send it: the writer holds its share of the seat until it has finished, which \
         is when it has sent them, or the leaving time ({leaving_time:?}) is up"
    );
    assert!(
        waited < Duration::from_millis(2500),
        "the seat was free {waited:?} after the client half-closed: when the leaving time is \
         up, the reader must drop the writer, not wait for its write timeout"
    );
    // The close threw away what the system still held for the client, with a reset: reading
    // what did arrive, the client meets an error, not an end that looks complete.
    let mut buffer = vec![0; 64 * 1024];
    let ending = loop {
        match timeout(PATIENCE, client.read(&mut buffer)).await {
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(_)) => continue,
            Ok(Err(error)) => break Err(error.kind()),
            Err(_) => panic!("the client received nothing for {PATIENCE:?}"),
        }
    };
    assert_eq!(
        ending,
        Err(std::io::ErrorKind::ConnectionReset),
        "when the leaving time is up, the server's close must discard what is left (a reset), \
         not go on delivering it after the seat is someone else's"
    );
}
