//! Every server in the course, out of file descriptors: it waits for a free one instead of
//! spinning, keeps its log short, and serves again once clients leave.
//!
//! Each server runs under a low limit on open files (`ulimit -n`), and more clients connect than
//! it may hold. A server that holds a socket per client (03, the chat) then finds every `accept`
//! failing at once, until a client leaves. The sequential servers (01, 02, and lesson 06's
//! mistakes) hold one connection at most, so they never get there; they are listed all the same,
//! so that a change that makes them hold connections is caught too. A server added to the course
//! is checked by adding it to [`SERVERS`]. (Lesson 10's servers are in the `async-lessons`
//! package, whose suite compiles this file again with `cfg(async_chat)`, and its own list.)
//!
//! `05_udp_echo` has no connections to accept, and `06_closing` accepts one connection from
//! itself and ends: neither is here.
//!
//! Linux only: the limit is set with `sh`'s `ulimit`, and the server's processor time is read from
//! `/proc`.
#![cfg(target_os = "linux")]

use crate::support;

use std::io::{Read, Write};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use support::{PATIENCE, Server, connect};

/// A server, and how a client can tell that it is served.
struct Case {
    binary: &'static str,
    /// What follows the listening address on its command line.
    args: &'static [&'static str],
    /// A server to start first, without a limit, whose address goes on the command line after
    /// `args`: what a proxy forwards to.
    upstream: Option<&'static str>,
    /// What a client sends first (maybe nothing)...
    send: &'static [u8],
    /// ...and what it must then receive (its first bytes, at least).
    receive: &'static [u8],
    /// Whether the server holds a connection per client, and so runs out of descriptors here.
    runs_out: bool,
    /// Whether it may log a line for each client it cannot serve: a proxy needs a second
    /// descriptor per client, for the upstream server, and says why it closes a client it got
    /// none for. (One line per client, never one per try.)
    logs_each_client: bool,
    /// The start of an answer that says "busy, try again" (lesson 12's 503): a server whose
    /// departed clients' connections are still closing may give it, and the newcomer tries again.
    busy: Option<&'static [u8]>,
}

/// A server that greets, and one that echoes: most cases are one or the other.
const fn greets(binary: &'static str, greeting: &'static [u8]) -> Case {
    serves(binary, &[], b"", greeting, false)
}

const fn serves(
    binary: &'static str,
    args: &'static [&'static str],
    send: &'static [u8],
    receive: &'static [u8],
    runs_out: bool,
) -> Case {
    Case {
        binary,
        args,
        upstream: None,
        send,
        receive,
        runs_out,
        logs_each_client: false,
        busy: None,
    }
}

const ECHOED: &[u8] = b"still there?\n";

