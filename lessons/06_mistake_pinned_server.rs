//! Lesson 06, common mistake: a server that one silent client pins down.
//!
//! A server that serves one client at a time, like lesson 02's, and reads without a timeout.
//! Connect with `nc` and type nothing: every other client now waits, for ever. Run it with
//! `fixed`, and a client that says nothing for a few seconds is told so and closed, and the next
//! one is served. (Threads, as in lesson 03, spare the other clients; a silent client still
//! holds its thread for ever, unless there is a timeout. Lesson 06's `06_timeouts` has both.)

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use anyhow::{Context, anyhow};
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

/// How long the fixed server lets a client stay silent. Short, so the demonstration is quick.
const SILENCE_LIMIT: Duration = Duration::from_secs(2);

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let fixed = match args.extra.first().map(String::as_str) {
        None => false,
        Some("fixed") => true,
        Some(other) => {
            let wrong = anyhow!("after the address, only `fixed` may follow, not {other:?}");
            return Err(wrong.into());
        }
    };
    let address = args.address;
    let listener =
        TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);
    // After a failed accept, pause, and log the spell, not every try, as every server does.
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        match connection {
            Ok(stream) => {
                failures.over();
                if let Err(error) = echo(stream, fixed) {
                    eprintln!("echo failed: {error:#}");
                }
            }
            Err(error) => failures.pause_after(error),
        }
    }
    Ok(())
}

// ANCHOR: echo
/// Echoes one client until it leaves, and, when `fixed`, until it stays silent too long.
fn echo(mut stream: TcpStream, fixed: bool) -> anyhow::Result<()> {
    let peer = stream.peer_addr().context("asking who connected")?;
    println!("{peer} connected; everyone else waits until it leaves");
    if fixed {
        // The fix: a silent client can hold up the others for SILENCE_LIMIT, not for ever, and
        // so can one that stops reading its echo, at each write.
        stream.set_read_timeout(Some(SILENCE_LIMIT))?;
        stream.set_write_timeout(Some(SILENCE_LIMIT))?;
    }
    let mut buffer = [0; 1024];
    loop {
        let count = match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => count,
            // Without the fix, this never happens: `read` just goes on waiting.
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let goodbye = format!(
                    "you sent nothing for {} s: goodbye, others are waiting\n",
                    SILENCE_LIMIT.as_secs()
                );
                // The client may not be reading either: the write gives up after SILENCE_LIMIT,
                // and the client is closed all the same.
                let _ = stream.write_all(goodbye.as_bytes());
                println!(
                    "{peer} was silent for {} s: closed",
                    SILENCE_LIMIT.as_secs()
                );
                return Ok(());
            }
            Err(error) => return Err(error).with_context(|| format!("reading from {peer}")),
        };
        stream
            .write_all(&buffer[..count])
            .with_context(|| format!("echoing to {peer}"))?;
    }
    println!("{peer} disconnected");
    Ok(())
}
// ANCHOR_END: echo

const PROGRAM: Program = Program {
    name: "06_mistake_pinned_server",
    role: Role::Server,
    about: "Lesson 06, a common mistake: one silent client stops the server for everyone.",
    default_address: "127.0.0.1:65437",
    extra_usage: "[fixed]",
    max_extra_args: 1,
    try_it: "In a second terminal, connect and type nothing:\n  nc 127.0.0.1 65437\n\
             In a third, try to be served:\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65437 \"anyone home?\"\n\
             Then run the server with `fixed` and try again:\n  \
             cargo run --bin 06_mistake_pinned_server -- 127.0.0.1:65437 fixed",
};
