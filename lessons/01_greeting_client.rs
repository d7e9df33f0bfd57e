//! Lesson 01: the greeting client.
//!
//! It connects to the greeting server, reads everything the server sends until the server closes
//! the connection, and prints it. Start `01_greeting` first.

use std::io::{self, ErrorKind, Read};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::Context;
use course::cli::{Program, Role};

/// How long to wait for the server to connect or to speak. A network call without a limit can
/// wait forever; a beginner then sees a frozen terminal and no clue.
const PATIENCE: Duration = Duration::from_secs(10);

/// The most this client accepts from the server, in bytes. A greeting is one short line; 64 KiB
/// is thousands of times more than it needs, yet little enough memory to be harmless. Without a
/// limit, a server that sends and sends without closing would fill this client's memory.
const MAX_GREETING_BYTES: usize = 64 * 1024;

fn main() -> course::cli::MainResult {
    let address = PROGRAM.args()?.address;

    // ANCHOR: connect
    let mut stream = TcpStream::connect_timeout(&address, PATIENCE)
        .map_err(|error| course::explain::connect_error(address, error))?;
    stream.set_read_timeout(Some(PATIENCE))?;
    // ANCHOR_END: connect

    // ANCHOR: read
    // The server says its line and closes. `read_to_end` keeps reading until that close (a read
    // that returns 0 bytes), however the bytes were split on their way here. `take` stops it one
    // byte past the limit, so a server that never closes cannot make it read more than that, and
    // each read waits at most PATIENCE. (A server that sends a byte now and then can still keep
    // it a while: a deadline for the whole exchange is lesson 06's subject.)
    let mut received = Vec::new();
    (&mut stream)
        .take(MAX_GREETING_BYTES as u64 + 1)
        .read_to_end(&mut received)
        .map_err(|error| course::explain::read_error("the server", error))?;
    if received.len() > MAX_GREETING_BYTES {
        let why = format!(
            "it sent more than {MAX_GREETING_BYTES} bytes: is it a server that greets with a line?"
        );
        let too_much = io::Error::new(ErrorKind::InvalidData, why);
        return Err(course::explain::read_error("the server", too_much).into());
    }
    let greeting =
        String::from_utf8(received).context("the server sent bytes that are not UTF-8 text")?;
    // `{:?}` shows the text the way Rust would write it, so you can see the `\n` at its end.
    println!("received {greeting:?}");
    // ANCHOR_END: read
    Ok(())
}

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "01_greeting_client",
    role: Role::Client,
    about: "Lesson 01: connects to the greeting server and prints what it says.",
    default_address: "127.0.0.1:65432",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Start the server first, in another terminal:\n  cargo run --bin 01_greeting",
};
