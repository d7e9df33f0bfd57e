//! The learner's program, as the checks reach it: a process of its own, started by the check,
//! or a server someone else started at an address. Whatever the process does is seen and named:
//! it exits (with its status and the last lines it wrote on stderr), aborts, overflows its
//! stack, panics (with file:line), or never starts listening.
//!
//! A check never runs the learner's server inside the test process: an `exit` there would end
//! the test program itself, and with it every other verdict.

use std::collections::VecDeque;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crate::started::{listening_address, text_lines};

/// How long a started program may take to say where it listens. Starting a program takes
/// milliseconds; a machine busy compiling may take much longer, and the wait ends as soon as the
/// program speaks or exits.
pub const START_WITHIN: Duration = Duration::from_secs(10);

/// How many of the last lines the program wrote on stderr a verdict quotes.
const STDERR_LINES_KEPT: usize = 6;

/// How many of the last lines the program wrote on stdout, and on stderr, a check may look
/// through: a server's log of its clients, a line or two each.
const LOG_LINES_KEPT: usize = 256;

/// The line a program prints once its `serve` has returned `Ok(())` ([`crate::cli::serve_by_hand`]
/// and [`serve_as_program`] print it): without it, an exit with status 0 is an `exit` call.
pub const STOPPED_LINE: &str = "serve() returned Ok(()): the server has stopped";

/// The environment variable that tells a test binary, started again by a check, which answer to
/// play (see [`Target::AnswerInThisTest`]).
pub const ANSWER_VARIABLE: &str = "COURSE_CHECK_ANSWER";

/// The environment variable that tells an answer played by a test binary where to listen
/// (see [`serve_as_program`]); without it, `127.0.0.1:0`.
pub const LISTEN_VARIABLE: &str = "COURSE_CHECK_LISTEN";

/// The environment variable that gives an answer played by a test binary the arguments its
/// program would get after the address, one per line (see [`given_args`]).
pub const ARGS_VARIABLE: &str = "COURSE_CHECK_ARGS";

