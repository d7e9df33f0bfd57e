//! Shows what happens when Nagle's algorithm (on the sender) meets delayed acknowledgements (on
//! the receiver): the classic "write, write, read" stall that chapter 11 found in its chats.
//!
//! A client sends a short question; the server answers with two short writes (as a chat server
//! might send two lines to one client), and the client waits for both. 40 questions, one at a
//! time, first with Nagle's algorithm on (the default), then with `set_nodelay(true)` on the
//! server's socket. It prints how long each question took to be fully answered.
//!
//!     cargo run --release --example nagle_delayed_ack
//!
//! Any system. The stall is as long as the receiver's delayed-ACK timer, which differs between
//! systems (Linux's is at least 40 ms: `TCP_DELACK_MIN` in the kernel's include/net/tcp.h).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;

const QUESTIONS: usize = 40;

fn main() -> course::cli::MainResult {
    course::cli::no_arguments("nagle_delayed_ack")?;
    for nodelay in [false, true] {
        let mut took = measure(nodelay)?;
        took.sort();
        let at = |percent: usize| took[(took.len() - 1) * percent / 100];
        println!(
            "set_nodelay({nodelay:5}): {QUESTIONS} questions, each answered in two writes: \
             p50 {:.2?}, p90 {:.2?}, max {:.2?}",
            at(50),
            at(90),
            at(100)
        );
    }
    Ok(())
}

/// How long each question took to be fully answered, over loopback.
fn measure(nodelay: bool) -> anyhow::Result<Vec<Duration>> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a listener")?;
    let mut client = TcpStream::connect(listener.local_addr()?).context("connecting")?;
    let (server, _) = listener.accept().context("accepting")?;
    server.set_nodelay(nodelay)?;
    let answering = thread::spawn(move || -> std::io::Result<()> {
        let mut writer = server.try_clone()?;
        for question in BufReader::new(server).lines() {
            let question = question?;
            // Two small writes for one answer: the second waits, under Nagle's algorithm, until
            // the first is acknowledged.
            // (Each line goes in one `write_all`: `writeln!` on an unbuffered stream may make
            // several writes of its own, one per piece of the format.)
            writer.write_all(format!("first half of the answer to {question}\n").as_bytes())?;
            writer.write_all(b"second half\n")?;
        }
        Ok(())
    });
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut answers = BufReader::new(client.try_clone()?);
    let mut took = Vec::new();
    let mut line = String::new();
    for question in 0..QUESTIONS {
        let asked = Instant::now();
        client.write_all(format!("question {question}\n").as_bytes())?;
        for _ in 0..2 {
            line.clear();
            answers.read_line(&mut line).context("reading the answer")?;
        }
        took.push(asked.elapsed());
    }
    drop(answers);
    client.shutdown(std::net::Shutdown::Both)?;
    answering
        .join()
        .expect("the server thread does not panic")?;
    Ok(took)
}
