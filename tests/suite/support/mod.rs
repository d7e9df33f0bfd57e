//! Starting the lesson binaries from tests, and never leaving one behind.
//!
//! Every wait here has a limit, so a broken lesson fails its test in seconds instead of hanging
//! `cargo test`, and every process a test starts is killed when the test ends, pass or fail.

#![allow(dead_code)] // each test file uses its own part of this module

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use course::started::StartedServer;

/// How long a test waits for anything: a listening line, a reply, a process to finish.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// How many times each known-wrong answer in the checks' proofs is run: see
/// [`course::check::proof_repeats`]. Every run must fail with the same words.
pub fn proof_repeats() -> usize {
    course::check::proof_repeats()
}

/// A server process started by a test (with the course's own [`StartedServer`], as lesson 11 and
/// the benchmarks start theirs). Dropping it kills the process.
pub struct Server {
    started: StartedServer,
    /// The address from the server's `listening on ...` line.
    pub address: SocketAddr,
}

impl Server {
    /// Starts `binary` (a path from `env!("CARGO_BIN_EXE_...")`) with `args`, and waits for its
    /// first stdout line to say `listening on ADDRESS`.
    pub fn start(binary: &str, args: &[&str]) -> Server {
        let mut command = Command::new(binary);
        command.args(args);
        let started = StartedServer::start(command, PATIENCE, true)
            .unwrap_or_else(|problem| panic!("{problem:#}"));
        Server {
            address: started.address,
            started,
        }
    }

    /// Starts `binary` on `127.0.0.1:0`, so the system picks a free port.
    pub fn start_on_any_port(binary: &str) -> Server {
        Server::start(binary, &["127.0.0.1:0"])
    }

    /// The server's next stdout line, waiting at most [`PATIENCE`].
    pub fn next_line(&self) -> String {
        match self.started.stdout.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("the server printed nothing for {PATIENCE:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its stdout (exited?)"),
        }
    }

    /// The server's next stderr line, waiting at most [`PATIENCE`].
    pub fn next_error_line(&self) -> String {
        match self.stderr().recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(_) => panic!("the server printed no error line within {PATIENCE:?}"),
        }
    }

    /// A connection to the server with read and write timeouts set.
    pub fn connect(&self) -> TcpStream {
        connect(self.address)
    }
}

/// A TCP connection to `address` with read and write timeouts of [`PATIENCE`].
pub fn connect(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&address, PATIENCE)
        .unwrap_or_else(|error| panic!("cannot connect to {address}: {error}"));
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("set a read timeout");
    stream
        .set_write_timeout(Some(PATIENCE))
        .expect("set a write timeout");
    stream
}

/// A server that never ends its line: it accepts `clients` clients, sends each `bytes`, then
/// holds each connection until its client has gone. For proving that a client bounds what it
/// accepts. Join the handle at the end of the test, so no server thread is left behind.
pub fn flooding_server(clients: usize, bytes: Vec<u8>) -> (SocketAddr, thread::JoinHandle<()>) {
    sending_server(clients, bytes, AfterSending::HoldOpen)
}

/// What a [`sending_server`] does once it has sent its bytes.
#[derive(Clone, Copy)]
pub enum AfterSending {
    /// Keeps its side open until the client has gone: no end of stream ever comes.
    HoldOpen,
    /// Ends its side of the stream (`shutdown(Write)`), so the client reads the bytes and then
    /// the end, and waits for the client to go.
    EndStream,
}