/// The arguments after the address that the check gave this answer's program, when a test
/// binary plays it (see [`Target::AnswerInThisTest`]): what `main` would read from its command
/// line.
pub fn given_args() -> Vec<String> {
    std::env::var(ARGS_VARIABLE)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Where a check starts the learner's server: IPv4 loopback, on a port the system picks.
pub const LOOPBACK: &str = "127.0.0.1:0";

/// Where a check starts the learner's server again to see it serve IPv6 clients.
pub const LOOPBACK_IPV6: &str = "[::1]:0";

/// Whether this machine has IPv6 loopback (some containers turn IPv6 off): a check's IPv6 part
/// is played only where it can be.
pub fn has_ipv6_loopback() -> bool {
    TcpListener::bind(LOOPBACK_IPV6).is_ok()
}

/// Whether the lines a program prints are shown (with the test's output, or on the terminal).
static SHOW_WHAT_PROGRAMS_PRINT: AtomicBool = AtomicBool::new(true);

/// Stops showing what the programs print: `check NN --json` prints only its JSON on stdout.
pub fn hide_what_programs_print() {
    SHOW_WHAT_PROGRAMS_PRINT.store(false, Ordering::Relaxed);
}

fn show(line: &str) {
    if SHOW_WHAT_PROGRAMS_PRINT.load(Ordering::Relaxed) {
        println!("{line}");
    }
}

/// Where the learner's server is, or how to start it.
#[derive(Debug, Clone)]
pub enum Target {
    /// A program, started as `PATH 127.0.0.1:0 ARGS...` (the check's own arguments, such as a
    /// pool's sizes; `[::1]:0` for a check's IPv6 part). It prints `listening on ADDRESS` on
    /// stdout once it listens.
    Program(PathBuf),
    /// A shell command, such as `python3 server.py {port}`: `{port}` stands for a free port the
    /// check picks, and the server must listen on 127.0.0.1 at that port. `{args}` stands for the
    /// check's own arguments. A program in any language can be checked this way.
    Command(String),
    /// A server someone else started, already listening here. The check cannot see it end.
    Address(SocketAddr),
    /// An answer compiled into this test binary: the binary is started again, running only the
    /// test `test`, with [`ANSWER_VARIABLE`] set to `answer`; that test calls
    /// [`serve_as_program`] (or plays a client check) when it sees the variable.
    AnswerInThisTest { test: String, answer: String },
}

impl Target {
    /// An answer compiled into this test binary, played by the test that is running now (libtest
    /// names each test's thread after the test).
    pub fn answer_in_this_test(answer: &str) -> Target {
        let test = thread::current()
            .name()
            .expect("a check runs on a test's thread, which libtest names")
            .to_string();
        Target::AnswerInThisTest {
            test,
            answer: answer.to_string(),
        }
    }

    /// An answer compiled into this test binary, played by the test named `test`.
    pub fn answer_in_test(test: &str, answer: &str) -> Target {
        Target::AnswerInThisTest {
            test: test.to_string(),
            answer: answer.to_string(),
        }
    }
}

/// Which answer this process was started to play, if a check started it (see
/// [`Target::AnswerInThisTest`]).
pub fn requested_answer() -> Option<String> {
    std::env::var(ANSWER_VARIABLE).ok()
}

/// Plays a server answer the way its program would: binds `127.0.0.1:0` (or the address in
/// [`LISTEN_VARIABLE`]), prints where it listens,
/// serves, and ends the process as `main` would (status 0 after [`STOPPED_LINE`], or the error
/// and status 1). A panic unwinds as in `main`, and the process ends with status 101.
pub fn serve_as_program(serve: impl FnOnce(TcpListener) -> anyhow::Result<()>) -> ! {
    let listen = std::env::var(LISTEN_VARIABLE).unwrap_or_else(|_| LOOPBACK.to_string());
    let listener = TcpListener::bind(&listen).expect("bind a loopback port");
    let address = listener
        .local_addr()
        .expect("a bound listener has an address");
    println!("listening on {address}");
    match serve(listener) {
        Ok(()) => {
            println!("{STOPPED_LINE}");
            std::process::exit(0)
        }
        Err(error) => {
            eprintln!("Error: {error:#}");
            std::process::exit(1)
        }
    }
}

/// What a program wrote that its verdict may need.
#[derive(Debug, Default)]
struct Heard {
    /// The last lines on stderr, oldest first.
    stderr_tail: VecDeque<String>,
    /// Every panic, as `message (at file:line)`, oldest first.
    panics: Vec<String>,
    /// The thread that overflowed its stack, if one did.
    overflowed: Option<String>,
    /// The `Error: ...` line `main` prints when it returns an error.
    error: Option<String>,
    /// Whether [`STOPPED_LINE`] was printed.
    said_stopped: bool,
    /// The last lines on stdout, oldest first.
    stdout_tail: VecDeque<String>,
    /// The last lines on stderr, as many as on stdout, for a check to look through.
    stderr_log: VecDeque<String>,
    /// A panic whose message is on the next line (Rust 1.73 and later print it so).
    panic_location: Option<String>,
}

/// How the program ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// `serve` returned `Ok(())`, and `main` with it.
    Returned,
    /// `main` returned this error.
    ReturnedError(String),
    /// A panic ended the program (on its main thread).
    Panicked(String),
    /// A thread overflowed its stack, which aborts the whole program.
    OverflowedStack(String),
    /// It called `std::process::exit` (or ended some other way) with this status.
    Exited(i32),
    /// A signal ended it: its number and name.
    Signalled(i32, &'static str),
    /// A program in another language (started with a shell command) exited with this status.
    Ended(i32),
}

impl End {
    /// One sentence on how the program ended, for the start of a verdict.
    pub fn sentence(&self) -> String {
        match self {
            End::Returned => "Your program ended while the check ran: your serve() returned \
                              Ok(()), so it stopped accepting clients."
                .to_string(),
            End::ReturnedError(error) => format!(
                "Your program ended while the check ran: your serve() returned an error, so it \
                 stopped accepting clients: {error}."
            ),
            End::Panicked(panic) => format!(
                "Your program ended while the check ran: it panicked on its main thread: {panic}."
            ),
            End::OverflowedStack(thread) => format!(
                "Your program ended while the check ran: {thread} overflowed its stack, which \
                 aborts the whole program."
            ),
            End::Exited(status) => format!(
                "Your program exited with status {status} while the check ran, without serve() \
                 returning: something called std::process::exit."
            ),
            End::Signalled(number, name) => {
                format!("Your program was ended by signal {number} ({name}) while the check ran.")
            }
            End::Ended(status) => {
                format!("Your program exited with status {status} while the check ran.")
            }
        }
    }

    /// What the learner likely should do about it.
    pub fn advice(&self) -> &'static str {
        match self {
            End::Returned => {
                "A server's accept loop should keep running until the program is stopped."
            }
            End::ReturnedError(_) => {
                "One client's error should end only that client's connection: log it and carry on."
            }
            End::Panicked(_) => {
                "A server must not panic on anything a client does: handle the error (log it \
                 with eprintln!) and carry on."
            }
            End::OverflowedStack(_) => {
                "A recursion that never ends, or a very large array on the stack, does this: \
                 loop instead of recursing, and keep large buffers in a Vec."
            }
            End::Exited(_) => {
                "std::process::exit ends the whole program, every client's thread with it: end \
                 only the connection (return from the client's function), and let serve() \
                 return when the server is done."
            }
            End::Signalled(6, _) => {
                "An abort ends the whole program at once: std::process::abort, a panic while \
                 panicking, or a failed allocation."
            }
            End::Signalled(..) => "Something outside your program, or a crash, ended it.",
            End::Ended(_) => {
                "A server keeps accepting clients until it is stopped: look for an accept that \
                 is not in a loop (a server that serves one client and ends), an error or \
                 exception nobody caught, or a call that exits (its last lines on stderr, if \
                 any, are above)."
            }
        }
    }
}

