//! Lesson 02: the echo client.
//!
//! With a message on the command line it sends that one line and prints the echo. Without one it
//! sends each line you type and prints each echo, until you end the input (Ctrl-D, or Ctrl-Z then
//! Enter on Windows). Start `02_echo` first.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, bail};
use course::cli::{Program, Role};

/// How long to wait for the server to connect or to answer.
const PATIENCE: Duration = Duration::from_secs(10);
/// The longest line other than an echo that the client reads whole, newline included: enough for
/// any line a server sends to say why it will not echo (a busy line, a goodbye).
const MAX_OTHER_LINE: usize = 1024;

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let address = args.address;
    let stream = TcpStream::connect_timeout(&address, PATIENCE)
        .map_err(|error| course::explain::connect_error(address, error))?;
    stream.set_read_timeout(Some(PATIENCE))?;
    // Each write call waits at most as long. This client reads an echo only once its whole line is sent,
    // so a line bigger than what the system's buffers hold (megabytes on Linux's loopback) fills
    // them both ways while the server, its echo unread, stops reading: without a limit, both
    // would wait for each other for ever.
    stream.set_write_timeout(Some(PATIENCE))?;

    // ANCHOR: handles
    // Reading and writing go through two handles on the same socket: `&TcpStream` implements
    // both `Read` and `Write`, and the buffered reader needs one of its own.
    let mut writer = &stream;
    let mut reader = BufReader::new(&stream);
    // ANCHOR_END: handles

    // ANCHOR: modes
    if let Some(message) = args.extra.first() {
        let reply = send_line(&mut writer, &mut reader, message)?;
        println!("received {reply:?}");
        return Ok(());
    }
    // Windows ends typed input with Ctrl-Z then Enter; everywhere else it is Ctrl-D.
    let end_of_input = if cfg!(windows) {
        "Ctrl-Z then Enter"
    } else {
        "Ctrl-D"
    };
    println!("connected to {address}; type lines, end with {end_of_input}");
    for line in std::io::stdin().lines() {
        let line = line.context("reading what you typed")?;
        let reply = send_line(&mut writer, &mut reader, &line)?;
        println!("received {reply:?}");
    }
    // ANCHOR_END: modes
    Ok(())
}

// ANCHOR: send_line
/// Sends `message` and a newline, then reads until that newline has come back.
fn send_line(
    writer: &mut impl Write,
    reader: &mut impl BufRead,
    message: &str,
) -> anyhow::Result<String> {
    if message.contains('\n') {
        bail!("a message is one line: it must not contain a newline");
    }
    if let Err(error) = writer.write_all(format!("{message}\n").as_bytes()) {
        if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
            bail!(
                "the server took no more of the message for {} s: it stopped reading, or the line \
                 ({} bytes) is more than the system's buffers hold while its echo waits for \
                 us to read it (this client reads only after sending the whole line): send \
                 shorter lines",
                PATIENCE.as_secs(),
                message.len() + 1
            );
        }
        return Err(anyhow::Error::new(error).context("sending to the server"));
    }

    // One `read` is not one reply. TCP delivers a stream of bytes, not messages: a long reply,
    // or a busy network, can hand us the echo in several pieces. `read_until` keeps reading
    // until a newline has come back, however many reads that takes.
    //
    // From a server that never sends a newline, it would read for ever, into memory: `take`
    // stops it. An echo is exactly what we sent, but a server may answer with something else, a
    // busy line or a goodbye, and that deserves to be shown whole: so the limit is the echo's
    // size (our message and its newline), or a line of text, whichever is longer.
    let echo_bytes = message.len() + 1;
    let limit = echo_bytes.max(MAX_OTHER_LINE);
    // One byte more than the limit is read, so that a reply of exactly `limit` bytes is not
    // taken for a longer one.
    let mut reply = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_until(b'\n', &mut reply)
        .map_err(|error| course::explain::read_error("the server", error))?;
    // Bytes a server misbehaved with are shown with "�" rather than not at all.
    let shown = String::from_utf8_lossy(&reply).into_owned();
    if reply.len() > limit {
        let why = format!(
            "its reply went past {limit} bytes before its line ended, beginning {:?}: is it an \
             echo server?",
            shown.chars().take(40).collect::<String>()
        );
        let not_an_echo = io::Error::new(ErrorKind::InvalidData, why);
        return Err(course::explain::read_error("the server", not_an_echo));
    }
    if reply.last() != Some(&b'\n') {
        bail!("the server closed the connection after sending {shown:?}, before a whole line");
    }
    reply.pop();
    if reply != message.as_bytes() {
        // Without its newline, and nothing else: a `\r` before it is part of the difference.
        bail!(
            "the server answered {:?} instead of echoing {message:?}: is it an echo server, or \
             is it telling you why it will not echo?",
            String::from_utf8_lossy(&reply)
        );
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
// ANCHOR_END: send_line

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "02_echo_client",
    role: Role::Client,
    about: "Lesson 02: sends lines to the echo server and prints what comes back.",
    default_address: "127.0.0.1:65433",
    extra_usage: "[MESSAGE]",
    max_extra_args: 1,
    try_it: "Start the server first, in another terminal:\n  cargo run --bin 02_echo\n\
             Then send one message:\n  cargo run --bin 02_echo_client -- 127.0.0.1:65433 \"Hello, Echo Server!\"\n\
             or leave out the message and type lines; end with Ctrl-D (on Windows, Ctrl-Z then\n\
             Enter).",
};