/// A server that accepts `clients` clients and sends each `bytes`, then does `after`. Join the
/// handle at the end of the test, so no server thread is left behind. The clients have
/// [`PATIENCE`] in all, from the start, to connect; if one never comes, the server panics and
/// says so, so that joining it never hangs.
pub fn sending_server(
    clients: usize,
    bytes: Vec<u8>,
    after: AfterSending,
) -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a flooding server");
    let address = listener.local_addr().expect("its address");
    let bytes = std::sync::Arc::new(bytes);
    listener
        .set_nonblocking(true)
        .expect("a listener that can wait with a deadline");
    let serving = thread::spawn(move || {
        let deadline = std::time::Instant::now() + PATIENCE;
        let each: Vec<_> = (0..clients)
            .map(|number| {
                let mut client = loop {
                    match listener.accept() {
                        Ok((client, _)) => break client,
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                            assert!(
                                std::time::Instant::now() < deadline,
                                "client {} of {clients} never connected within {PATIENCE:?}",
                                number + 1
                            );
                            thread::sleep(Duration::from_millis(10));
                        }
                        Err(error) => panic!("accept a client: {error}"),
                    }
                };
                client
                    .set_nonblocking(false)
                    .expect("a blocking connection, as accept gives on Linux");
                let bytes = std::sync::Arc::clone(&bytes);
                thread::spawn(move || {
                    // Time limits, so a client that never goes cannot keep this thread.
                    let _ = client.set_read_timeout(Some(PATIENCE));
                    let _ = client.set_write_timeout(Some(PATIENCE));
                    // The client may stop reading part way, and close: a failed write is expected.
                    let _ = client.write_all(&bytes);
                    if let AfterSending::EndStream = after {
                        let _ = client.shutdown(std::net::Shutdown::Write);
                    }
                    let _ = client.read_to_end(&mut Vec::new());
                })
            })
            .collect();
        for client in each {
            let _ = client.join();
        }
    });
    (address, serving)
}

/// Reads from `stream` until `wanted` bytes have arrived (or the peer closes, or time runs out).
pub fn read_exactly(stream: &mut TcpStream, wanted: usize) -> Vec<u8> {
    let mut received = vec![0; wanted];
    stream
        .read_exact(&mut received)
        .unwrap_or_else(|error| panic!("expected {wanted} bytes: {error}"));
    received
}

/// What a finished process left behind.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `binary` to completion with `stdin` as its input, killing it if it takes longer than
/// [`PATIENCE`].
pub fn run(binary: &str, args: &[&str], stdin: &str) -> Finished {
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {binary}: {error}"));
    let input: ChildStdin = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_string();
    // Write on another thread: a program that never reads its input must not block the test.
    thread::spawn(move || {
        let mut input = input;
        let _ = input.write_all(stdin.as_bytes());
    });
    let stdout = everything_from(child.stdout.take().expect("stdout is piped"));
    let stderr = everything_from(child.stderr.take().expect("stderr is piped"));
    // Both pipes reach their end when the process exits, so these waits double as a time limit.
    let (stdout, stderr) = match (stdout.recv_timeout(PATIENCE), stderr.recv_timeout(PATIENCE)) {
        (Ok(out), Ok(err)) => (out, err),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{binary} {args:?} did not finish within {PATIENCE:?}");
        }
    };
    let status = child.wait().expect("wait for the process");
    Finished {
        status,
        stdout,
        stderr,
    }
}

/// Sends each line `reader` produces to the returned channel, from a background thread.
fn lines_of(reader: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Sends everything `reader` produces, as one string, once it reaches its end.
fn everything_from(mut reader: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut all = Vec::new();
        let _ = reader.read_to_end(&mut all);
        let _ = sender.send(String::from_utf8_lossy(&all).into_owned());
    });
    receiver
}

/// The command that runs Python 3 here, or `None` if there is none. A learner may not have
/// Python; CI must. Linux and macOS call it `python3`; on Windows it is usually `py` (the
/// launcher) or `python`.
pub fn python_command() -> Option<&'static str> {
    let found = ["python3", "py", "python"].into_iter().find(|command| {
        // Python 2, where it survives, answers `Python 2.7...`: the seed's clients need 3.
        Command::new(command)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|out| {
                out.status.success() && String::from_utf8_lossy(&out.stdout).starts_with("Python 3")
            })
    });
    if found.is_none() && std::env::var_os("CI").is_some() {
        panic!("Python 3 is required in CI to check that the seed's Python clients still work");
    }
    if found.is_none() {
        eprintln!("no python3, py or python found: skipping the check against the seed's client");
    }
    found
}

