//! Measures a chat server under a storm: many clients join at once, then messages fly, and every
//! delivery is timed and counted. Runs lesson 04's server and lesson 10's, one after the other.
//!
//! Run it (release):
//!
//!     cargo build --release --bin 04_chat --bin 10_async_chat
//!     cargo run --release -p async-lessons --example chat_storm -- [SERVER...]
//!
//! The servers default to `04_chat 10_async_chat`. For each, three scenarios, each on a fresh
//! server:
//!
//! 1. 999 clients join at once; then one of them sends one message, which the other 998 must
//!    all receive.
//! 2. 500 clients join; then 10 of them each send 10 messages at the same moment, which the
//!    other 499 must all receive.
//! 3. A burst: 200 clients join; then every one of them sends 20 messages at the same moment,
//!    and each must receive the other 199 × 20 (796,000 deliveries in all).
//!
//! A message carries the time it was sent, so each receiver knows how long it took. "Lost"
//! counts deliveries that never came within 10 s (a client cut off for being slow would show
//! here). Every client reads all the time, as a well-behaved chat client does. The benchmark
//! holds one file descriptor per client, and so does the server: `ulimit -n` must be about 1010 or
//! more (999 clients and the program's own files; 1008 was the least that worked on Linux).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use course::started::StartedServer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How long a scenario waits for deliveries before it counts the rest as lost.
const PATIENCE: Duration = Duration::from_secs(10);
/// How long joining may take. A server whose listen backlog is too small for the storm: on
/// Linux and macOS the system drops connections it cannot queue, and the client's system resends
/// them a second or more later, then less and less often (`book/src/measurements/syn_retries.txt`
/// for Linux); on Windows they are refused, and retried for about 2 s.
const JOIN_PATIENCE: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> course::cli::MainResult {
    let mut servers = course::cli::arguments()?;
    if let Some(option) = servers.iter().find(|name| name.starts_with('-')) {
        return Err(anyhow::anyhow!(
            "chat_storm takes only the names of chat servers to measure, such as 04_chat \
             (by default 04_chat and 10_async_chat), not {option:?}"
        )
        .into());
    }
    if servers.is_empty() {
        servers = vec!["04_chat".into(), "10_async_chat".into()];
    }
    println!(
        "server         scenario                       joined in  deliveries  lost   p50      p99      max"
    );
    for server in &servers {
        let binary = sibling(server)?;
        run_scenario(server, &binary, "999 join, 1 message to all", 999, 1, 1).await?;
        run_scenario(server, &binary, "500 clients, 10 senders x 10", 500, 10, 10).await?;
        run_scenario(server, &binary, "200 clients, all send 20", 200, 200, 20).await?;
    }
    Ok(())
}

/// What a client task tells `main`.
enum Report {
    /// The client has joined the room.
    Joined,
    /// The client received message `number`, `latency` after it was sent.
    Heard { number: u64, latency: Duration },
    /// The client's connection failed or closed.
    Failed(String),
}

