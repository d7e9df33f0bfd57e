//! Lesson 04: the chat client.
//!
//! Two things happen at once in a chat: you type, and other people's lines arrive, even while you
//! are in the middle of typing. So this client runs two threads: one sends each line you type to
//! the server, the other prints each line the server sends as soon as it arrives. `main` waits
//! for whichever of them finishes first.
//!
//! Nothing in it is specific to the chat: it works with every line-based server in the course, so
//! you have a client even without `nc` or `telnet`. Start `04_chat` (or `01_greeting`, `02_echo`,
//! `03_threaded_echo`) first.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use course::chat::MAX_LINE_BYTES;
use course::cli::{Program, Role};

/// How long to wait for the server to connect, and to close after you said goodbye.
const PATIENCE: Duration = Duration::from_secs(10);

/// The longest line accepted from a server, in bytes, not counting its line ending. The chat's
/// longest are the welcome and the answer to `/who` with a thousand people in the room, about
/// 22 KB (a room of about 2,980 or more would go past this limit). A server that
/// sends more without a newline is not talking in lines, and this client stops rather than keep
/// everything it sends in memory.
const MAX_SERVER_LINE_BYTES: usize = 64 * 1024;

// ANCHOR: finished
/// Why one of the two threads stopped.
enum Finished {
    /// You typed `/quit`. It went to the server too: the chat server says goodbye and closes.
    Quit,
    /// Your input ended: Ctrl-D (Ctrl-Z then Enter on Windows), or the end of a piped file.
    InputEnded,
    /// The server closed the connection (`Ok`), or reading from it failed (`Err`).
    ServerDone(io::Result<()>),
}
// ANCHOR_END: finished

// ANCHOR: main
fn main() -> course::cli::MainResult {
    let address = PROGRAM.args()?.address;
    let stream = TcpStream::connect_timeout(&address, PATIENCE)
        .map_err(|error| course::explain::connect_error(address, error))?;
    // Both threads use the one connection: `&TcpStream` can read and write, so they share it
    // through an `Arc`. Reading and writing at the same time is fine: they are separate
    // directions of the connection.
    let connection = Arc::new(stream);
    // Windows ends typed input with Ctrl-Z then Enter; everywhere else it is Ctrl-D.
    let end_of_input = if cfg!(windows) {
        "Ctrl-Z then Enter"
    } else {
        "Ctrl-D"
    };
    println!(
        "-- connected to {address}; type a line and press Enter to send it; /quit or {end_of_input} leaves"
    );

    let (finished, first_to_finish) = mpsc::channel();
    let for_printer = Arc::clone(&connection);
    let printer_finished = finished.clone();
    thread::Builder::new()
        .name("printer".into())
        .spawn(move || {
            let result = print_server_lines(&for_printer);
            let _ = printer_finished.send(Finished::ServerDone(result));
        })
        .context("starting the thread that prints the server's lines")?;
    let for_typist = Arc::clone(&connection);
    thread::Builder::new()
        .name("typist".into())
        .spawn(move || {
            if let Some(why) = send_typed_lines(&for_typist) {
                let _ = finished.send(why);
            }
        })
        .context("starting the thread that sends your lines")?;

    // Returning from `main` ends the program even if the other thread is still waiting, for
    // your typing or for the server: no need to wake it.
    let goodbye = match first_to_finish.recv() {
        Ok(Finished::ServerDone(result)) => {
            result.map_err(|error| course::explain::read_error("the server", error))?;
            "the server closed the connection"
        }
        Ok(Finished::Quit) => {
            wait_for_the_server_to_close(&connection, &first_to_finish)?;
            "you typed /quit, and the server closed the connection"
        }
        Ok(Finished::InputEnded) => {
            wait_for_the_server_to_close(&connection, &first_to_finish)?;
            "your input ended, and the server closed the connection"
        }
        // (`bail!` would not fit here: it makes an `anyhow` error, and `main` returns its own.)
        Err(_) => return Err(anyhow::anyhow!("both threads stopped without saying why").into()),
    };
    println!("-- {goodbye}");
    Ok(())
}
// ANCHOR_END: main

