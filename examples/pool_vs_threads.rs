//! Compares lesson 03 (a thread per client) with lesson 07 (a pool of 4 workers): many short
//! echo sessions from many clients at once, then silent clients that hold on.
//!
//! Run it (Linux, to see the servers' threads and memory; elsewhere those columns say "?"):
//!
//!     cargo build --release --bin 03_threaded_echo --bin 07_thread_pool
//!     cargo run --release --example pool_vs_threads
//!
//! Each session connects, sends one line, reads its echo and closes. CLIENTS threads run
//! SESSIONS sessions each, back to back, so CLIENTS sessions are always in flight.

#[path = "support/server.rs"]
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use support::{Server, percentile};

/// Sessions in flight at once.
const CLIENTS: usize = 64;
/// Sessions per client.
const SESSIONS: usize = 50;
/// The pool's workers, as lesson 07's default.
const WORKERS: &str = "4";
/// Room in the pool's queue for every client in flight: this run measures speed, not refusal.
const MAX_WAITING: &str = "128";

fn main() -> course::cli::MainResult {
    course::cli::no_arguments("pool_vs_threads")?;
    println!(
        "{CLIENTS} clients at once, {SESSIONS} sessions each (connect, echo one line, close)\n"
    );
    println!(
        "server                 sessions/s  p50 session  p99 session  peak threads  peak memory"
    );
    let threads = support::start("03_threaded_echo", &[])?;
    report("03 thread per client", &threads)?;
    let pool = support::start("07_thread_pool", &[WORKERS, MAX_WAITING])?;
    report("07 pool of 4", &pool)?;

    println!("\n4 silent clients connect, then a fifth sends a line:");
    silent_then_one_more("03 thread per client", &threads)?;
    silent_then_one_more("07 pool of 4", &pool)?;
    Ok(())
}

fn report(label: &str, server: &Server) -> anyhow::Result<()> {
    let peaks = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let done = Arc::new(AtomicBool::new(false));
    // Sample the server's numbers while the sessions run.
    let sampler = {
        let (peaks, done) = (Arc::clone(&peaks), Arc::clone(&done));
        let pid = server.id();
        thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if let Some((threads, rss)) = support::process_numbers(pid) {
                    peaks.0.fetch_max(threads, Ordering::SeqCst);
                    peaks.1.fetch_max(rss, Ordering::SeqCst);
                }
                thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let start = Arc::new(Barrier::new(CLIENTS + 1));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let start = Arc::clone(&start);
            let address = server.address;
            thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                start.wait();
                (0..SESSIONS)
                    .map(|session| one_session(address, client, session))
                    .collect()
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut times = Vec::new();
    for client in clients {
        let joined = client
            .join()
            .map_err(|_| anyhow::anyhow!("a client panicked"))?;
        times.extend(joined?);
    }
    let elapsed = began.elapsed();
    done.store(true, Ordering::SeqCst);
    let _ = sampler.join();
    times.sort();
    let (threads, rss) = (
        peaks.0.load(Ordering::SeqCst),
        peaks.1.load(Ordering::SeqCst),
    );
    let shown = |value: u64, text: String| if value == 0 { "?".to_string() } else { text };
    println!(
        "{label:<22} {:>10.0}  {:>11.2?}  {:>11.2?}  {:>12}  {:>11}",
        times.len() as f64 / elapsed.as_secs_f64(),
        percentile(&times, 0.5).unwrap_or_default(),
        percentile(&times, 0.99).unwrap_or_default(),
        shown(threads, threads.to_string()),
        shown(rss, format!("{:.1} MiB", rss as f64 / 1024.0)),
    );
    Ok(())
}

fn one_session(address: SocketAddr, client: usize, session: usize) -> anyhow::Result<Duration> {
    let began = Instant::now();
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let line = format!("client {client} session {session}\n");
    stream.write_all(line.as_bytes())?;
    let mut echo = vec![0; line.len()];
    stream
        .read_exact(&mut echo)
        .with_context(|| format!("client {client} session {session}: no echo"))?;
    if echo != line.as_bytes() {
        bail!("client {client} got a wrong echo");
    }
    Ok(began.elapsed())
}

fn silent_then_one_more(label: &str, server: &Server) -> anyhow::Result<()> {
    let _silent: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(server.address))
        .collect::<Result<_, _>>()?;
    // Give the workers a moment to take the silent clients, as they would in real life.
    thread::sleep(Duration::from_millis(100));
    let mut fifth = TcpStream::connect(server.address)?;
    fifth.set_read_timeout(Some(Duration::from_secs(2)))?;
    let began = Instant::now();
    fifth.write_all(b"anyone?\n")?;
    let mut echo = [0; 8];
    match fifth.read_exact(&mut echo) {
        Ok(()) => println!(
            "{label:<22} the fifth client's echo came in {:.2?}",
            began.elapsed()
        ),
        Err(_) => {
            println!("{label:<22} the fifth client heard nothing in 2 s: it waits in the queue")
        }
    }
    Ok(())
}
