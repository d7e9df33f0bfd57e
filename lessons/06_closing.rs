//! Lesson 06: when does a connection close?
//!
//! A socket closes when the last handle to it is dropped. This program shows that, and the two
//! ways it goes wrong: a copy of the handle kept somewhere, and a thread that never ends. Then it
//! shows `shutdown`, which closes the connection whoever holds a handle, or only one direction
//! of it: a half-close. It plays both sides itself, over loopback, and prints what the client
//! sees each time.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::cli::{Program, Role};

/// How long the client waits to see the connection close before it reports it still open.
const LOOK: Duration = Duration::from_millis(500);

fn main() -> course::cli::MainResult {
    let address = PROGRAM.args()?.address;
    let listener =
        TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);

    // ANCHOR: drop
    println!("1. The server drops its stream.");
    let (client, server) = connect(&listener)?;
    drop(server);
    println!("   the client sees: {}", what_the_client_sees(&client));
    // ANCHOR_END: drop

    // ANCHOR: clone
    println!("2. The server keeps a copy (try_clone), and drops the original.");
    let (client, server) = connect(&listener)?;
    let copy = server.try_clone().context("copying the stream")?;
    drop(server);
    println!("   the client sees: {}", what_the_client_sees(&client));
    println!("   Then the server drops the copy too.");
    drop(copy);
    println!("   the client sees: {}", what_the_client_sees(&client));
    // ANCHOR_END: clone

    // ANCHOR: thread
    println!("3. A thread waits to read from a copy, and the server drops its own stream.");
    let (client, server) = connect(&listener)?;
    let mut for_the_thread = server.try_clone().context("copying the stream")?;
    // The client never sends, so this thread waits for ever, and its copy is never dropped.
    thread::spawn(move || for_the_thread.read(&mut [0; 16]));
    // A real server keeps one more handle for exactly this case, to end the connection later.
    let to_end_it = server.try_clone().context("copying the stream")?;
    drop(server);
    println!("   the client sees: {}", what_the_client_sees(&client));
    // `shutdown` acts on the connection, not on one handle: whoever else holds a copy, the
    // client is told the connection is over.
    println!("   Then the server calls shutdown(Both) on the connection.");
    to_end_it
        .shutdown(Shutdown::Both)
        .context("shutting the connection down")?;
    println!("   the client sees: {}", what_the_client_sees(&client));
    // ANCHOR_END: thread

    // ANCHOR: half_close
    println!("4. The client sends a question and half-closes: shutdown(Write).");
    let (mut client, mut server) = connect(&listener)?;
    client.write_all(b"how many bytes is this?")?;
    client.shutdown(Shutdown::Write)?;
    // The server reads to the end of the stream: the half-close is how it knows the question
    // is complete. Its own direction is still open, so it can answer.
    let mut question = Vec::new();
    server.read_to_end(&mut question)?;
    server.write_all(format!("{} bytes\n", question.len()).as_bytes())?;
    drop(server);
    let mut answer = String::new();
    client.read_to_string(&mut answer)?;
    println!("   the server read to the end, answered, and the client got: {answer:?}");
    // ANCHOR_END: half_close
    Ok(())
}

/// Connects a client to `listener`, and accepts it: both ends of one connection.
fn connect(listener: &TcpListener) -> anyhow::Result<(TcpStream, TcpStream)> {
    let client = TcpStream::connect(listener.local_addr()?).context("connecting")?;
    let (server, _) = listener.accept().context("accepting")?;
    client.set_read_timeout(Some(LOOK))?;
    Ok((client, server))
}

/// Reads once, and says what that means: closed, still open, or data.
fn what_the_client_sees(mut client: &TcpStream) -> String {
    match client.read(&mut [0; 64]) {
        Ok(0) => "the end of the stream: closed".to_string(),
        Ok(count) => format!("{count} bytes"),
        Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            format!(
                "nothing for {} ms: the connection is still open",
                LOOK.as_millis()
            )
        }
        Err(error) => format!("an error: {error}"),
    }
}

const PROGRAM: Program = Program {
    name: "06_closing",
    role: Role::Server,
    about: "Lesson 06: shows when dropping a stream closes a connection, and when it does not.",
    default_address: "127.0.0.1:0",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "It talks only to itself, on the address given (any free port by default):\n  \
             cargo run --bin 06_closing",
};