/// The learner's running program, or the address of a server someone else runs.
pub struct Program {
    address: SocketAddr,
    /// The process, when the check knows it.
    pid: Option<u32>,
    child: Option<Child>,
    /// For a shell command: its process group, so that everything it started is stopped too.
    group: bool,
    /// Started by a shell command: a program in any language, whose exit status means only what
    /// it says (not a Rust exercise program's `serve` returning, or a panic).
    foreign: bool,
    heard: Arc<Mutex<Heard>>,
    status: Option<ExitStatus>,
    /// How to start the same program again at another address, when the check started it and
    /// chose its address: the target and the check's arguments.
    started_as: Option<(Target, Vec<String>)>,
}

/// Why a program could not be started or reached; the sentence is a verdict's first.
#[derive(Debug)]
pub struct NotStarted {
    pub sentence: String,
    pub end: Option<End>,
    pub stderr: Vec<String>,
    pub panics: Vec<String>,
}

impl Program {
    /// Starts (or finds) the learner's server. `args` are the check's own arguments, given after
    /// the address to a program.
    pub fn start(target: &Target, args: &[String]) -> Result<Program, NotStarted> {
        let mut program = Program::start_at(target, LOOPBACK, args, &[], None)?;
        // Any program the check started itself can be started again: with other settings, out
        // of descriptors, or afresh for a run that proved nothing. Not one found at an address.
        if !matches!(target, Target::Address(_)) {
            program.started_as = Some((target.clone(), args.to_vec()));
        }
        Ok(program)
    }

    /// Starts the program afresh in place of this one, which is ended first: for a check whose
    /// run proved nothing and must play again. `None` where the check did not start it.
    pub fn restart(&mut self) -> Option<Result<(), NotStarted>> {
        let (target, args) = self.started_as.clone()?;
        let old = std::mem::replace(self, Program::already_running(self.address, None));
        drop(old);
        Some(Program::start(&target, &args).map(|fresh| *self = fresh))
    }

    /// Starts the same program again, listening at `listen` (such as [`LOOPBACK_IPV6`]), beside
    /// this one; `None` when the check cannot choose where it listens (a server at an address,
    /// or a command, which is given only a port).
    pub fn start_again_at(&self, listen: &str) -> Option<Result<Program, NotStarted>> {
        let (target, args) = self.started_with_an_address()?;
        Some(Program::start_at(target, listen, args, &[], None))
    }

    /// Like [`Program::start_again_at`], with `args` after the address in place of the check's
    /// own.
    pub fn start_again_with_args(
        &self,
        listen: &str,
        args: &[String],
    ) -> Option<Result<Program, NotStarted>> {
        let (target, _) = self.started_with_an_address()?;
        Some(Program::start_at(target, listen, args, &[], None))
    }

    /// How the check started the program, where it gave the address and arguments itself: not a
    /// command, which takes only what its line asks for (`{port}`, and `{args}` if it says so).
    fn started_with_an_address(&self) -> Option<&(Target, Vec<String>)> {
        self.started_as
            .as_ref()
            .filter(|(target, _)| !matches!(target, Target::Command(_)))
    }

    /// The same program started again with these environment variables set for it, at `listen`
    /// where the check gives the address (a command is given a port of its own).
    pub fn start_again_with(
        &self,
        listen: &str,
        env: &[(&str, &str)],
    ) -> Option<Result<Program, NotStarted>> {
        let (target, args) = self.started_as.as_ref()?;
        Some(Program::start_at(target, listen, args, env, None))
    }

    /// Starts the same program again at [`LOOPBACK`], beside this one, allowed at most
    /// `open_files` open files and sockets (`ulimit -n`, which `sh` sets before it becomes the
    /// program): a check can then run it out of file descriptors. `None` where the check did not
    /// start the program, and off Unix, where no such limit can be set from outside.
    pub fn start_again_with_open_files(
        &self,
        open_files: u32,
    ) -> Option<Result<Program, NotStarted>> {
        if !cfg!(unix) {
            return None;
        }
        let (target, args) = self.started_as.as_ref()?;
        Some(Program::start_at(
            target,
            LOOPBACK,
            args,
            &[],
            Some(open_files),
        ))
    }

