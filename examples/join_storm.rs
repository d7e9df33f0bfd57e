//! The chat's join storm: many clients join lesson 04's chat at the same moment, then everyone
//! hears one message; then, in a room of 500, ten people talk at once. It measures how long each
//! join took, and how long each delivery took, and counts the deliveries that never came.
//!
//! Run it (release build; both processes hold one file per client, so raise `ulimit -n` first if
//! it is below 4096):
//!
//!     ulimit -n 4096
//!     cargo build --release --bin 04_chat
//!     cargo run --release --example join_storm
//!
//! The goals it reports against (issue 10): 999 joins all served within 2 s; one message to all,
//! 0 lost, p99 under 20 ms; 10 senders in a room of 500, 0 lost, p99 under 50 ms.

#[path = "support/server.rs"]
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use crossbeam_channel::{Receiver, Sender};
use support::percentile;

/// Clients in the storm: the chat serves at most 1,000 at once.
const STORM: usize = 999;
/// Clients in the room where ten people talk.
const ROOM: usize = 500;
/// How many talk at once in that room, and how many lines each sends.
const SENDERS: usize = 10;
const LINES_EACH: usize = 10;
/// How long the benchmark waits for anything before it counts it as lost.
const GIVE_UP: Duration = Duration::from_secs(20);

/// What a client's reader thread reports.
enum Report {
    Joined { after: Duration },
    Delivered { latency: Duration },
    Failed(String),
}

fn main() -> course::cli::MainResult {
    course::cli::no_arguments("join_storm")?;
    let epoch = Instant::now();

    let server = support::start("04_chat", &[])?;
    println!("{STORM} clients join at the same moment:");
    let overflows_before = listen_overflows();
    let (writers, reports) = join(server.address, STORM, epoch)?;
    settle(&reports);
    if let (Some(before), Some(after)) = (overflows_before, listen_overflows()) {
        // System-wide: anything else on the machine that overflowed a backlog counts too.
        println!(
            "  listen backlog overflows meanwhile (Linux, whole system): {}",
            after - before
        );
    }
    println!("one message to everyone else ({} deliveries):", STORM - 1);
    send(&writers[0], 0, 0, epoch)?;
    deliveries(&reports, STORM - 1, 20);
    drop(writers);
    drop(server);

    let server = support::start("04_chat", &[])?;
    println!("\n{ROOM} clients join, then {SENDERS} of them send {LINES_EACH} lines each at once:");
    let (writers, reports) = join(server.address, ROOM, epoch)?;
    settle(&reports);
    let start = Arc::new(Barrier::new(SENDERS));
    let senders: Vec<_> = writers
        .into_iter()
        .take(SENDERS)
        .enumerate()
        .map(|(sender, writer)| {
            let start = Arc::clone(&start);
            thread::spawn(move || -> anyhow::Result<TcpStream> {
                start.wait();
                for line in 0..LINES_EACH {
                    send(&writer, sender, line, epoch)?;
                }
                Ok(writer)
            })
        })
        .collect();
    deliveries(&reports, SENDERS * LINES_EACH * (ROOM - 1), 50);
    for sender in senders {
        let _ = sender.join();
    }
    Ok(())
}

/// Connects `count` clients at once, each on a thread of its own that joins under a name and
/// then reports every delivery it reads. Returns each client's writing half, and the reports.
fn join(
    address: SocketAddr,
    count: usize,
    epoch: Instant,
) -> anyhow::Result<(Vec<TcpStream>, Receiver<Report>)> {
    let (report, reports) = crossbeam_channel::unbounded();
    let (writer_sender, writer_receiver) = crossbeam_channel::unbounded();
    let start = Arc::new(Barrier::new(count + 1));
    for number in 0..count {
        let (report, writer_sender, start) =
            (report.clone(), writer_sender.clone(), Arc::clone(&start));
        thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                start.wait();
                if let Err(error) = client(address, number, epoch, &report, &writer_sender) {
                    let _ = report.send(Report::Failed(format!("client {number}: {error:#}")));
                }
            })
            .context("start a client thread (is `ulimit -u` too low?)")?;
    }
    drop(report);
    start.wait();
    let began = Instant::now();
    let mut joins = Vec::new();
    let mut failures = Vec::new();
    while joins.len() + failures.len() < count {
        match reports.recv_timeout(GIVE_UP) {
            Ok(Report::Joined { after }) => joins.push(after),
            Ok(Report::Failed(why)) => failures.push(why),
            Ok(Report::Delivered { .. }) => {}
            Err(_) => break,
        }
    }
    joins.sort();
    let late = joins
        .iter()
        .filter(|after| **after > Duration::from_secs(2))
        .count();
    println!(
        "  joined: {} of {count} in {:.2?}; join time p50 {:.1?}, p99 {:.1?}, max {:.1?}; \
         over 2 s: {late}; failed: {}",
        joins.len(),
        began.elapsed(),
        percentile(&joins, 0.5).unwrap_or_default(),
        percentile(&joins, 0.99).unwrap_or_default(),
        joins.last().copied().unwrap_or_default(),
        failures.len()
    );
    if let Some(first) = failures.first() {
        println!("  first failure: {first}");
    }
    let mut writers: Vec<(usize, TcpStream)> = writer_receiver.try_iter().collect();
    writers.sort_by_key(|(number, _)| *number);
    Ok((
        writers.into_iter().map(|(_, writer)| writer).collect(),
        reports,
    ))
}