/// Every server in the lesson table.
#[cfg(not(async_chat))]
const SERVERS: &[Case] = &[
    greets(env!("CARGO_BIN_EXE_01_greeting"), b"Hello, client!\n"),
    serves(env!("CARGO_BIN_EXE_02_echo"), &[], ECHOED, ECHOED, false),
    serves(
        env!("CARGO_BIN_EXE_03_threaded_echo"),
        &[],
        ECHOED,
        ECHOED,
        true,
    ),
    greets(
        env!("CARGO_BIN_EXE_04_chat"),
        b"* Welcome to the chat! What is your name?\n",
    ),
    serves(env!("CARGO_BIN_EXE_06_timeouts"), &[], ECHOED, ECHOED, true),
    serves(
        env!("CARGO_BIN_EXE_06_mistake_pinned_server"),
        &[],
        ECHOED,
        ECHOED,
        false,
    ),
    // The careless versions of these two die on a failed accept, or ignore the address: that is
    // their lesson. The fixed ones must behave.
    serves(
        env!("CARGO_BIN_EXE_06_mistake_ignored_errors"),
        &["fixed"],
        ECHOED,
        ECHOED,
        false,
    ),
    serves(
        env!("CARGO_BIN_EXE_06_mistake_hard_coded_address"),
        &["fixed"],
        b"",
        b"Hello from ",
        false,
    ),
    serves(
        env!("CARGO_BIN_EXE_07_thread_pool"),
        &[],
        ECHOED,
        ECHOED,
        true,
    ),
    serves(env!("CARGO_BIN_EXE_08_shutdown"), &[], ECHOED, ECHOED, true),
    Case {
        // Whole pieces, so the echo comes back at once.
        args: &["--pieces", "0"],
        upstream: Some(env!("CARGO_BIN_EXE_03_threaded_echo")),
        logs_each_client: true,
        ..serves(
            env!("CARGO_BIN_EXE_09_chaos_proxy"),
            &[],
            ECHOED,
            ECHOED,
            true,
        )
    },
    serves(
        env!("CARGO_BIN_EXE_09_naive_line_server"),
        &[],
        ECHOED,
        b"line 1: still there?\n",
        true,
    ),
    Case {
        // A connection closes gently, reading what the client still sends for a moment (lesson
        // 12), so the descriptors of departed clients come back a little later: a newcomer may
        // hear 503 (no descriptor to open the file with) and try again.
        busy: Some(b"HTTP/1.1 503"),
        ..serves(
            env!("CARGO_BIN_EXE_12_http"),
            &[],
            b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n",
            true,
        )
    },
    Case {
        // Each client needs a second descriptor (a handle for reading), and the departed
        // clients' may not be back yet: a newcomer may hear 421 and try again.
        busy: Some(b"421 "),
        // Its folder is the default one, lessons/14_ftp_site, from the course's own folder.
        ..serves(env!("CARGO_BIN_EXE_14_ftp"), &[], b"", b"220 ", true)
    },
];
#[cfg(async_chat)]
const SERVERS: &[Case] = &[
    serves(
        env!("CARGO_BIN_EXE_10_async_echo"),
        &[],
        ECHOED,
        ECHOED,
        true,
    ),
    greets(
        env!("CARGO_BIN_EXE_10_async_chat"),
        b"* Welcome to the chat! What is your name?\n",
    ),
];

/// The servers' limit on open files. Small, so that a dozen clients reach it, and the test
/// itself, which holds every client's socket for all servers at once, stays within its share of
/// the 256 open files a process may have on macOS.
const OPEN_FILES: usize = 12;
/// How many clients connect at once: more than a server under [`OPEN_FILES`] can hold, since
/// its standard streams and its listening socket take descriptors too.
const CLIENTS: usize = OPEN_FILES;
/// How long the server's processor time is measured while it is out of descriptors.
const WINDOW: Duration = Duration::from_millis(1500);
/// The most processor time a waiting server may use, as a share of [`WINDOW`]. A server that
/// pauses uses next to none; one that spins uses all it gets, a whole core when one is free.
const MOST_CPU_SHARE: f64 = 0.1;
/// The most lines a server may write to stderr in the whole test: the failure, and its end.
const MOST_ERROR_LINES: usize = 4;