    fn start_at(
        target: &Target,
        listen: &str,
        args: &[String],
        env: &[(&str, &str)],
        open_files: Option<u32>,
    ) -> Result<Program, NotStarted> {
        match target {
            Target::Address(address) => Ok(Program::already_running(*address, None)),
            Target::Program(path) => {
                let mut command = Command::new(path);
                command.arg(listen).args(args).envs(env.iter().copied());
                // A panic's file:line is what the verdict quotes; a backtrace would bury it.
                command.env("RUST_BACKTRACE", "0");
                let command = with_open_files_at_most(command, open_files);
                Program::spawn(command, None, false, &path.display().to_string())
            }
            Target::AnswerInThisTest { test, answer } => {
                let exe = std::env::current_exe().expect("a test knows its own program");
                let mut command = Command::new(exe);
                command
                    .args([
                        "--exact",
                        test,
                        "--include-ignored",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env(ANSWER_VARIABLE, answer)
                    .env(LISTEN_VARIABLE, listen)
                    .env(ARGS_VARIABLE, args.join("\n"))
                    .envs(env.iter().copied())
                    // The answer's panics are shown as a program's are, without a backtrace.
                    .env("RUST_BACKTRACE", "0");
                let command = with_open_files_at_most(command, open_files);
                Program::spawn(command, None, false, answer)
            }
            Target::Command(line) => {
                let port = free_port();
                let line = line
                    .replace("{port}", &port.to_string())
                    .replace("{args}", &args.join(" "));
                let mut command = shell(&line);
                // Python holds back what it prints into a pipe until it ends; the line that says
                // where the server listens is wanted at once.
                command
                    .env("PYTHONUNBUFFERED", "1")
                    .envs(env.iter().copied());
                let mut command = with_open_files_at_most(command, open_files);
                #[cfg(unix)]
                std::os::unix::process::CommandExt::process_group(&mut command, 0);
                let fallback = SocketAddr::from(([127, 0, 0, 1], port));
                Program::spawn(command, Some(fallback), cfg!(unix), &line)
            }
        }
    }

    /// A server already listening at `address`, which the check did not start.
    pub fn already_running(address: SocketAddr, pid: Option<u32>) -> Program {
        Program {
            address,
            pid,
            child: None,
            group: false,
            foreign: false,
            heard: Arc::default(),
            status: None,
            started_as: None,
        }
    }

    fn spawn(
        mut command: Command,
        port_given: Option<SocketAddr>,
        group: bool,
        what: &str,
    ) -> Result<Program, NotStarted> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|error| NotStarted {
            sentence: format!("The check could not start your program ({what}): {error}."),
            end: None,
            stderr: Vec::new(),
            panics: Vec::new(),
        })?;
        let heard = Arc::new(Mutex::new(Heard::default()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        follow_stderr(stderr, Arc::clone(&heard));
        let listening = follow_stdout(stdout, Arc::clone(&heard));
        let mut program = Program {
            address: port_given.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
            pid: Some(child.id()),
            child: Some(child),
            group,
            foreign: port_given.is_some(),
            heard,
            status: None,
            started_as: None,
        };
        let deadline = Instant::now() + START_WITHIN;
        loop {
            match listening.recv_timeout(Duration::from_millis(20)) {
                Ok(address) => {
                    program.address = address;
                    return Ok(program);
                }
                Err(RecvTimeoutError::Timeout) => {}
                // Stdout closed: the program is ending, or will never say where it listens.
                Err(RecvTimeoutError::Disconnected) => {
                    if let Some(end) = program.wait_for_end(Duration::from_secs(2)) {
                        return Err(program.not_started(
                            "Your program ended before it started listening.",
                            Some(end),
                        ));
                    }
                    if port_given.is_none() {
                        return Err(program.not_started(
                            "Your program closed its stdout without printing `listening on \
                             ADDRESS`.",
                            None,
                        ));
                    }
                }
            }
            if let Some(end) = program.end_now() {
                // It may have printed its line just before ending.
                if let Ok(address) = listening.try_recv() {
                    program.address = address;
                    return Ok(program);
                }
                return Err(program
                    .not_started("Your program ended before it started listening.", Some(end)));
            }
            if port_given.is_some() && std::net::TcpStream::connect(program.address).is_ok() {
                return Ok(program);
            }
            if Instant::now() > deadline {
                let sentence = match port_given {
                    Some(address) => format!(
                        "Your program did not start listening on {address} within {} s.",
                        START_WITHIN.as_secs()
                    ),
                    None => format!(
                        "Your program did not print `listening on ADDRESS` within {} s: does it \
                         bind its listener and print that line before it starts serving?",
                        START_WITHIN.as_secs()
                    ),
                };
                return Err(program.not_started(&sentence, None));
            }
        }
    }

    fn not_started(&mut self, sentence: &str, end: Option<End>) -> NotStarted {
        let heard = lock(&self.heard);
        NotStarted {
            sentence: sentence.to_string(),
            end,
            stderr: heard.stderr_tail.iter().cloned().collect(),
            panics: heard.panics.clone(),
        }
    }

    /// Where the server listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The program's process id, if the check started it.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// How many threads the program has now, where the system shows it (Linux's /proc).
    pub fn threads(&self) -> Option<usize> {
        let pid = self.pid()?;
        Some(std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.count())
    }

    /// How the program ended, if it has.
    pub fn end_now(&mut self) -> Option<End> {
        if self.status.is_none() {
            self.status = self.child.as_mut()?.try_wait().ok().flatten();
        }
        self.status.map(|status| self.end_from(status))
    }

    /// Waits up to `wait` for the program to end, and says how it did.
    pub fn wait_for_end(&mut self, wait: Duration) -> Option<End> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.end_now() {
                return Some(end);
            }
            if self.child.is_none() || Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits up to `wait` for the program to end, but only if its listener refuses a connection
    /// though the program still runs: then it is most likely on its way out (`serve` returned,
    /// and `main` is ending), which on a busy machine can take a while. A listener that still
    /// takes connections (or does not answer within a moment) says it is not ending: `None` at
    /// once.
    pub fn end_if_closing(&mut self, wait: Duration) -> Option<End> {
        if let Some(end) = self.end_now() {
            return Some(end);
        }
        self.child.as_ref()?;
        match std::net::TcpStream::connect_timeout(&self.address, Duration::from_millis(100)) {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                self.wait_for_end(wait)
            }
            _ => None,
        }
    }

    fn end_from(&self, status: ExitStatus) -> End {
        // The pipes may still hold the last lines: give the readers a moment to take them.
        for _ in 0..40 {
            if Arc::strong_count(&self.heard) == 1 {
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        match (end_of(status, &lock(&self.heard)), status.code()) {
            // Its status 0 or 1 says nothing of a `serve` returning: it is no course program.
            (End::Returned | End::ReturnedError(_) | End::Exited(_), Some(code))
                if self.foreign =>
            {
                End::Ended(code)
            }
            (end, _) => end,
        }
    }

    /// Every panic the program reported on stderr so far, as `message (at file:line)`.
    pub fn panics(&self) -> Vec<String> {
        lock(&self.heard).panics.clone()
    }

    /// The last lines the program wrote on stderr.
    pub fn stderr_tail(&self) -> Vec<String> {
        lock(&self.heard).stderr_tail.iter().cloned().collect()
    }

    /// Whether the program printed [`STOPPED_LINE`].
    pub fn said_stopped(&self) -> bool {
        lock(&self.heard).said_stopped
    }

    /// The first line the program printed on stdout that starts with `start`, waiting up to
    /// `wait` for it to come. `None` for a program the check did not start (its output is not
    /// the check's to read), or one that printed no such line in time.
    pub fn printed_line(&self, start: &str, wait: Duration) -> Option<String> {
        self.child.as_ref()?;
        let deadline = Instant::now() + wait;
        loop {
            let found = lock(&self.heard)
                .stdout_tail
                .iter()
                .find(|line| line.starts_with(start))
                .cloned();
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The first line the program wrote on stderr so far that starts with `start`. `None` for a
    /// program the check did not start, or one that wrote no such line.
    pub fn logged_line(&self, start: &str) -> Option<String> {
        self.child.as_ref()?;
        lock(&self.heard)
            .stderr_log
            .iter()
            .find(|line| line.starts_with(start))
            .cloned()
    }

    /// The first line the program wrote on stderr (of the last lines kept, as for
    /// [`Program::logged_line`]) that contains one of `words`.
    pub fn logged_line_containing(&self, words: &[&str]) -> Option<String> {
        self.child.as_ref()?;
        lock(&self.heard)
            .stderr_log
            .iter()
            .find(|line| words.iter().any(|word| line.contains(word)))
            .cloned()
    }

    /// Asks the program to shut down as Ctrl-C would (SIGINT). Only Unix can send it.
    pub fn interrupt(&self) -> Result<(), String> {
        if self.child.is_none() {
            return Err("the check did not start this server, so it cannot press Ctrl-C".into());
        }
        if !cfg!(unix) {
            return Err("only Unix lets the check press Ctrl-C for another program".into());
        }
        self.signal("INT")
    }

    /// Stops the program where it stands (SIGSTOP), so that the check can make something happen
    /// before the program can react: `Ok(Paused)`, which lets it go on when dropped. `Err` where
    /// the check cannot (a server it did not start, or Windows).
    pub fn pause(&self) -> Result<Paused<'_>, String> {
        if self.child.is_none() || !cfg!(unix) {
            return Err("the check can pause only a program it started, on Unix".into());
        }
        self.signal("STOP")?;
        // `kill` returns once the signal is sent, not once it has stopped every thread: a thread
        // could still be on its way out of `accept`. Wait until the system says it is stopped.
        if let Some(pid) = self.pid {
            let until = Instant::now() + Duration::from_secs(1);
            while !is_stopped(pid) && Instant::now() < until {
                thread::sleep(Duration::from_millis(1));
            }
        }
        Ok(Paused { program: self })
    }

    /// Sends the signal `name` (as in `kill -INT`) to the program: a shell command's whole
    /// process group, as Ctrl-C in a terminal does, so that anything a compound command started
    /// beside the program gets it too.
    fn signal(&self, name: &str) -> Result<(), String> {
        let Some(pid) = self.child.as_ref().map(Child::id) else {
            return Err("the check did not start this server".into());
        };
        let target = if self.group {
            format!("-{pid}")
        } else {
            pid.to_string()
        };
        match Command::new("kill")
            .args([&format!("-{name}"), "--", &target])
            .status()
        {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("`kill -{name} -- {target}` ended with {status}")),
            Err(error) => Err(format!("cannot run `kill`: {error}")),
        }
    }
}

/// Whether every thread of process `pid` is stopped (by SIGSTOP): on Linux each thread's state in
/// `/proc/PID/task/*/stat`, elsewhere on Unix the process's state as `ps` shows it.
fn is_stopped(pid: u32) -> bool {
    let stopped = |stat: &str| {
        // `PID (NAME) STATE ...`: the name may hold spaces and parentheses, the state follows
        // the last `)`.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state == 'T' || state == 't')
    };
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        return tasks.flatten().all(|task| {
            std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| stopped(&stat))
        });
    }
    Command::new("ps")
        .args(["-o", "stat=", "-p", &pid.to_string()])
        .output()
        .is_ok_and(|output| {
            String::from_utf8_lossy(&output.stdout)
                .trim_start()
                .starts_with('T')
        })
}

/// A program stopped by [`Program::pause`]; it goes on (SIGCONT) when this is dropped.
pub struct Paused<'a> {
    program: &'a Program,
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        let _ = self.program.signal("CONT");
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if self.group && self.status.is_none() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
        }
        // Windows has no process groups, and a command runs under `cmd /C`: ending cmd alone
        // would leave the learner's server running. `taskkill /T` ends the process and every
        // process it started.
        if cfg!(windows) && self.status.is_none() {
            let _ = Command::new("taskkill")
                .args(["/T", "/F", "/PID", &child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A port nobody listens on now (the system's pick), for a command that needs one given.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("the check needs a free loopback port: is the network stack usable?")
}

fn shell(line: &str) -> Command {
    if cfg!(windows) {
        let mut command = Command::new("cmd");
        command.args(["/C", line]);
        command
    } else {
        // A single program and its arguments replaces the shell (`exec`), so that the process
        // the check watches, and presses Ctrl-C for, is the learner's program itself: dash, the
        // `sh` of Debian and Ubuntu, would otherwise wait in between, and neither pass the signal
        // on nor end with the program's own status.
        let simple = !line.contains([';', '&', '|', '(', ')', '<', '>', '`', '$', '\n']);
        let line = if !simple || starts_with_a_shell_word(line) {
            line.to_string()
        } else if starts_with_assignment(line) {
            // `exec NAME=value program` would look for a program named `NAME=value`; `env` sets
            // the variable and runs the program, in the shell's place all the same.
            format!("exec env {line}")
        } else {
            format!("exec {line}")
        };
        let mut command = Command::new("sh");
        command.args(["-c", &line]);
        command
    }
}

/// Whether a command line's command, after any variables it sets, is a word the shell itself
/// runs, not a program: `exec python3 ...` (already in the shell's place; `exec exec` would look
/// for a program named `exec`), `NAME=value exec ...` (`env` cannot run `exec` either), and the
/// others that `exec` cannot run.
fn starts_with_a_shell_word(line: &str) -> bool {
    const SHELL_WORDS: [&str; 17] = [
        "exec", "command", "eval", ".", "cd", "export", "set", "unset", "ulimit", "umask", "if",
        "for", "while", "until", "case", "{", "!",
    ];
    let words = shell_words(line);
    let command = words.iter().find(|word| !is_assignment(word));
    command.is_some_and(|command| SHELL_WORDS.contains(&command.as_str()))
}

/// Whether a command line starts by setting a variable, as `PYTHONUNBUFFERED=1 python3 ...`
/// does.
fn starts_with_assignment(line: &str) -> bool {
    shell_words(line)
        .first()
        .is_some_and(|word| is_assignment(word))
}

/// A command line's words as the shell splits them: at white space outside quotes, so that
/// `NAME='a b'` is one word. The quotes stay in the words; only the splitting matters here.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for character in line.chars() {
        match quote {
            Some(open) if character == open => quote = None,
            None if character == '\'' || character == '"' => quote = Some(character),
            None if character.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(character);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a word sets a variable: a name (letters, digits and `_`, not starting with a digit),
/// then `=`.
fn is_assignment(word: &str) -> bool {
    let Some((name, _value)) = word.split_once('=') else {
        return false;
    };
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|rest| rest.is_ascii_alphanumeric() || rest == '_')
}

/// Reads the program's stdout: the address of its first `listening on ADDRESS` line goes to the
/// receiver; every line is shown with the test's output, as the program's own words.
fn follow_stdout(
    stdout: impl Read + Send + 'static,
    heard: Arc<Mutex<Heard>>,
) -> Receiver<SocketAddr> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut told = false;
        for line in text_lines(stdout) {
            if !told {
                if let Some(address) = listening_address(&line) {
                    told = sender.send(address).is_ok();
                }
            }
            {
                let mut heard = lock(&heard);
                if line.trim_end() == STOPPED_LINE {
                    heard.said_stopped = true;
                }
                if heard.stdout_tail.len() == LOG_LINES_KEPT {
                    heard.stdout_tail.pop_front();
                }
                heard.stdout_tail.push_back(line.clone());
            }
            // A test binary started again for an answer says what libtest says: not the answer's.
            let line = match line.split_once(" ... ") {
                Some((test, rest)) if test.starts_with("test ") => rest,
                _ => &line,
            };
            let libtest = line.is_empty()
                || line.starts_with("running 1 test")
                || line.starts_with("test result: ");
            if !libtest {
                show(line);
            }
        }
        drop(heard);
    });
    receiver
}

