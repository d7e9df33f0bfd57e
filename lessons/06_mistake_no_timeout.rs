//! Lesson 06, common mistake: a blocking call without a timeout.
//!
//! This client connects and waits for the server to speak first, as lesson 01's greeting client
//! does. Point it at a server that never speaks first, such as lesson 03's echo server (it waits
//! for *you*), and it waits for ever: your terminal freezes until you press Ctrl-C. Run it again
//! with `fixed`, and it gives up after a few seconds and says why.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, anyhow};
use course::cli::{Program, Role};

/// How long the fixed client waits to connect, and then for the server's first bytes. Short,
/// so the demonstration is quick; a real client picks it from how long its server may
/// reasonably take.
const PATIENCE: Duration = Duration::from_secs(2);

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
    println!("connecting to {address}, then waiting for it to speak first...");
    let received = if fixed {
        with_timeouts(address)?
    } else {
        without_timeouts(address)?
    };
    println!("received {received:?}");
    Ok(())
}

// ANCHOR: mistake
/// The mistake: both calls may wait for ever.
fn without_timeouts(address: SocketAddr) -> anyhow::Result<String> {
    // `connect` waits as long as the system keeps trying: for a machine that silently drops
    // the handshake, that is tens of seconds, on Linux about two minutes (chapter 07).
    let mut stream = TcpStream::connect(address).context("connecting")?;
    let mut buffer = [0; 1024];
    // `read` waits until the server sends something or closes. A server that does neither
    // keeps this client here for ever.
    let count = stream.read(&mut buffer).context("reading")?;
    Ok(String::from_utf8_lossy(&buffer[..count]).into_owned())
}
// ANCHOR_END: mistake

// ANCHOR: fix
/// The fix: every wait has a limit, and running out of time is an error that says what happened.
fn with_timeouts(address: SocketAddr) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, PATIENCE)
        .map_err(|error| course::explain::connect_error(address, error))?;
    stream.set_read_timeout(Some(PATIENCE))?;
    // One read into a fixed buffer: the server's first bytes, at most 1024 of them however much
    // it sends. That is all this client wants, and all a server can make it hold.
    let mut buffer = [0; 1024];
    let count = stream
        .read(&mut buffer)
        .map_err(|error| course::explain::read_error("the server", error))?;
    Ok(String::from_utf8_lossy(&buffer[..count]).into_owned())
}
// ANCHOR_END: fix

const PROGRAM: Program = Program {
    name: "06_mistake_no_timeout",
    role: Role::Client,
    about: "Lesson 06, a common mistake: a client that waits for ever for a silent server.",
    default_address: "127.0.0.1:65434",
    extra_usage: "[fixed]",
    max_extra_args: 1,
    try_it: "Start a server that never speaks first, in another terminal:\n  \
             cargo run --bin 03_threaded_echo\n\
             Then watch this client wait for ever (stop it with Ctrl-C):\n  \
             cargo run --bin 06_mistake_no_timeout\n\
             and the fixed one give up after 2 s:\n  \
             cargo run --bin 06_mistake_no_timeout -- 127.0.0.1:65434 fixed",
};