#[test]
fn every_server_waits_out_a_lack_of_file_descriptors() {
    // All servers at once, so the test takes one window, not one per server; each check takes
    // its clients' share of the socket budget first, so together they fit in 256 open files.
    let failures: Vec<String> = thread::scope(|scope| {
        let checks: Vec<_> = SERVERS
            .iter()
            .map(|case| (case.binary, scope.spawn(move || check(case))))
            .collect();
        checks
            .into_iter()
            .filter_map(|(binary, check)| match check.join() {
                Ok(Ok(())) => None,
                Ok(Err(failure)) => Some(format!("{binary}: {failure}")),
                Err(panic) => Some(format!("{binary}: {}", panic_text(&*panic))),
            })
            .collect()
    });
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

fn check(case: &Case) -> Result<(), String> {
    // `exec` replaces the shell with the server, so the process id is the server's.
    let _sockets = support::sockets(CLIENTS + 1);
    let upstream = case.upstream.map(Server::start_on_any_port);
    let upstream_address = upstream.as_ref().map(|server| server.address.to_string());
    let script = format!("ulimit -n {OPEN_FILES} && exec \"$0\" 127.0.0.1:0 \"$@\"");
    let mut command_line = vec!["-c", &script, case.binary];
    command_line.extend(case.args);
    command_line.extend(upstream_address.as_deref());
    let server = Server::start("sh", &command_line);
    let clients: Vec<_> = (0..CLIENTS).map(|_| connect(server.address)).collect();

    // The clients past the limit wait in the backlog: a server that retries `accept` without a
    // pause spins now. Measuring it takes a while by nature; this is not a wait for the server.
    let (cpu_before, wall_before) = (cpu_time(server.pid()), Instant::now());
    thread::sleep(WINDOW);
    let (cpu, wall) = (cpu_time(server.pid()) - cpu_before, wall_before.elapsed());
    if cpu.as_secs_f64() > wall.as_secs_f64() * MOST_CPU_SHARE {
        return Err(format!(
            "it used {cpu:?} of processor time in {wall:?} while {CLIENTS} clients waited, under \
             `ulimit -n {OPEN_FILES}`: does its accept loop retry without a pause?"
        ));
    }

    drop(clients);
    // A proxy may take a newcomer while the departed clients' upstream connections are still
    // closing, find no descriptor for its own upstream connection, and close it: the newcomer
    // then tries again, as a person would; so does one told the server is busy. Every other
    // server must serve its first try.
    let tries = if case.logs_each_client || case.busy.is_some() {
        20
    } else {
        1
    };
    let mut received = vec![0; case.receive.len()];
    for try_number in 1..=tries {
        let mut newcomer = connect(server.address);
        let served = newcomer
            .write_all(case.send)
            .and_then(|()| newcomer.read_exact(&mut received));
        let busy = case.busy.is_some_and(|busy| received.starts_with(busy));
        match served {
            Ok(()) if busy && try_number < tries => thread::sleep(course::accept::PAUSE),
            Ok(()) => break,
            Err(_) if try_number < tries => thread::sleep(course::accept::PAUSE),
            Err(error) => {
                return Err(format!(
                    "once the clients left, a newcomer got no answer within {PATIENCE:?} \
                     ({tries} tries): {error}"
                ));
            }
        }
    }
    if received != case.receive {
        return Err(format!(
            "a newcomer received {:?} where {:?} was expected",
            String::from_utf8_lossy(&received),
            String::from_utf8_lossy(case.receive)
        ));
    }

    let errors = server.error_lines_so_far();
    let most_error_lines = match case.logs_each_client {
        true => MOST_ERROR_LINES + CLIENTS + 1,
        false => MOST_ERROR_LINES,
    };
    if errors.len() > most_error_lines {
        return Err(format!(
            "it wrote {} lines to stderr, where at most {most_error_lines} say all there is to \
             say; the first ones:\n{}",
            errors.len(),
            errors[..errors.len().min(most_error_lines + 2)].join("\n")
        ));
    }
    // Its ordinary log says something per client; it must not say something per try.
    let output = server.output_lines_so_far();
    if output.len() > 3 * CLIENTS + 10 {
        return Err(format!(
            "it printed {} lines for {} clients: {:?}...",
            output.len(),
            CLIENTS + 1,
            &output[..10]
        ));
    }
    let ran_out = errors.iter().any(|line| line.contains("ulimit -n"));
    if case.runs_out && !ran_out {
        return Err(format!(
            "it never said it ran out of file descriptors, so the test did not test it: {errors:?}"
        ));
    }
    Ok(())
}

/// How much processor time process `pid` has used so far, from `/proc/PID/stat`.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|error| panic!("cannot read /proc/{pid}/stat: {error}"));
    // The process name, in parentheses, may hold spaces: count the fields after it. The third
    // field is the state; user time and system time are the 14th and 15th, in clock ticks.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> u64 {
        fields
            .get(index - 3)
            .and_then(|field| field.parse().ok())
            .unwrap_or_else(|| panic!("no field {index} in /proc/{pid}/stat: {stat}"))
    };
    Duration::from_secs_f64((ticks(14) + ticks(15)) as f64 / clock_ticks_per_second())
}

/// The unit of `/proc`'s times: 100 a second on nearly every Linux; `getconf` knows for sure.
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<String>(), panic.downcast_ref::<&str>()) {
        (Some(text), _) => text.clone(),
        (_, Some(text)) => text.to_string(),
        _ => "panicked".into(),
    }
}