/// Reads the program's stderr: keeps its last lines, its panics and how it ended, and shows every
/// line with the test's output.
/// `command`, run by `sh` after `ulimit -n open_files` where a limit is given. `exec` then
/// replaces the shell with the program, so the process the check watches is the program's own.
fn with_open_files_at_most(command: Command, open_files: Option<u32>) -> Command {
    let Some(open_files) = open_files else {
        return command;
    };
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(format!("ulimit -n {open_files} && exec \"$0\" \"$@\""))
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => shell.env(name, value),
            None => shell.env_remove(name),
        };
    }
    shell
}

fn follow_stderr(stderr: impl Read + Send + 'static, heard: Arc<Mutex<Heard>>) {
    thread::spawn(move || {
        for line in text_lines(stderr) {
            show(&line);
            let mut heard = lock(&heard);
            note_stderr_line(&mut heard, &line);
        }
        drop(heard);
    });
}

fn note_stderr_line(heard: &mut Heard, line: &str) {
    if heard.stderr_tail.len() == STDERR_LINES_KEPT {
        heard.stderr_tail.pop_front();
    }
    heard.stderr_tail.push_back(line.to_string());
    if heard.stderr_log.len() == LOG_LINES_KEPT {
        heard.stderr_log.pop_front();
    }
    heard.stderr_log.push_back(line.to_string());
    if let Some(location) = heard.panic_location.take() {
        heard.panics.push(format!("{line} (at {location})"));
        return;
    }
    let thread_and_rest = line
        .strip_prefix("thread '")
        .and_then(|rest| rest.split_once('\''));
    if let Some((thread, rest)) = thread_and_rest {
        // Rust 1.90 and later put the thread's id after its name: `thread 'main' (12345)`.
        let rest = match rest
            .strip_prefix(" (")
            .and_then(|rest| rest.split_once(')'))
        {
            Some((id, after)) if id.chars().all(|c| c.is_ascii_digit()) => after,
            _ => rest,
        };
        if rest.starts_with(" has overflowed its stack") {
            heard.overflowed = Some(format!("thread '{thread}'"));
        } else if let Some(at) = rest.strip_prefix(" panicked at ") {
            // `at src/x.rs:12:5:` and the message on the next line (Rust 1.73 on), or
            // `'message', src/x.rs:12:5` on one line (before).
            match at.strip_suffix(':') {
                Some(location) => heard.panic_location = Some(without_column(location)),
                None => heard.panics.push(at.to_string()),
            }
        }
    } else if let Some(error) = line.strip_prefix("Error: ") {
        heard.error = Some(error.to_string());
    }
}

