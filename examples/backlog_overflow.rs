//! Shows what a full listen backlog looks like from the clients' side. A server listens with a
//! backlog of 8 and accepts nothing for 1.5 seconds, as a busy accept loop might; 40 clients connect
//! at the same moment, each sends one line, and each notes when `connect` returned and when its
//! echo came back. Then the same again with a backlog of 1024 (`course::listen::CROWD_BACKLOG`).
//!
//!     cargo run --release --example backlog_overflow
//!
//! On Linux, clients beyond the backlog see `connect` succeed (or wait), then hear nothing until
//! the system retries the handshake: every second at first since Linux 6.5, after 1 s, 3 s,
//! 7 s... before (`examples/syn_retries.rs` shows this machine's schedule). Windows refuses them
//! instead; the book's chapter 07 says more.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use course::listen::{CROWD_BACKLOG, bind_with_backlog};

const CLIENTS: usize = 40;
/// How long the server takes no connection, as if its accept loop were busy.
const BUSY_FOR: Duration = Duration::from_millis(1500);

fn main() -> course::cli::MainResult {
    course::cli::no_arguments("backlog_overflow")?;
    for backlog in [8, CROWD_BACKLOG] {
        run(backlog)?;
    }
    Ok(())
}

fn run(backlog: i32) -> anyhow::Result<()> {
    let listener = bind_with_backlog("127.0.0.1:0".parse()?, backlog)?;
    let address = listener.local_addr()?;
    let began = Instant::now();
    // The server: busy for BUSY_FOR, then echoes one line per connection, each on its own thread.
    thread::spawn(move || {
        thread::sleep(BUSY_FOR);
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut stream = stream;
                let mut line = [0; 6];
                if stream.read_exact(&mut line).is_ok() {
                    let _ = stream.write_all(&line);
                }
            });
        }
    });
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                client(address, began)
            })
        })
        .collect();
    let results: Vec<(Duration, Result<Duration, String>)> = clients
        .into_iter()
        .map(|client| client.join().expect("a client thread panicked"))
        .collect();
    println!(
        "backlog {backlog}, {CLIENTS} clients, the server accepts nothing for the first {BUSY_FOR:?}:"
    );
    // Grouped by tenth of a second, so the system's retries stand out.
    let tenths = |at: &Duration| at.as_millis() as u64 / 100;
    let mut groups: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    for (connected, echoed) in &results {
        let connected_s = tenths(connected);
        let echoed_s = match echoed {
            Ok(at) => tenths(at),
            Err(_) => u64::MAX,
        };
        *groups.entry((connected_s, echoed_s)).or_default() += 1;
    }
    for ((connected, echoed), count) in groups {
        let echoed = if echoed == u64::MAX {
            "never (error)".to_string()
        } else {
            format!("{:.1} s", echoed as f64 / 10.0)
        };
        println!(
            "  {count:>3} clients: connect returned at {:.1} s, echo at {echoed}",
            connected as f64 / 10.0
        );
    }
    println!();
    Ok(())
}

/// Connects, sends a line, reads its echo: returns when connect returned, and when the echo came.
fn client(address: SocketAddr, began: Instant) -> (Duration, Result<Duration, String>) {
    let stream = TcpStream::connect_timeout(&address, Duration::from_secs(30));
    let connected = began.elapsed();
    let echoed = stream
        .and_then(|mut stream| {
            stream.set_read_timeout(Some(Duration::from_secs(30)))?;
            stream.write_all(b"hello\n")?;
            let mut echo = [0; 6];
            stream.read_exact(&mut echo)?;
            Ok(began.elapsed())
        })
        .map_err(|error| error.kind().to_string());
    (connected, echoed)
}