/// One client: connect, pick the name `cNUMBER`, wait for the welcome, then read for ever.
fn client(
    address: SocketAddr,
    number: usize,
    epoch: Instant,
    report: &Sender<Report>,
    writers: &Sender<(usize, TcpStream)>,
) -> anyhow::Result<()> {
    let began = Instant::now();
    let stream = TcpStream::connect_timeout(&address, GIVE_UP).context("connect")?;
    stream.set_read_timeout(Some(GIVE_UP * 3))?;
    let mut writer = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    let mut line = String::new();
    lines.read_line(&mut line).context("read the welcome")?;
    writer.write_all(format!("c{number}\n").as_bytes())?;
    let welcome = format!("* Welcome, c{number}!");
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            bail!("the server closed the connection before the welcome");
        }
        if line.starts_with(&welcome) {
            break;
        }
    }
    let _ = report.send(Report::Joined {
        after: began.elapsed(),
    });
    let _ = writers.send((number, writer));
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        // A delivery reads `cSENDER: m SENDER LINE NANOS`, NANOS being when it was sent.
        if let Some(sent) = line
            .split_once(": m ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(2))
            .and_then(|nanos| nanos.parse::<u64>().ok())
        {
            let latency = epoch.elapsed().saturating_sub(Duration::from_nanos(sent));
            let _ = report.send(Report::Delivered { latency });
        } else if line.starts_with('!') {
            let _ = report.send(Report::Failed(format!("client {number}: {}", line.trim())));
        }
    }
}

/// Sends one timed line from a client.
fn send(mut writer: &TcpStream, sender: usize, line: usize, epoch: Instant) -> anyhow::Result<()> {
    let nanos = epoch.elapsed().as_nanos();
    writer.write_all(format!("m {sender} {line} {nanos}\n").as_bytes())?;
    Ok(())
}

/// Waits until the join notices have stopped arriving, so they do not count against what comes
/// next (a benchmark may sleep; a test may not).
fn settle(reports: &Receiver<Report>) {
    thread::sleep(Duration::from_millis(500));
    while reports.try_recv().is_ok() {}
}

/// Collects `expected` deliveries (or gives up), and reports them against a p99 goal.
fn deliveries(reports: &Receiver<Report>, expected: usize, goal_ms: u64) {
    let mut latencies = Vec::with_capacity(expected);
    let mut failures = Vec::new();
    let deadline = Instant::now() + GIVE_UP;
    while latencies.len() < expected {
        let left = deadline.saturating_duration_since(Instant::now());
        match reports.recv_timeout(left) {
            Ok(Report::Delivered { latency }) => latencies.push(latency),
            Ok(Report::Failed(why)) => failures.push(why),
            Ok(Report::Joined { .. }) => {}
            Err(_) => break,
        }
    }
    latencies.sort();
    let p99 = percentile(&latencies, 0.99).unwrap_or_default();
    println!(
        "  delivered: {} of {expected}, lost: {}; latency p50 {:.1?}, p99 {:.1?} (goal: under \
         {goal_ms} ms: {}), max {:.1?}",
        latencies.len(),
        expected - latencies.len(),
        percentile(&latencies, 0.5).unwrap_or_default(),
        p99,
        if p99 < Duration::from_millis(goal_ms) && latencies.len() == expected {
            "met"
        } else {
            "MISSED"
        },
        latencies.last().copied().unwrap_or_default(),
    );
    if let Some(first) = failures.first() {
        println!("  {} problems, the first: {first}", failures.len());
    }
}

/// The system's count of connections dropped because a listen backlog was full (Linux's
/// `TcpExt: ListenOverflows` in /proc/net/netstat); `None` elsewhere.
fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut tcp_ext = netstat.lines().filter(|line| line.starts_with("TcpExt:"));
    let (names, values) = (tcp_ext.next()?, tcp_ext.next()?);
    let column = names
        .split_whitespace()
        .position(|name| name == "ListenOverflows")?;
    values.split_whitespace().nth(column)?.parse().ok()
}
