//! Measures what a thread per client costs: starts lesson 03's server, connects more and more
//! clients that each stay connected, and prints the server's threads and memory as it goes.
//!
//! Run it (Linux; it reads the server's numbers from /proc):
//!
//!     cargo build --release --bin 03_threaded_echo
//!     cargo run --release --example hold_clients -- 5000
//!
//! Both processes hold one file descriptor per client, so `ulimit -n` must be above the count.
//!
//! A second argument names another echo server to measure the same way, such as lesson 10's,
//! which holds each client with a task instead of a thread:
//!
//!     cargo build --release --bin 10_async_echo
//!     cargo run --release --example hold_clients -- 5000 10_async_echo
//!
//! A chat server (`04_chat`, `10_async_chat`) is measured with clients that connect, read the
//! welcome, and stay without choosing a name, so that they hear nothing from the room; at the
//! end each one sends a line and must get an answer.

#[path = "support/server.rs"]
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// After how many clients the numbers are printed.
const CHECKPOINTS: &[usize] = &[1, 100, 500, 1000, 2000, 5000, 10_000, 20_000];

fn main() -> course::cli::MainResult {
    let arguments = course::cli::arguments()?;
    let most = course::cli::MOST_AT_ONCE;
    let wanted = match arguments.first() {
        Some(count) => course::cli::whole_number("CLIENTS", count, 1..=most)?,
        None => 2000,
    };
    if let Some(extra) = arguments.get(2) {
        let why =
            format!("hold_clients takes at most CLIENTS and a SERVER's name, not also {extra:?}");
        return Err(anyhow::anyhow!(why).into());
    }
    let server_name = arguments
        .get(1)
        .cloned()
        .unwrap_or_else(|| "03_threaded_echo".into());
    // Dropping the server, on the way out, stops it.
    let server = start_server(&server_name, wanted)?;
    Ok(measure(&server, wanted)?)
}

struct Server {
    started: support::Server,
    address: SocketAddr,
    /// A chat server, rather than an echo server.
    chat: bool,
}

fn start_server(name: &str, wanted: usize) -> anyhow::Result<Server> {
    let chat = name.contains("chat");
    // A chat server takes its limit on connections after the address (a seat for each client),
    // then how long a newcomer may stay without a name: an hour, so that no nameless client is
    // sent away mid-measurement.
    let limit = wanted.to_string();
    let args: &[&str] = if chat { &[&limit, "3600"] } else { &[] };
    let started = support::start(name, args)?;
    Ok(Server {
        address: started.address,
        started,
        chat,
    })
}

fn measure(server: &Server, wanted: usize) -> anyhow::Result<()> {
    println!("clients  threads  resident memory  per client  reserved address space  elapsed");
    let mut clients = Vec::with_capacity(wanted);
    let started = Instant::now();
    for number in 1..=wanted {
        match connect_and_echo(server, number) {
            Ok(stream) => clients.push(stream),
            // Not even one client held: there is nothing to measure.
            Err(error) if clients.is_empty() => {
                return Err(error.context(
                    "the first client was not served as an echo or chat client: is the server \
                     an echo server or a chat server?",
                ));
            }
            Err(error) => {
                println!("stopped at client {number}: {error:#}");
                break;
            }
        }
        if CHECKPOINTS.contains(&number) || number == wanted {
            let numbers = server_numbers(server.started.id())?;
            println!(
                "{number:>7}  {:>7}  {:>11.1} MiB  {:>6.1} KiB  {:>18.1} GiB  {:>7.2?}",
                numbers.threads,
                numbers.resident_kib as f64 / 1024.0,
                numbers.resident_kib as f64 / number as f64,
                numbers.virtual_kib as f64 / 1024.0 / 1024.0,
                started.elapsed()
            );
        }
    }
    // Every client still connected gets an echo: held does not mean stuck.
    for (number, stream) in clients.iter_mut().enumerate() {
        echo_once(stream, number + 1, server.chat)
            .context("an early client stopped being served")?;
    }
    println!("all {} clients still answered at the end", clients.len());
    Ok(())
}

fn connect_and_echo(server: &Server, number: usize) -> anyhow::Result<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&server.address, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    if server.chat {
        // The welcome, `* Welcome to the chat! What is your name?`: the client is in.
        let welcome = chat_line(&mut stream)?;
        if !welcome.starts_with("* Welcome") {
            bail!("client {number} was not welcomed: {welcome:?}");
        }
    } else {
        echo_once(&mut stream, number, false)?;
    }
    Ok(stream)
}

/// One line from a chat server, read a byte at a time so that nothing after it is taken.
fn chat_line(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0];
    while byte[0] != b'\n' {
        stream
            .read_exact(&mut byte)
            .map_err(|error| course::explain::read_error("the server", error))?;
        line.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_string())
}

fn echo_once(stream: &mut TcpStream, number: usize, chat: bool) -> anyhow::Result<()> {
    if chat {
        // A line of the wrong shape for a name gets an error line back.
        stream.write_all(b"/who\n")?;
        let answer = chat_line(stream)?;
        if !answer.starts_with("! ") {
            bail!("client {number} got a wrong answer: {answer:?}");
        }
        return Ok(());
    }
    let line = format!("client {number}\n");
    stream.write_all(line.as_bytes())?;
    let mut echo = vec![0; line.len()];
    stream
        .read_exact(&mut echo)
        .map_err(|error| course::explain::read_error("the server", error))?;
    if echo != line.as_bytes() {
        bail!("client {number} got a wrong echo");
    }
    Ok(())
}

/// What the server process uses, from /proc/PID/status.
struct Numbers {
    threads: u64,
    /// Memory actually in use (RSS): what the threads' stacks really touched.
    resident_kib: u64,
    /// Address space reserved (VmSize): each thread reserves its whole stack up front.
    virtual_kib: u64,
}

fn server_numbers(pid: u32) -> anyhow::Result<Numbers> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("read the server's /proc status (this measurement needs Linux)")?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let line = status
            .lines()
            .find(|line| line.starts_with(name))
            .with_context(|| format!("no {name} in /proc status"))?;
        let number = line[name.len()..].split_whitespace().next().unwrap_or("");
        Ok(number.parse()?)
    };
    Ok(Numbers {
        threads: field("Threads:")?,
        resident_kib: field("VmRSS:")?,
        virtual_kib: field("VmSize:")?,
    })
}
