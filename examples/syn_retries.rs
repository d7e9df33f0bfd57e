//! Shows when a client's system sends its connection request (its SYN) again, when the server's
//! listen backlog is full and the server's system drops the request without a word.
//!
//! A listener asks for a backlog of 0 and never accepts; one client fills its queue; then one more
//! client connects, and this program watches that client's handshake with `ss` (Linux's socket
//! statistics tool) until `connect` gives up.
//!
//!     cargo run --example syn_retries
//!
//! Linux only (it reads `ss` and `/proc/sys`), and it takes over two minutes, because it waits for
//! the system to give up. The schedule it shows is set by two settings, which it prints:
//! `net.ipv4.tcp_syn_retries` and, since Linux 6.5, `net.ipv4.tcp_syn_linear_timeouts`.

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::listen::bind_with_backlog;

/// How often the handshake is looked at: fine enough to place each retry within a tenth of a
/// second.
const LOOK_EVERY: Duration = Duration::from_millis(50);

fn main() -> course::cli::MainResult {
    course::cli::no_arguments("syn_retries")?;
    for setting in ["tcp_syn_retries", "tcp_syn_linear_timeouts"] {
        let value = std::fs::read_to_string(format!("/proc/sys/net/ipv4/{setting}"))
            .unwrap_or_else(|_| "(not on this kernel)".into());
        println!("net.ipv4.{setting} = {}", value.trim());
    }
    // A backlog of 0 still lets one connection wait (Linux allows one more than the backlog).
    let listener = bind_with_backlog("127.0.0.1:0".parse()?, 0)?;
    let address = listener.local_addr()?;
    let _fills_the_queue = TcpStream::connect_timeout(&address, Duration::from_secs(1))
        .context("the first client should fit in the queue")?;

    let began = Instant::now();
    let client = thread::spawn(move || TcpStream::connect(address));
    let mut seen = 0;
    println!("  0.0 s  SYN sent");
    while !client.is_finished() {
        let retransmissions = retransmissions_so_far(address)?;
        if retransmissions > seen {
            seen = retransmissions;
            println!(
                "{:5.1} s  SYN sent again ({seen})",
                began.elapsed().as_secs_f64()
            );
        }
        thread::sleep(LOOK_EVERY);
    }
    let outcome = match client.join().expect("the client thread does not panic") {
        Ok(_) => "connected".to_string(),
        Err(error) => format!("failed: {:?} ({error})", error.kind()),
    };
    println!("{:5.1} s  connect {outcome}", began.elapsed().as_secs_f64());
    drop(listener);
    Ok(())
}

/// How many times the handshake to `address` has been sent again, from `ss`'s `retrans:a/b` (b is
/// the total). 0 while the first SYN is still unanswered.
fn retransmissions_so_far(address: SocketAddr) -> anyhow::Result<u32> {
    let output = Command::new("ss")
        .args(["-tni", "state", "syn-sent", "dst", &address.to_string()])
        .output()
        .context("running ss (Linux's socket statistics tool, in the iproute2 package)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let total = text
        .split_whitespace()
        .find_map(|word| word.strip_prefix("retrans:"))
        .and_then(|counts| counts.split('/').nth(1))
        .and_then(|total| total.parse().ok());
    Ok(total.unwrap_or(0))
}
