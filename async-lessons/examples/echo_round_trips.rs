//! Measures lesson 10's echo server against a minimal tokio echo: round trips per second with
//! many clients, each sending 64 bytes and waiting for them to come back, over and over.
//!
//! Run it (release: debug builds measure the compiler, not the design):
//!
//!     cargo build --release --bin 10_async_echo
//!     cargo run --release -p async-lessons --example echo_round_trips -- [CLIENTS] [SECONDS] [ROUNDS]
//!
//! Defaults: 100 clients, 3 seconds per measurement, 3 rounds. Both servers run as child
//! processes of this one: `10_async_echo`, and this same program started with
//! `--minimal-server`, an echo with nothing but the loop. The two are measured in turns, round
//! after round, so that whatever else the machine is doing falls on both alike.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use course::started::StartedServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The size of one message, both ways.
const MESSAGE_BYTES: usize = 64;

#[tokio::main]
async fn main() -> course::cli::MainResult {
    let arguments = course::cli::arguments()?;
    if arguments.first().map(String::as_str) == Some("--minimal-server") {
        return Ok(minimal_server().await?);
    }
    // Each number has a range, so that none of them makes an empty measurement (0 clients, 0 s,
    // 0 rounds) or more clients than a count holds.
    let number = |at: usize, what: &str, default: usize, range| -> anyhow::Result<usize> {
        match arguments.get(at) {
            Some(text) => course::cli::whole_number(what, text, range),
            None => Ok(default),
        }
    };
    if let Some(extra) = arguments.get(3) {
        return Err(anyhow::anyhow!(
            "echo_round_trips takes at most CLIENTS, SECONDS and ROUNDS, not also {extra:?}"
        )
        .into());
    }
    let clients = number(0, "CLIENTS", 100, 1..=course::cli::MOST_AT_ONCE)?;
    let seconds = number(1, "SECONDS", 3, 1..=3600)? as u64;
    let rounds = number(2, "ROUNDS", 3, 1..=1000)?;

    let minimal = start(std::env::current_exe()?, &["--minimal-server"])?;
    let lesson = start(sibling("10_async_echo")?, &[])?;
    println!(
        "{clients} clients, {MESSAGE_BYTES}-byte round trips, {seconds} s per measurement, \
         {rounds} rounds"
    );
    println!("round  minimal tokio echo  10_async_echo  ratio");
    let (mut minimal_total, mut lesson_total) = (0.0, 0.0);
    for round in 1..=rounds {
        let duration = Duration::from_secs(seconds);
        let base = round_trips_per_second(minimal.address, clients, duration).await?;
        let ours = round_trips_per_second(lesson.address, clients, duration).await?;
        println!(
            "{round:>5}  {base:>14.0}/s  {ours:>11.0}/s  {:>5.2}",
            ours / base
        );
        minimal_total += base;
        lesson_total += ours;
    }
    println!(
        "  all  {:>14.0}/s  {:>11.0}/s  {:>5.2}",
        minimal_total / rounds as f64,
        lesson_total / rounds as f64,
        lesson_total / minimal_total
    );
    drop((minimal, lesson));
    Ok(())
}

/// The baseline: an echo server with nothing but the loop, and the same 1024-byte buffer.
async fn minimal_server() -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (mut stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut buffer = [0; 1024];
            while let Ok(count @ 1..) = stream.read(&mut buffer).await {
                if stream.write_all(&buffer[..count]).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// `clients` connections, each doing round trips as fast as it can for `duration`.
async fn round_trips_per_second(
    address: SocketAddr,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut streams = Vec::with_capacity(clients);
    for _ in 0..clients {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut stream in streams {
        let (done, stop) = (Arc::clone(&done), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            let message = [b'x'; MESSAGE_BYTES];
            let mut echo = [0; MESSAGE_BYTES];
            while !stop.load(Ordering::Relaxed) {
                stream.write_all(&message).await?;
                stream.read_exact(&mut echo).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let count = done.load(Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    Ok(count as f64 / elapsed.as_secs_f64())
}

/// A server started as a child process; dropping it stops it.
type Server = StartedServer;

/// Starts `binary` with `args` on any port, and reads its `listening on` line. (Blocking calls,
/// made once before any measurement starts.)
fn start(binary: PathBuf, args: &[&str]) -> anyhow::Result<Server> {
    let mut command = Command::new(&binary);
    command.args(args).arg("127.0.0.1:0");
    StartedServer::start(command, Duration::from_secs(10), false)
}

/// The path of a program built next to this example, such as `10_async_echo`.
fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    // Examples are built into target/<profile>/examples/, the programs one folder up.
    let path = std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .context("find the target folder")?
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        bail!(
            "{} is missing: build it first with the same profile, e.g. \
             `cargo build --release --bin {name}`",
            path.display()
        );
    }
    Ok(path)
}