/// `src/x.rs:12:5` as `src/x.rs:12`, with `/` between folders on every system.
fn without_column(location: &str) -> String {
    let location = location.replace('\\', "/");
    match location.rsplit_once(':') {
        Some((file_line, column)) if column.chars().all(|c| c.is_ascii_digit()) => {
            file_line.to_string()
        }
        _ => location,
    }
}

/// How a process ended, from its status and what it wrote on stderr.
fn end_of(status: ExitStatus, heard: &Heard) -> End {
    if let Some(thread) = &heard.overflowed {
        return End::OverflowedStack(thread.clone());
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return End::Signalled(signal, signal_name(signal));
    }
    match status.code() {
        Some(0) if heard.said_stopped => End::Returned,
        Some(1) if heard.error.is_some() => {
            End::ReturnedError(heard.error.clone().unwrap_or_default())
        }
        Some(101) if !heard.panics.is_empty() => {
            End::Panicked(heard.panics.last().cloned().unwrap_or_default())
        }
        // Windows ends an aborted program with this status.
        Some(3) if cfg!(windows) => End::Signalled(6, "an abort"),
        Some(code) => End::Exited(code),
        None => End::Signalled(0, "unknown"),
    }
}

/// How a process the check ran to the end ended, with the panics and last lines of its stderr.
pub(super) fn ending_of(status: ExitStatus, stderr: &str) -> (End, Vec<String>, Vec<String>) {
    let mut heard = Heard::default();
    for line in stderr.lines() {
        note_stderr_line(&mut heard, line);
    }
    (
        end_of(status, &heard),
        heard.panics.clone(),
        heard.stderr_tail.iter().cloned().collect(),
    )
}