// ANCHOR: half_close
/// Says we will send nothing more, then waits until the server has sent all it has to say.
fn wait_for_the_server_to_close(
    connection: &TcpStream,
    first_to_finish: &mpsc::Receiver<Finished>,
) -> anyhow::Result<()> {
    // A half-close: the server reads "end of stream", but our side stays open for reading. A
    // server may still owe us lines (an echo, a goodbye); closing outright would lose them.
    // If it fails, the connection is already gone, and the printer thread is about to say so.
    let _ = connection.shutdown(Shutdown::Write);
    match first_to_finish.recv_timeout(PATIENCE) {
        Ok(Finished::ServerDone(result)) => {
            result.map_err(|error| course::explain::read_error("the server", error))
        }
        Ok(_) => bail!("the typing thread finished twice"),
        Err(_) => {
            bail!("the server did not close the connection within {PATIENCE:?} of your goodbye")
        }
    }
}
// ANCHOR_END: half_close

// ANCHOR: printer
/// Prints each line the server sends as soon as it arrives, until the server closes.
fn print_server_lines(connection: &TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(connection);
    let mut line = Vec::new();
    // Room for the longest line and its `\r\n`. `read_until` alone would read a line without
    // end for as long as the server sends, into memory: `take` stops it there.
    let most = MAX_SERVER_LINE_BYTES as u64 + 2;
    loop {
        line.clear();
        if (&mut reader).take(most).read_until(b'\n', &mut line)? == 0 {
            return Ok(()); // 0 bytes: the server closed its side.
        }
        let ending = if line.ends_with(b"\r\n") {
            2
        } else {
            usize::from(line.ends_with(b"\n"))
        };
        if line.len() - ending > MAX_SERVER_LINE_BYTES {
            let why = format!(
                "the server sent a line longer than {MAX_SERVER_LINE_BYTES} bytes: is it a \
                 server that talks in lines of text?"
            );
            return Err(io::Error::new(ErrorKind::InvalidData, why));
        }
        // A server of the course sends UTF-8; anything else is shown as `�`, not refused. The
        // last piece before a close may lack its `\n`: it is printed all the same.
        let text = String::from_utf8_lossy(&line);
        println!("{}", text.trim_end_matches(['\n', '\r']));
    }
}
// ANCHOR_END: printer

// ANCHOR: typist
/// Sends each line you type to the server. Says why it stopped, or `None` if the connection
/// broke (the printer thread sees that as well, and reports it).
fn send_typed_lines(mut connection: &TcpStream) -> Option<Finished> {
    let mut input = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        // Bytes, not `String`: what you type goes to the server as it is, like `nc` would send
        // it. Judging it (is it UTF-8? too long?) is the server's job.
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return Some(Finished::InputEnded),
            Ok(_) => {}
            Err(error) => {
                eprintln!("-- cannot read your input: {error}");
                return Some(Finished::InputEnded);
            }
        }
        // The last line of a piped file may lack its `\n`; servers act on whole lines only.
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        if connection.write_all(&line).is_err() {
            return None;
        }
        if is_quit(&line) {
            return Some(Finished::Quit);
        }
    }
}

/// Whether the server takes `line` for `/quit`, as it reads a command: the line without its `\n`
/// (and a `\r` just before it), UTF-8 text of at most `MAX_LINE_BYTES`, that is `/quit`, or
/// `/quit`, a space and anything. (" /quit" is a message to the room, "/quit\t" an unknown
/// command: the server stays, and so does the client.)
fn is_quit(line: &[u8]) -> bool {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    text.len() <= MAX_LINE_BYTES
        && std::str::from_utf8(text).is_ok_and(|text| text == "/quit" || text.starts_with("/quit "))
}
// ANCHOR_END: typist

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "04_chat_client",
    role: Role::Client,
    about: "Lesson 04: sends the lines you type to a server, and prints its lines as they arrive.",
    default_address: "127.0.0.1:65435",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Start the chat server first, in another terminal:\n  cargo run --bin 04_chat\n\
             Then run this client in two or more terminals. Leave with /quit or Ctrl-D\n\
             (on Windows, Ctrl-Z then Enter).\n\
             It talks to the other lessons' servers too, e.g. the echo server:\n  \
             cargo run --bin 04_chat_client -- 127.0.0.1:65433",
};
