//! Lesson 06: an echo server with timeouts.
//!
//! Lesson 03's threaded echo server, with limits on how long it waits. A client that sends
//! nothing for IDLE_SECONDS is told why, in one line, and closed; so is one that stops reading
//! what the server sends. A client that keeps talking is never dropped, however long it stays.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

/// How long a client may stay silent when IDLE_SECONDS is not given. Long enough for a person
/// typing into `nc` to think; short enough that an abandoned connection does not linger.
const DEFAULT_IDLE_SECONDS: u64 = 30;

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let idle = idle_limit(args.extra.first())?;
    let address = args.address;
    let listener =
        TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);
    println!("a client silent for {} s is closed", idle.as_secs_f64());

    // ANCHOR: accept_loop
    // Some failures last (the process is out of file descriptors): `failures` pauses after each
    // one rather than spin the processor, and logs a spell of them, not every retry.
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        let stream = match connection {
            Ok(stream) => stream,
            Err(error) => {
                failures.pause_after(error);
                continue;
            }
        };
        failures.over();
        let peer = match stream.peer_addr() {
            Ok(peer) => peer,
            // The client may already be gone between accept and this call.
            Err(error) => {
                eprintln!("a client left before it could be served: {error}");
                continue;
            }
        };
        // Named after its client, so a panic message says whose thread it was.
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .spawn(move || serve_client(stream, peer, idle));
        if let Err(error) = spawned {
            eprintln!("cannot start a thread for {peer}: {error}");
        }
    }
    Ok(())
    // ANCHOR_END: accept_loop
}

// ANCHOR: serve_client
/// Runs on the client's own thread: sets the limits, echoes, and logs how the client left.
fn serve_client(stream: TcpStream, peer: SocketAddr, idle: Duration) {
    println!("{peer} connected");
    match echo(stream, peer, idle) {
        Ok(Left::Closed) => println!("{peer} disconnected"),
        Ok(Left::Idle) => println!("{peer} sent nothing for {} s: closed", idle.as_secs_f64()),
        Ok(Left::NotReading) => println!(
            "{peer} read nothing we sent for {} s: closed",
            idle.as_secs_f64()
        ),
        Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
    }
}
// ANCHOR_END: serve_client

/// How a client's connection came to an end, when nothing failed.
enum Left {
    /// The client closed its side.
    Closed,
    /// The client sent nothing for the idle limit, was told so, and closed.
    Idle,
    /// The client stopped reading: an echo could not be written within the idle limit.
    NotReading,
}

// ANCHOR: echo
/// Sends every byte back until the client closes, goes quiet, or stops reading.
fn echo(mut stream: TcpStream, peer: SocketAddr, idle: Duration) -> anyhow::Result<Left> {
    // A read timeout turns "wait for ever" into an error after `idle`. Each read gets the whole
    // limit afresh, so it measures silence, not how long the client has been connected.
    stream.set_read_timeout(Some(idle))?;
    // A write blocks when the client's receive buffer and ours are full: the client sends but
    // never reads. Without a limit this thread would wait for ever, and stop reading too.
    stream.set_write_timeout(Some(idle))?;
    let mut buffer = [0; 1024];
    loop {
        let count = match stream.read(&mut buffer) {
            Ok(0) => return Ok(Left::Closed),
            Ok(count) => count,
            Err(error) if is_timeout(&error) => {
                // Say why before closing: a client that is simply cut off cannot tell a
                // timeout from a crash. If even this line cannot be sent, the client is
                // gone or not reading; either way there is no one left to tell.
                let _ = stream.write_all(goodbye(idle).as_bytes());
                return Ok(Left::Idle);
            }
            Err(error) => return Err(error).with_context(|| format!("reading from {peer}")),
        };
        match stream.write_all(&buffer[..count]) {
            Ok(()) => {}
            Err(error) if is_timeout(&error) => return Ok(Left::NotReading),
            Err(error) => return Err(error).with_context(|| format!("echoing to {peer}")),
        }
    }
}
// ANCHOR_END: echo

// ANCHOR: goodbye
/// The one line a silent client gets before the server closes its connection.
fn goodbye(idle: Duration) -> String {
    format!(
        "you sent nothing for {} s, so the server is closing this connection\n",
        idle.as_secs_f64()
    )
}
// ANCHOR_END: goodbye

/// A timeout is WouldBlock on Unix and TimedOut on Windows.
fn is_timeout(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Reads IDLE_SECONDS from the command line, if it is there.
fn idle_limit(argument: Option<&String>) -> anyhow::Result<Duration> {
    let Some(text) = argument else {
        return Ok(Duration::from_secs(DEFAULT_IDLE_SECONDS));
    };
    // At least 1: a zero timeout is refused by `set_read_timeout` ("no limit" has to be said as
    // `None`). At most an hour, as every program of the course takes.
    let seconds = course::cli::whole_number("IDLE_SECONDS", text, 1..=3600)?;
    Ok(Duration::from_secs(seconds as u64))
}

const PROGRAM: Program = Program {
    name: "06_timeouts",
    role: Role::Server,
    about: "Lesson 06: echoes to many clients at once, and closes those that go quiet.",
    default_address: "127.0.0.1:65437",
    extra_usage: "[IDLE_SECONDS]",
    max_extra_args: 1,
    try_it: "IDLE_SECONDS is how long a client may stay silent: 30 unless you say, at most 3600.\n\
             Talk to it from other terminals with:\n  \
             cargo run --bin 02_echo_client -- 127.0.0.1:65437\n  nc 127.0.0.1 65437\n\
             and stay silent for a while. For a quick look: cargo run --bin 06_timeouts -- \
             127.0.0.1:65437 5",
};