async fn run_scenario(
    server_name: &str,
    binary: &PathBuf,
    title: &str,
    clients: usize,
    senders: usize,
    messages_each: u64,
) -> anyhow::Result<()> {
    let server = start(binary)?;
    let epoch = Instant::now();
    let (report, mut reports) = mpsc::unbounded_channel();
    let mut commands = Vec::with_capacity(clients);
    let started = Instant::now();
    for number in 0..clients {
        let (command, orders) = mpsc::unbounded_channel::<String>();
        commands.push(command);
        tokio::spawn(client(
            server.address,
            format!("c{number:03}"),
            epoch,
            report.clone(),
            orders,
        ));
    }
    let mut joined = 0;
    while joined < clients {
        let Ok(report) = next_report(&mut reports, JOIN_PATIENCE).await else {
            // Some clients connected, as far as their system could tell, but the server never
            // took them from its queue: see BACKLOG in lesson 10's chat.
            println!(
                "{server_name:<14} {title:<30} only {joined} of {clients} joined: nothing \
                 happened for {JOIN_PATIENCE:?}"
            );
            drop(server);
            return Ok(());
        };
        match report {
            Report::Joined => joined += 1,
            Report::Heard { .. } => {}
            Report::Failed(why) => bail!("{server_name}: a client failed while joining: {why}"),
        }
    }
    let joined_in = started.elapsed();

    // Settle: one message, numbered 0, that everyone must hear. The room's lines arrive in one
    // order, so once it is heard, every "joined" notice before it has been read.
    commands[0].send(format!("0 {}", epoch.elapsed().as_nanos()))?;
    let mut settled = 0;
    while settled < clients - 1 {
        let heard = next_report(&mut reports, PATIENCE)
            .await
            .with_context(|| format!("{server_name}: {settled} heard the first message"))?;
        match heard {
            Report::Heard { number: 0, .. } => settled += 1,
            Report::Failed(why) => bail!("{server_name}: a client failed: {why}"),
            _ => {}
        }
    }

    // The measured messages, numbered from 1: every sender sends its own at the same moment.
    for (sender, command) in commands.iter().enumerate().take(senders) {
        for message in 0..messages_each {
            let number = 1 + sender as u64 * messages_each + message;
            command.send(format!("{number} {}", epoch.elapsed().as_nanos()))?;
        }
    }
    let expected = senders * messages_each as usize * (clients - 1);
    let mut latencies = Vec::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut failures = 0;
    while latencies.len() < expected {
        match tokio::time::timeout_at(deadline, reports.recv()).await {
            Ok(Some(Report::Heard { number, latency })) if number > 0 => latencies.push(latency),
            Ok(Some(Report::Failed(_))) => failures += 1,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    latencies.sort();
    let at = |fraction: f64| {
        latencies
            .get(
                ((latencies.len() as f64 * fraction) as usize)
                    .min(latencies.len().saturating_sub(1)),
            )
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{server_name:<14} {title:<30} {:>9.2?}  {:>10}  {:>4}   {:<8.2?} {:<8.2?} {:.2?}",
        joined_in,
        latencies.len(),
        expected - latencies.len(),
        at(0.50),
        at(0.99),
        latencies.last().copied().unwrap_or_default(),
    );
    if failures > 0 {
        println!("  ({failures} clients lost their connection)");
    }
    drop(server);
    Ok(())
}

/// The next report, or an error if none comes in time.
async fn next_report(
    reports: &mut mpsc::UnboundedReceiver<Report>,
    patience: Duration,
) -> anyhow::Result<Report> {
    match tokio::time::timeout(patience, reports.recv()).await {
        Ok(Some(report)) => Ok(report),
        Ok(None) => bail!("every client task ended"),
        Err(_) => bail!("nothing happened for {patience:?}"),
    }
}

/// One chat client: joins as `name`, then reads everything the room says, reporting the timed
/// messages, and sends whatever `orders` it is given.
async fn client(
    address: SocketAddr,
    name: String,
    epoch: Instant,
    report: mpsc::UnboundedSender<Report>,
    mut orders: mpsc::UnboundedReceiver<String>,
) {
    if let Err(error) = chat(address, &name, epoch, &report, &mut orders).await {
        let _ = report.send(Report::Failed(format!("{name}: {error:#}")));
    }
}

async fn chat(
    address: SocketAddr,
    name: &str,
    epoch: Instant,
    report: &mpsc::UnboundedSender<Report>,
    orders: &mut mpsc::UnboundedReceiver<String>,
) -> anyhow::Result<()> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (reading, mut writing) = stream.into_split();
    let mut lines = BufReader::new(reading).lines();
    lines.next_line().await?.context("no welcome")?;
    writing.write_all(format!("{name}\n").as_bytes()).await?;
    let welcome = lines.next_line().await?.context("no answer to the name")?;
    if !welcome.starts_with("* Welcome, ") {
        bail!("the name was refused: {welcome}");
    }
    let _ = report.send(Report::Joined);
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line? else { bail!("the server closed the connection") };
                // A timed message reads `cNNN: NUMBER SENT_AT_NANOS`.
                let Some((_, text)) = line.split_once(": ") else { continue };
                let mut fields = text.split(' ').map(str::parse::<u64>);
                if let (Some(Ok(number)), Some(Ok(sent))) = (fields.next(), fields.next()) {
                    let latency = epoch.elapsed().saturating_sub(Duration::from_nanos(sent));
                    let _ = report.send(Report::Heard { number, latency });
                }
            }
            order = orders.recv() => {
                let Some(order) = order else { return Ok(()) };
                writing.write_all(format!("{order}\n").as_bytes()).await?;
            }
        }
    }
}

/// A server started as a child process; dropping it stops it.
type Server = StartedServer;

/// Starts the chat server `binary` on any port, and reads its `listening on` line. (Blocking
/// calls, made before any measurement starts.)
fn start(binary: &PathBuf) -> anyhow::Result<Server> {
    let mut command = Command::new(binary);
    command.arg("127.0.0.1:0");
    StartedServer::start(command, Duration::from_secs(10), false)
}

/// The path of a program built next to this example, such as `10_async_chat`.
fn sibling(name: &str) -> anyhow::Result<PathBuf> {
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
