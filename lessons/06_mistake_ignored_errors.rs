//! Lesson 06, common mistake: errors thrown away.
//!
//! A line echo server that serves one client at a time. Its careless version unwraps every
//! `Result` and ignores the rest with `let _ =`: a client that sends a line that is not UTF-8
//! text kills the whole server, and its log says "echoed" even when nothing could be sent. Run it
//! with `fixed`, and each error ends at most the one client's connection, and the log tells the
//! truth.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

use anyhow::{Context, anyhow};
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

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
    if fixed {
        serve_carefully(listener);
    } else {
        serve_carelessly(listener);
    }
    Ok(())
}

// ANCHOR: mistake
/// The mistake: every error either kills the server or vanishes without a trace.
fn serve_carelessly(listener: TcpListener) {
    for connection in listener.incoming() {
        // Dies when an accept fails, say when the process is out of file descriptors.
        let stream = connection.unwrap();
        // Dies when the client has already gone again.
        let peer = stream.peer_addr().unwrap();
        let mut writer = &stream;
        for line in BufReader::new(&stream).lines() {
            // Dies on a line that is not UTF-8 text, or a connection reset: one client's bytes
            // end the server for everyone.
            let line = line.unwrap();
            // Lies: if the write fails, the log below says "echoed" all the same.
            let _ = writer.write_all(format!("{line}\n").as_bytes());
            println!("echoed {line:?} to {peer}");
        }
    }
}
// ANCHOR_END: mistake

// ANCHOR: fix
/// The fix: an error ends at most one client's connection, and the log says what happened.
fn serve_carefully(listener: TcpListener) {
    // A spell of failed accepts is logged, not every try, with a pause before each retry.
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
        if let Err(error) = echo_lines(&stream) {
            println!("a client's connection ended badly: {error:#}");
        }
    }
}

/// Echoes one client's lines. A line that is not text gets an error line back, not a crash.
fn echo_lines(stream: &TcpStream) -> anyhow::Result<()> {
    let peer = stream.peer_addr().context("asking who connected")?;
    let mut writer = stream;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        let count = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading from {peer}"))?;
        if count == 0 {
            return Ok(());
        }
        let (reply, log) = match std::str::from_utf8(&line) {
            Ok(text) => {
                let text = text.trim_end_matches(['\r', '\n']).to_string();
                let log = format!("echoed {text:?} to {peer}");
                (text, log)
            }
            Err(_) => (
                "error: that line is not UTF-8 text".to_string(),
                format!("told {peer} its line is not UTF-8 text"),
            ),
        };
        writer
            .write_all(format!("{reply}\n").as_bytes())
            .with_context(|| format!("echoing to {peer}"))?;
        // Only now, with the write done, is the log line true.
        println!("{log}");
    }
}
// ANCHOR_END: fix

const PROGRAM: Program = Program {
    name: "06_mistake_ignored_errors",
    role: Role::Server,
    about: "Lesson 06, a common mistake: unwrap() and `let _ =` make a server die or lie.",
    default_address: "127.0.0.1:65437",
    extra_usage: "[fixed]",
    max_extra_args: 1,
    try_it: "Send it a line that is not UTF-8 (\"café\" in Latin-1), from another terminal:\n  \
             python3 -c \"import socket; socket.create_connection(('127.0.0.1', 65437))\
             .sendall(b'caf\\xe9\\n')\"\n  \
             printf 'caf\\xe9\\n' | nc 127.0.0.1 65437\n\
             Then run the server with `fixed` and send it again:\n  \
             cargo run --bin 06_mistake_ignored_errors -- 127.0.0.1:65437 fixed",
};
