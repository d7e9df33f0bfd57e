//! Measures how long lesson 04's chat takes to cut off a client that stops reading in a room too
//! quiet to fill its queue, and shows what the room hears then.
//!
//! bob joins and then reads nothing; alice sends LINES lines of 1 KB (default 5000: more than
//! the loopback buffers hold on Linux, about 4,100 of bob's 1,031-byte lines, with room to spare,
//! and fewer than would also fill bob's queue of 4096 lines).
//! bob's writer thread then waits in `write` until `WRITE_TIMEOUT` gives up on him.
//!
//! Run it (any system; it starts lesson 04's server, so build that first):
//!
//!     cargo build --bin 04_chat
//!     cargo run --example stalled_reader -- 5000
//!
//! It takes tens of seconds: that is what it measures.

#[path = "support/server.rs"]
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;

/// How long to wait for the room to hear of bob before giving up.
const PATIENCE: Duration = Duration::from_secs(180);

fn main() -> course::cli::MainResult {
    let arguments = course::cli::arguments()?;
    if arguments
        .first()
        .is_some_and(|word| word == "--help" || word == "-h")
    {
        println!(
            "usage: stalled_reader [LINES]\n\
             bob joins lesson 04's chat and reads nothing; alice sends LINES lines of 1 KB\n\
             (default 5000, 1 to 1000000); it prints how long the room took to cut bob off.\n\
             Too few lines to fill the buffers between the server and bob never get him cut\n\
             off: the run then ends after 180 s, saying so."
        );
        return Ok(());
    }
    if let Some(extra) = arguments.get(1) {
        let why = format!("stalled_reader takes at most LINES, not also {extra:?}");
        return Err(anyhow::anyhow!(why).into());
    }
    // At least one line. Too few to fill the buffers between the server and bob (about 4,100 on
    // Linux's loopback, more or less from run to run) never get him cut off: the wait below then
    // ends in words.
    // A million is far past any queue and buffer.
    let lines = match arguments.first() {
        Some(count) => course::cli::whole_number("LINES", count, 1..=1_000_000)?,
        None => 5000,
    };
    let server = support::start("04_chat", &[])?;
    let address = server.address;
    let result = measure(address, lines);
    drop(server); // stops it
    Ok(result?)
}

fn measure(address: SocketAddr, lines: usize) -> anyhow::Result<()> {
    // bob joins, and from now on reads nothing; his connection stays open.
    let mut bob = TcpStream::connect(address).context("bob connects")?;
    bob.write_all(b"bob\n")?;
    let mut alice = TcpStream::connect(address).context("alice connects")?;
    alice.write_all(b"alice\n")?;

    // Alice's screen, read on its own thread so that her sending never waits for it.
    let (heard, news) = mpsc::channel();
    let screen = BufReader::new(alice.try_clone()?);
    std::thread::spawn(move || {
        for line in screen.lines() {
            let Ok(line) = line else { break };
            if line.starts_with("* bob ") && heard.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });

    let line = format!("{}\n", "x".repeat(1023));
    let started = Instant::now();
    for _ in 0..lines {
        alice.write_all(line.as_bytes()).context("alice sends")?;
    }
    let sent = Instant::now();
    println!(
        "alice sent {lines} lines of 1 KB in {:.1} s; bob reads nothing",
        sent.duration_since(started).as_secs_f64()
    );
    loop {
        let remaining = PATIENCE.saturating_sub(sent.elapsed());
        let (when, notice) = news.recv_timeout(remaining).with_context(|| {
            format!(
                "the room heard nothing of bob within {PATIENCE:?}: the {lines} lines may \
                     all fit in the system's buffers between the server and bob (megabytes on \
                     Linux), so nothing ever waits for him; send more"
            )
        })?;
        // Alice hears "* bob joined" only if she joined first; skip it either way.
        if notice == "* bob joined" {
            continue;
        }
        if when < sent {
            // bob's queue filled while alice was still sending: the broker's cut-off, at once,
            // not the writer's `WRITE_TIMEOUT`, which is what this measures.
            println!(
                "alice heard {:.1} s after her first line, before she had sent them all: \
                 {notice}\n(bob's queue filled first; to measure WRITE_TIMEOUT, send fewer lines)",
                when.duration_since(started).as_secs_f64()
            );
        } else {
            println!(
                "{:.1} s later alice heard: {notice}",
                when.duration_since(sent).as_secs_f64()
            );
        }
        break;
    }
    drop(bob);
    Ok(())
}
