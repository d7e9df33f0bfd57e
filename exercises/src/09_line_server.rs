//! Exercise 09: answer lines, not reads.
//!
//! This is lesson 09's naive line server. It answers each line a client sends with
//! `line N: TEXT` and a newline, numbering each client's lines from 1. Or so it means to: it
//! takes each read to be one whole line, which holds on loopback, most of the time, and nowhere
//! else. Make it answer every line however the bytes arrive: a line cut into pieces, several
//! lines in one read, a character whose bytes arrive in two reads, a line far longer than one
//! read, and a last line without a newline before the client closes its side. A line ends at
//! `\n`, and a `\r` before it is not part of the text; bytes that are not UTF-8 are shown as `�`
//! (as `String::from_utf8_lossy` does) but never end the connection.
//!
//! Check it:       cargo test -p exercises 09
//! Try it by hand: cargo run -p exercises --bin ex09_line_server
//!                 then, behind the chaos proxy, as lesson 09 does:
//!                 cargo run --bin 09_chaos_proxy -- 127.0.0.1:65440 127.0.0.1:65444
//!                 nc 127.0.0.1 65440
//! Hints are in the book, chapter "09: A chaos proxy".

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use anyhow::Context;
use course::accept::AcceptFailures;

/// Answers every client that connects to `listener`, each on a thread of its own, until the
/// program is stopped.
pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
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
        thread::spawn(move || {
            if let Err(error) = answer_lines(stream, peer) {
                eprintln!("{peer} disconnected abruptly: {error:#}");
            }
        });
    }
    Ok(())
}

// ANCHOR: answer_lines
/// Answers each line with its number, until the client closes its side.
fn answer_lines(mut stream: TcpStream, peer: SocketAddr) -> anyhow::Result<()> {
    // TODO: a read is not a line. Read the stream as lines instead (a `BufReader` over a clone
    // of the stream, and `read_until(b'\n', ...)`, keeps what is left of a read for the next
    // line), and answer each whole line, the last one too.
    let mut buffer = [0; 1024];
    for number in 1.. {
        let count = stream
            .read(&mut buffer)
            .with_context(|| format!("reading from {peer}"))?;
        if count == 0 {
            break;
        }
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
// ANCHOR_END: answer_lines
