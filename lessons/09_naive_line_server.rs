//! Lesson 09: a line server with a framing bug, to put behind the chaos proxy.
//!
//! It answers every line a client sends with `line N: TEXT`. Or so it means to: it takes each
//! `read` to be one whole line. On loopback, where each write from a client usually arrives as
//! one read, it seems to work. Behind `09_chaos_proxy`, which cuts writes into pieces, it answers
//! every piece as if it were a line; with `--merge`, it answers two lines as one.
//!
//! This is the mistake lesson 02 warned about, written out so that you can watch it fail. Do not
//! copy it: lesson 04's `LineReader` shows how to read lines from a stream.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

fn main() -> course::cli::MainResult {
    let address = PROGRAM.args()?.address;
    let listener =
        TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);

    // Such errors last (out of file descriptors, say): pause, retry, and log the spell, not
    // every try.
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
        let Ok(peer) = stream.peer_addr() else {
            continue; // It left between accept and this call.
        };
        thread::spawn(move || match answer_lines(stream, peer) {
            Ok(()) => println!("{peer} disconnected"),
            Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
        });
    }
    Ok(())
}

// ANCHOR: naive
/// Answers each "line" with its number. The bug: a read is not a line.
fn answer_lines(mut stream: TcpStream, peer: SocketAddr) -> anyhow::Result<()> {
    println!("{peer} connected");
    let mut buffer = [0; 1024];
    for number in 1.. {
        let count = stream
            .read(&mut buffer)
            .with_context(|| format!("reading from {peer}"))?;
        if count == 0 {
            break;
        }
        // WRONG: this assumes the read holds exactly one line, with its `\n` at the end. It may
        // hold a piece of a line, or two lines, or a line and a half.
        let line = String::from_utf8_lossy(&buffer[..count]);
        // A line's end is its `\n` and a `\r` just before it; everything else is its text.
        let line = match line.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => line.as_ref(),
        };
        stream
            .write_all(format!("line {number}: {line}\n").as_bytes())
            .with_context(|| format!("answering {peer}"))?;
    }
    Ok(())
}
// ANCHOR_END: naive

const PROGRAM: Program = Program {
    name: "09_naive_line_server",
    role: Role::Server,
    about: "Lesson 09: answers each line with `line N: TEXT`, but wrongly takes each read to be \
            one line. Put it behind 09_chaos_proxy to see it break.",
    default_address: "127.0.0.1:65444",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "On its own it seems to work:\n  nc 127.0.0.1 65444\n\
             Behind the chaos proxy it does not:\n  \
             cargo run --bin 09_chaos_proxy -- 127.0.0.1:65440 127.0.0.1:65444\n  \
             nc 127.0.0.1 65440",
};