/// `text` with Windows line endings (`\r\n`, which Python prints there) made `\n`.
pub fn unix_lines(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Makes a run's output repeatable: the server's real address becomes `shown_as` (the lesson's
/// default, as a learner would see it), and any other loopback port, a client's, becomes
/// `<client port>`.
pub fn normalize(text: &str, server: SocketAddr, shown_as: &str) -> String {
    let text = text.replace(&server.to_string(), shown_as);
    let prefix = "127.0.0.1:";
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(prefix) {
        let after = &rest[at + prefix.len()..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        let port = &after[..digits];
        out.push_str(&rest[..at + prefix.len()]);
        if digits > 0 && !shown_as.ends_with(&format!(":{port}")) {
            out.push_str("<client port>");
        } else {
            out.push_str(port);
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

impl Server {
    /// Whatever the server has printed to stderr so far, without waiting for more.
    pub fn error_lines_so_far(&self) -> Vec<String> {
        self.stderr().try_iter().collect()
    }
}

/// A program that a test talks to while it runs, like a person at a terminal: the test types
/// lines into it and reads what it prints, as it prints it. Dropping it kills the process.
pub struct Terminal {
    child: Child,
    binary: String,
    /// `None` once the input has been ended.
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Terminal {
    /// Starts `binary` with `args`, its input open until [`Terminal::end_input`].
    pub fn start(binary: &str, args: &[&str]) -> Terminal {
        let mut child = Command::new(binary)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {binary}: {error}"));
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = lines_of(child.stdout.take().expect("stdout is piped"));
        let stderr = everything_from(child.stderr.take().expect("stderr is piped"));
        Terminal {
            child,
            binary: binary.to_string(),
            stdin: Some(stdin),
            stdout,
            stderr,
        }
    }

    /// Types `line` and presses Enter.
    pub fn type_line(&mut self, line: &str) {
        let stdin = self
            .stdin
            .as_mut()
            .expect("type only before the input is ended");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|error| panic!("cannot type into {}: {error}", self.binary));
    }

    /// The program's next stdout line, waiting at most [`PATIENCE`].
    pub fn next_line(&self) -> String {
        match self.stdout.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                panic!("{} printed nothing for {PATIENCE:?}", self.binary)
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("{} closed its stdout (exited?)", self.binary)
            }
        }
    }

    /// Whether the program has not exited yet.
    pub fn still_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Ends the input, as Ctrl-D does at a terminal.
    pub fn end_input(&mut self) {
        self.stdin = None;
    }

    /// Ends the input and waits, at most [`PATIENCE`], for the program to exit. The stdout in
    /// the answer is what it printed after the last line read with [`Terminal::next_line`].
    pub fn finish(&mut self) -> Finished {
        self.end_input();
        let deadline = std::time::Instant::now() + PATIENCE;
        let mut stdout = String::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    stdout.push_str(&line);
                    stdout.push('\n');
                }
                // The pipe closed: the program has exited.
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!(
                        "{} did not exit within {PATIENCE:?}; it printed {stdout:?}",
                        self.binary
                    );
                }
            }
        }
        let stderr = self.stderr.recv_timeout(PATIENCE).unwrap_or_default();
        let status = self.child.wait().expect("wait for the process");
        Finished {
            status,
            stdout,
            stderr,
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many sockets the tests of this program may hold open at once, all together: the open
/// files this process may have (its soft limit, `ulimit -n`, raised first if the hard limit
/// allows: see [`open_files_limit`]), less room for everything else it holds, and at most
/// [`MOST_SOCKETS`]. Where the limit cannot be raised past 256 (`ulimit -n 256` sets both
/// limits) that is 180; where it can, more tests run at once, and the suite ends sooner.
pub fn socket_budget() -> usize {
    static BUDGET: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| match open_files_limit() {
        Some(limit) => limit.saturating_sub(OTHER_FILES).clamp(16, MOST_SOCKETS),
        None => MOST_SOCKETS,
    })
}

/// Room for the files a test program holds besides its tests' sockets: its own executable and
/// libraries, the pipes to the programs it starts, and the few sockets of small tests.
const OTHER_FILES: usize = 76;

/// The budget where the system allows many open files: more tests at once would only crowd two
/// cores.
const MOST_SOCKETS: usize = 400;

/// This process's soft limit on open files (`ulimit -n`), after raising it towards what the
/// budget can use, [`MOST_SOCKETS`] and [`OTHER_FILES`], as far as the hard limit allows. A
/// program may raise its own soft limit up to its hard limit; macOS starts programs with a soft
/// limit of 256 and a far higher hard one, and many Linux systems with 1024 and more. `None`
/// where there is no such limit (Windows).
#[cfg(unix)]
fn open_files_limit() -> Option<usize> {
    let wanted = (MOST_SOCKETS + OTHER_FILES) as libc::rlim_t;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes the two limits into the struct it is given, which lives here.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur != libc::RLIM_INFINITY && limit.rlim_cur < wanted {
        let raised = libc::rlimit {
            rlim_cur: wanted.min(limit.rlim_max),
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `setrlimit` only reads the struct. If it refuses, the old limit stands.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = raised.rlim_cur;
        }
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    usize::try_from(limit.rlim_cur).ok()
}

#[cfg(not(unix))]
fn open_files_limit() -> Option<usize> {
    None
}

/// What is left of the budget.
static SOCKETS_FREE: std::sync::LazyLock<std::sync::Mutex<usize>> =
    std::sync::LazyLock::new(|| std::sync::Mutex::new(socket_budget()));
static SOCKETS_RETURNED: std::sync::Condvar = std::sync::Condvar::new();

/// A share of [`socket_budget`], given back when dropped.
pub struct Sockets(usize);

/// Waits until `count` sockets' worth of the budget is free, and takes it. A test that opens
/// more than a handful of sockets (on either end: a check's scripted clients and the server's
/// side of them both count when both live in this process) takes its share first, so tests
/// running at the same time never run the process out of file descriptors. More than the whole
/// budget means all of it: such a test runs alone.
pub fn sockets(count: usize) -> Sockets {
    let count = count.min(socket_budget());
    let mut free = SOCKETS_FREE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    while *free < count {
        free = SOCKETS_RETURNED
            .wait(free)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    *free -= count;
    Sockets(count)
}

impl Drop for Sockets {
    fn drop(&mut self) {
        *SOCKETS_FREE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) += self.0;
        SOCKETS_RETURNED.notify_all();
    }
}

impl Server {
    /// The server's process id: to read its CPU time from `/proc`, count its threads, or send
    /// it a signal.
    pub fn pid(&self) -> u32 {
        self.started.id()
    }

    /// Whatever the server has printed to stdout so far (after its listening line), without
    /// waiting for more.
    pub fn output_lines_so_far(&self) -> Vec<String> {
        self.started.stdout.try_iter().collect()
    }

    fn stderr(&self) -> &Receiver<String> {
        self.started
            .stderr
            .as_ref()
            .expect("a test's server keeps its stderr")
    }
}

impl Server {
    /// Waits, at most [`PATIENCE`], for the process to exit by itself, and returns its status.
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.started.child().try_wait().expect("query the process") {
                return status;
            }
            if std::time::Instant::now() > deadline {
                panic!("the server did not exit within {PATIENCE:?}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// How many threads process `pid` runs, on systems that show it (Linux's /proc); `None` elsewhere.
pub fn thread_count(pid: u32) -> Option<usize> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    Some(tasks.count())
}

/// An address on which nothing listens, kept so while the returned socket lives: the socket holds
/// the port (bound, but not listening), so no other test's server can be given it meanwhile.
/// Connecting there is refused. (Binding a listener to port 0 and dropping it frees the port for
/// the next server that asks, and tests run at the same time.)
pub fn closed_port() -> (socket2::Socket, SocketAddr) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .expect("create a socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    socket.bind(&any.into()).expect("bind a free port");
    let address = socket
        .local_addr()
        .ok()
        .and_then(|address| address.as_socket())
        .expect("a bound socket has an address");
    (socket, address)
}

/// Runs `command` to its end with no input, killing it if it takes longer than [`PATIENCE`]:
/// for outside clients (curl, Python) that a test runs once.
pub fn output_within_patience(command: &mut Command) -> std::process::Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
    let id = child.id();
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || sender.send(child.wait_with_output()));
    match receiver.recv_timeout(PATIENCE) {
        Ok(output) => output.expect("the program's output"),
        Err(_) => {
            // The waiting thread owns the child; kill it by its id.
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("{command:?} did not finish within {PATIENCE:?}");
        }
    }
}