#[cfg(unix)]
fn signal_name(signal: i32) -> &'static str {
    match signal {
        2 => "SIGINT, Ctrl-C",
        6 => "SIGABRT, an abort",
        9 => "SIGKILL",
        11 => "SIGSEGV, a crash",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command that sets a variable first still runs, with the variable set, in the shell's
    /// place: its process is the program itself, so its status is the program's own.
    #[cfg(unix)]
    #[test]
    fn a_command_that_sets_a_variable_first_runs_with_it() {
        let output = shell("COURSE_CHECK_VARIABLE='a b' env")
            .output()
            .expect("run sh");
        assert!(output.status.success(), "{output:?}");
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(
            printed
                .lines()
                .any(|line| line == "COURSE_CHECK_VARIABLE=a b"),
            "{printed}"
        );
        // And the status is the program's, not a shell's complaint (127: not found).
        let status = shell("COURSE_CHECK_VARIABLE=1 sh -c 'exit 3'")
            .status()
            .expect("run sh");
        assert_eq!(status.code(), Some(3));
        // A line that says `exec` itself runs as written (`exec exec` was not found: 127), after
        // a variable too (`env` found no `exec`: 127), and so does one that starts with `!`.
        for (line, code) in [
            ("exec sh -c 'exit 3'", 3),
            ("COURSE_CHECK_VARIABLE=1 exec sh -c 'exit 3'", 3),
            // A value in quotes is one word, spaces and all (`b'` was taken for the command).
            ("COURSE_CHECK_VARIABLE='a b' exec sh -c 'exit 3'", 3),
            ("COURSE_CHECK_VARIABLE=\"a b\" exec sh -c 'exit 3'", 3),
            ("! sh -c 'exit 3'", 0),
        ] {
            let status = shell(line).status().expect("run sh");
            assert_eq!(status.code(), Some(code), "{line}");
        }
        for (line, starts) in [
            ("NAME=value program", true),
            ("_N1=x program", true),
            ("1N=x program", false),
            ("program --name=value", false),
            ("./program NAME=value", false),
            ("=x program", false),
        ] {
            assert_eq!(starts_with_assignment(line), starts, "{line}");
        }
    }

    #[test]
    fn panics_and_endings_are_read_off_stderr() {
        let mut heard = Heard::default();
        for line in [
            "thread 'main' (12345) panicked at exercises/src/03_threaded_echo.rs:12:5:",
            "not yet implemented: serve",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
            "thread '<unnamed>' has overflowed its stack",
            "Error: bind failed",
        ] {
            note_stderr_line(&mut heard, line);
        }
        assert_eq!(
            heard.panics,
            ["not yet implemented: serve (at exercises/src/03_threaded_echo.rs:12)"]
        );
        assert_eq!(heard.overflowed.as_deref(), Some("thread '<unnamed>'"));
        assert_eq!(heard.error.as_deref(), Some("bind failed"));
    }

    #[test]
    fn the_listening_line_gives_a_reachable_address() {
        assert_eq!(
            listening_address("listening on 127.0.0.1:4242"),
            Some("127.0.0.1:4242".parse().unwrap())
        );
        assert_eq!(
            listening_address("echo server listening on 0.0.0.0:80, say hi"),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(listening_address("listening on nowhere"), None);
    }
}
