//! A lesson that fails says what happened and what to do, with the system's words as the cause,
//! and no backtrace, even where `RUST_BACKTRACE=1` is set (as it is on many learners' machines).

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Every lesson program. A new lesson adds its binaries here.
///
/// Lesson 10's programs are in the `async-lessons` package, whose own suite compiles this file
/// again with `cfg(async_chat)` set (see its `build.rs`), and so checks them with the same tests.
#[cfg(not(async_chat))]
const LESSONS: &[&str] = &[
    env!("CARGO_BIN_EXE_01_greeting"),
    env!("CARGO_BIN_EXE_01_greeting_client"),
    env!("CARGO_BIN_EXE_02_echo"),
    env!("CARGO_BIN_EXE_02_echo_client"),
    env!("CARGO_BIN_EXE_03_threaded_echo"),
    env!("CARGO_BIN_EXE_04_chat"),
    env!("CARGO_BIN_EXE_04_chat_client"),
    env!("CARGO_BIN_EXE_05_udp_echo"),
    env!("CARGO_BIN_EXE_05_udp_echo_client"),
    env!("CARGO_BIN_EXE_05_udp_sizes"),
    env!("CARGO_BIN_EXE_06_timeouts"),
    env!("CARGO_BIN_EXE_06_closing"),
    env!("CARGO_BIN_EXE_06_mistake_pinned_server"),
    env!("CARGO_BIN_EXE_06_mistake_no_timeout"),
    env!("CARGO_BIN_EXE_06_mistake_ignored_errors"),
    env!("CARGO_BIN_EXE_06_mistake_hard_coded_address"),
    env!("CARGO_BIN_EXE_07_thread_pool"),
    env!("CARGO_BIN_EXE_08_shutdown"),
    env!("CARGO_BIN_EXE_09_chaos_proxy"),
    env!("CARGO_BIN_EXE_09_naive_line_server"),
    env!("CARGO_BIN_EXE_11_load"),
    env!("CARGO_BIN_EXE_12_http"),
];
#[cfg(async_chat)]
const LESSONS: &[&str] = &[
    env!("CARGO_BIN_EXE_10_async_echo"),
    env!("CARGO_BIN_EXE_10_async_chat"),
];

/// A client, to connect where nothing listens. (Lesson 10 has none of its own.)
#[cfg(not(async_chat))]
const A_CLIENT: &str = env!("CARGO_BIN_EXE_01_greeting_client");
/// A server, to listen where another already does.
#[cfg(not(async_chat))]
const A_SERVER: &str = env!("CARGO_BIN_EXE_02_echo");
#[cfg(async_chat)]
const A_SERVER: &str = env!("CARGO_BIN_EXE_10_async_echo");

/// Every failure here happens at once; this only keeps a broken lesson from hanging the test.
const PATIENCE: Duration = Duration::from_secs(10);

/// Runs `binary` with backtraces asked for every way there is, and waits for it to fail.
fn run_with_backtraces<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
    binary: &str,
    args: &[S],
) -> Output {
    let child = Command::new(binary)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {binary}: {error}"));
    output_within_patience(child, &format!("{binary} {args:?}"))
}

/// Waits for `child` to end, at most [`PATIENCE`], and gives its output; `what` names it if it
/// does not end.
fn output_within_patience(mut child: Child, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("ask whether it ended").is_none() {
        if started.elapsed() > PATIENCE {
            let _ = child.kill();
            panic!("{what} did not end within {PATIENCE:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("collect its output")
}

/// Asserts a clean failure: a non-zero exit, `Error: ` and `wanted` on stderr, no backtrace.
fn assert_clean_failure(output: &Output, wanted: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "it should fail:\n{stderr}");
    assert!(stderr.starts_with("Error: "), "{stderr}");
    assert!(stderr.contains(wanted), "expected {wanted:?} in:\n{stderr}");
    let lower = stderr.to_lowercase();
    assert!(!lower.contains("backtrace"), "a backtrace:\n{stderr}");
    assert!(!lower.contains("panicked"), "a panic:\n{stderr}");
    stderr
}

#[test]
fn a_bad_address_is_a_sentence_in_every_lesson() {
    for &binary in LESSONS {
        let output = run_with_backtraces(binary, &["nonsense"]);
        assert_clean_failure(&output, "\"nonsense\" is not an address");
    }
}

/// `--help` into a pipe whose reader has gone (`--help | head -1`) ends with 0, not a panic
/// (`println!` panics on a closed stdout). The reader is dropped before the program starts
/// writing, almost always; where it is not, the help goes into the pipe and the exit is 0 too.
#[test]
fn help_into_a_closed_pipe_is_no_panic_in_every_lesson() {
    for &binary in LESSONS {
        let mut child = Command::new(binary)
            .arg("--help")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {binary}: {error}"));
        drop(child.stdout.take());
        let output = output_within_patience(child, &format!("{binary} --help"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{binary} --help: {stderr}");
    }
}

/// An argument that is not UTF-8 (a byte 0xFF, which a Unix command line can carry) is refused in
/// words by every lesson: `std::env::args` panicked on it before.
#[cfg(unix)]
#[test]
fn an_argument_that_is_not_text_is_a_sentence_in_every_lesson() {
    use std::os::unix::ffi::OsStrExt;
    for &binary in LESSONS {
        let output = run_with_backtraces(binary, &[std::ffi::OsStr::from_bytes(b"127.0.0.1:\xff")]);
        assert_clean_failure(&output, "is not UTF-8 text");
    }
}

#[test]
#[cfg(not(async_chat))]
fn a_refused_connection_is_explained_with_its_cause() {
    // A port that nothing listens on.
    let (_held, address) = crate::support::closed_port();
    let output = run_with_backtraces(A_CLIENT, &[&address.to_string()]);
    let stderr = assert_clean_failure(&output, "connection refused: nothing is listening there");
    assert!(stderr.contains("\n\nCaused by:\n    "), "{stderr}");
}

#[test]
fn an_address_in_use_is_explained_with_its_cause() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let address = taken.local_addr().expect("its address").to_string();
    let output = run_with_backtraces(A_SERVER, &[&address]);
    let stderr = assert_clean_failure(&output, "address in use");
    assert!(stderr.contains("\n\nCaused by:\n    "), "{stderr}");
}
