//! The exercise checks: run a learner's program against scripted peers, record what happened as
//! a transcript, and explain in words what went wrong.
//!
//! # The frame
//!
//! Every check goes through the same few pieces, so a fix made once reaches every check:
//!
//! - [`Target`] says where the learner's server is: a program to start (an `exNN_*` binary), a
//!   shell command with `{port}` (a server in any language), an address where someone else's
//!   server already listens, or an answer compiled into the test binary itself (the course's
//!   known-wrong and known-right answers, and the reference solutions), started again as a
//!   process of its own. [`Program`] is that running server: it reads the `listening on ADDRESS`
//!   line, and sees the process end (its status, its last stderr lines, a panic with file:line,
//!   an abort, a stack overflow). The learner's server never runs inside the test process.
//! - [`Check`] is what each exercise's module implements: its [`Exercise`], the arguments its
//!   program takes after the address, its [`Advice`], and `play`, which plays the steps against
//!   the running [`Program`] and returns a [`Played`]: the [`Transcript`], and where it stopped
//!   (a first sentence saying what arrived, then the likely mistake, one per line).
//! - One scripted client, `peer::Client`: a connection whose every wait has a deadline, that
//!   waits out a signal's interruption (EINTR), tells a timeout from a close from a reset, and
//!   keeps bytes read ahead for the next step. [`Script`]'s steps and `live::Clients` (named
//!   clients with a transcript, for checks that need their own control flow) are built on it.
//! - [`run`] starts the program, plays the check, and hands both to the one verdict builder
//!   ([`verdict`]), which puts the most telling fact first: an unfinished exercise (a `todo!()`),
//!   a program that ended (its first sentence says so), what arrived, a panic, the guess.
//! - [`check_exercise`] and [`check_solution`] are the two tests' ends: the first prints the
//!   verdict and fails the test, the second also compares the transcript with the snapshot in
//!   `src/check/snapshots/` through insta. Both append one JSON line to the file named by
//!   `COURSE_CHECK_REPORT`, when it is set (see [`verdict::json`]).
//! - Client exercises (02, 05) call the learner's function, so their check runs in the test
//!   process; [`check_client_exercise`] runs it in a child process of the test binary, so that a
//!   function that exits or aborts gets a verdict too, and every other check still runs.
//!
//! # Adding a check
//!
//! 1. Write `src/check/NN_topic.rs` (a module named after the topic) with a `pub const EXERCISE:
//!    Exercise`, a module doc that lists the exercise's whole input space (who connects, what
//!    they send, how the bytes are cut, when clients leave, what fails, every limit's boundary,
//!    how soon "at once" is) and which step covers each part, and a `pub struct` (or a
//!    [`Script`], for a list of [`Step`]s) that implements [`Check`]. `play` uses the scripted
//!    clients ([`Script`]'s steps, or `live::Clients` for checks that need their own control
//!    flow) against `program.address()`, and returns [`Played`]. Each surprise's first line
//!    says what arrived; the next says what it likely means. Never sleep to wait for the
//!    server: wait for what it sends, with a limit ([`PATIENCE`]).
//! 2. Declare it below, and give the exercise a binary (`exercises/src/bin/exNN_topic.rs`, using
//!    `course::cli::serve_by_hand`, taking the check's [`Check::program_args`] after the address).
//! 3. In `exercises/tests/check.rs`: `check_exercise(&check::topic::CHECK,
//!    Target::Program(env!("CARGO_BIN_EXE_exNN_topic").into()))`. In `solutions/tests/check.rs`:
//!    `check_solution(&check::topic::CHECK, Target::answer_in_this_test("NN_topic"))`, and the
//!    same name in that file's `answer_process` test, which serves it with
//!    [`serve_as_program`].
//! 4. Prove it both ways in `tests/suite/check_proofs.rs`: known-wrong answers (each must fail, with
//!    the words its verdict must contain) and known-right ones, served the same way from the
//!    suite's `answer_process` test.
//! 5. `cargo test -p solutions NN` records the snapshot (`cargo insta review`).
//!
//! The learner's checks only ever *read* the snapshot, so nothing a learner runs can rewrite what
//! their code is judged against. The reference solutions' tests go through insta proper, which is
//! how the course's authors record a changed transcript (`cargo insta review`).

pub mod async_echo;
pub mod chat_broker;
mod crowd;
mod diagnose;
mod diff;
pub mod echo_client;
pub mod full_queue;
pub mod greeting;
pub mod http;
pub mod idle_timeout;
mod in_child;
pub mod line_server;
mod live;
pub mod load_client;
mod panics;
pub mod path_sandbox;
mod peer;
pub mod pool;
pub mod program;
mod script;
pub mod shaper;
pub mod shutdown;
mod step;
pub mod threaded_echo;
pub mod udp_client;
pub mod verdict;

use std::fmt;
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;

pub use in_child::{
    check_client_exercise, check_client_solution, run_in_child as run_client_in_child,
};
pub use program::{
    LOOPBACK_IPV6, Program, Target, has_ipv6_loopback, requested_answer, serve_as_program,
};
pub use script::Script;
pub use step::{Crossfire, Flood, NOTHING_ARRIVED, PATIENCE, Quitters, Step};
pub use verdict::Advice;

/// A server exercise's check, as `cargo run -p exercises -- check NN` finds it: it can judge a
/// server in any language, at an address or started by a shell command.
pub struct ServerCheck {
    /// `03`, as the learner types it.
    pub number: &'static str,
    pub check: &'static dyn Check,
    /// What the server must be told, beside its address, for the check (exercise 06's idle time,
    /// exercise 07's pool): the words for a learner who starts it themselves.
    pub started_with: Option<&'static str>,
    /// Why the check cannot judge a server that someone else started, if it cannot.
    pub not_by_address: Option<&'static str>,
}

/// Every server exercise, in order.
pub const SERVER_CHECKS: &[ServerCheck] = &[
    ServerCheck {
        number: "01",
        check: &greeting::CHECK,
        started_with: None,
        not_by_address: None,
    },
    ServerCheck {
        number: "03",
        check: &threaded_echo::SCRIPT,
        started_with: None,
        not_by_address: None,
    },
    ServerCheck {
        number: "04",
        check: &chat_broker::SCRIPT,
        started_with: None,
        not_by_address: None,
    },
    ServerCheck {
        number: "06",
        check: &idle_timeout::CHECK,
        started_with: Some("an idle limit of 1 second (the check's program argument: 1)"),
        not_by_address: None,
    },
    ServerCheck {
        number: "07",
        check: &pool::CHECK,
        started_with: Some("2 workers and room for 4 waiting connections (arguments: 2 4)"),
        not_by_address: None,
    },
    ServerCheck {
        number: "08",
        check: &shutdown::CHECK,
        started_with: Some("a grace period of 0.6 seconds (argument: 0.6)"),
        not_by_address: Some(
            "its check presses Ctrl-C for your server and watches it end, which it can do only \
             for a program it started itself: use --command (on Linux or macOS)",
        ),
    },
    ServerCheck {
        number: "09",
        check: &line_server::SCRIPT,
        started_with: None,
        not_by_address: None,
    },
    ServerCheck {
        number: "10",
        check: &async_echo::SCRIPT,
        started_with: None,
        not_by_address: None,
    },
    ServerCheck {
        number: "12",
        check: &http::CHECK,
        started_with: Some("a header timeout of 1 second (argument: 1)"),
        not_by_address: None,
    },
];

/// The exercises no server can stand in for, and why.
pub const NOT_SERVER_CHECKS: &[(&str, &str)] = &[
    (
        "02",
        "a client: its check calls your Rust function send_lines, playing the server itself",
    ),
    (
        "05",
        "a UDP client: its check calls your Rust function ask, playing the server itself",
    ),
    (
        "11",
        "a load generator: its check calls your Rust function measure, playing the servers itself",
    ),
    (
        "13",
        "a TLS client: its check calls your Rust function connect, playing the servers itself",
    ),
    (
        "14",
        "a function: its check calls your Rust function resolve with paths, no server involved",
    ),
];

/// How many times each known-wrong answer in the checks' proofs is run (`check_proofs`, the
/// async and TLS proofs): once by default, to keep `cargo test` quick, or as many times as
/// `COURSE_PROOF_REPEAT` says. `.ci/run` asks for 20, so that a verdict that depends on a race
/// shows there, not on a learner's machine. A value that is not a count stops the proofs with a
/// sentence: running them once, or not at all, would turn that guard off without a word.
pub fn proof_repeats() -> usize {
    match std::env::var("COURSE_PROOF_REPEAT") {
        Err(_) => 1,
        Ok(text) => crate::cli::whole_number("COURSE_PROOF_REPEAT", text.trim(), 1..=1000)
            .unwrap_or_else(|error| panic!("{error}")),
    }
}

/// The server exercise numbered `number` (`"03"` or `"3"`).
pub fn server_check(number: &str) -> Option<&'static ServerCheck> {
    let number = format!("{:0>2}", number.trim());
    SERVER_CHECKS.iter().find(|server| server.number == number)
}

/// What one run of a check comes to: the transcript when everything went as expected, the
/// failure with its reason otherwise.
pub type Outcome = Result<Transcript, Failure>;

/// An exercise's check: who it is for, and how it plays against the learner's running program.
/// See the module's doc for how to add one.
pub trait Check: Sync {
    /// Who the check is for.
    fn exercise(&self) -> Exercise;

    /// What the program is given after its listen address (a pool's sizes, say).
    fn program_args(&self) -> Vec<String> {
        Vec::new()
    }

    /// What the verdict says beside the facts.
    fn advice(&self) -> Advice {
        Advice::SERVER
    }

    /// Plays the check's clients against the running program.
    fn play(&self, program: &mut Program) -> Played;
}

impl Played {
    /// From the clients' steps: the transcript, or where they stopped and the transcript so far.
    pub fn from_steps(steps: Result<Transcript, (String, Transcript)>) -> Played {
        match steps {
            Ok(transcript) => Played {
                transcript,
                ..Played::default()
            },
            Err((stop, transcript)) => Played {
                transcript,
                stop: Some(stop),
                ..Played::default()
            },
        }
    }
}

/// What a check's clients saw.
#[derive(Debug, Default)]
pub struct Played {
    pub transcript: Transcript,
    /// Where the check stopped, if it did: the first line says what arrived (the verdict's first
    /// sentence), the lines after it what that likely means.
    pub stop: Option<String>,
    /// The seed of the cuts the clients' writes went through (see [`shaper`]), if any.
    pub seed: Option<u64>,
    /// Whether the check asked the program to end, and judged how it ended itself (exercise
    /// 08's shutdown). Otherwise a program that ends before the check is done fails.
    pub end_judged: bool,
}

/// What most exercises' servers look like from the inside: a function that takes a bound listener
/// and serves clients on it, normally forever. [`serve_as_program`] makes one a program.
pub trait Serve: FnOnce(TcpListener) -> anyhow::Result<()> + Send + 'static {}
impl<F: FnOnce(TcpListener) -> anyhow::Result<()> + Send + 'static> Serve for F {}

/// Who an exercise is, for the messages a learner reads.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    /// Matches the file names: `exercises/src/03_threaded_echo.rs`, and the snapshot's name.
    pub id: &'static str,
    /// What the learner builds, e.g. "the threaded echo server".
    pub title: &'static str,
    /// The book chapter with this exercise's hints, relative to the repository's top.
    pub chapter: &'static str,
}

/// After a check stops, how many of the expected lines it never reached are shown.
const MISSING_LINES_SHOWN: usize = 3;

/// A run's record: one line per thing that happened, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    lines: Vec<String>,
}

impl Transcript {
    pub fn push(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// Why a check failed, with everything a learner needs to act on it.
#[derive(Debug, Clone)]
pub struct Failure {
    pub exercise: Exercise,
    /// One or two sentences: what happened and the likely mistake.
    pub reason: String,
    /// What happened, up to and including the surprise.
    pub transcript: Transcript,
    /// The seed of the cuts the scripted peers' writes went through (see [`shaper`]), if any.
    pub seed: Option<u64>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = self
            .exercise
            .id
            .split('_')
            .next()
            .unwrap_or(self.exercise.id);
        self.write(f, &format!("cargo test -p exercises {number}"))
    }
}

impl Failure {
    /// The verdict, ending with `rerun`: the command that runs this check again.
    pub fn with_rerun<'a>(&'a self, rerun: &'a str) -> impl fmt::Display + 'a {
        struct WithRerun<'a>(&'a Failure, &'a str);
        impl fmt::Display for WithRerun<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, self.1)
            }
        }
        WithRerun(self, rerun)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, rerun: &str) -> fmt::Result {
        let Exercise { id, title, chapter } = self.exercise;
        writeln!(f, "exercise {id} ({title}) is not right yet.")?;
        writeln!(f)?;
        writeln!(f, "{}", self.reason)?;
        writeln!(f)?;
        match expected_transcript(id) {
            Ok(expected) => {
                writeln!(
                    f,
                    "What happened (- lines: what should happen, + lines: what your code did):"
                )?;
                let got: Vec<&str> = self.transcript.lines.iter().map(String::as_str).collect();
                let want: Vec<&str> = expected.lines().collect();
                write!(f, "{}", diff::lines(&want, &got, MISSING_LINES_SHOWN))?;
            }
            Err(problem) => {
                writeln!(f, "What happened ({problem}):")?;
                write!(f, "{}", self.transcript)?;
            }
        }
        writeln!(f)?;
        if let Some(seed) = self.seed {
            writeln!(
                f,
                "On their way, the check's writes were cut up with seed {seed}; to make the same \
                 cuts again: {}={seed} {rerun}",
                shaper::SEED_VARIABLE
            )?;
        }
        write!(
            f,
            "Hints: the folded hints under the exercise's heading in {chapter} \
             (or `mdbook serve book --open`). \
             Run this check alone with: {rerun}"
        )
    }
}

/// Runs `check` against the learner's program at `target`: starts it, plays, and judges.
pub fn run(check: &(impl Check + ?Sized), target: &Target) -> Outcome {
    let exercise = check.exercise();
    let advice = check.advice();
    let mut program = match Program::start(target, &check.program_args()) {
        Ok(program) => program,
        Err(problem) => return Err(verdict::not_started(exercise, &advice, problem)),
    };
    let played = check.play(&mut program);
    verdict::judge(
        exercise,
        &advice,
        played.stop,
        played.transcript,
        played.seed,
        &mut program,
        played.end_judged,
    )
}

/// Checks a learner's server, failing the test with a readable [`Failure`] if it is wrong.
/// Never writes a snapshot.
pub fn check_exercise(check: &(impl Check + ?Sized), target: Target) {
    announce_the_servers_log();
    let outcome = run(check, &target);
    verdict::report(check.exercise().id, &outcome);
    if let Err(failure) = outcome {
        give_verdict(&failure);
    }
}

/// Printed before a check starts, so that it stands above whatever the learner's own server
/// prints. `cargo test` keeps a test's output and shows it only if the test fails, under
/// `---- NAME stdout ----`, after the verdict: this line says whose words those are. (With
/// `--nocapture` everything is shown as it happens, and the verdict comes last.)
pub(crate) fn announce_the_servers_log() {
    println!(
        "(What your own code printed while the check ran, if anything, follows this line. The \
         check's verdict is printed on its own.)"
    );
}

/// Shows the verdict and fails the test, without the panic message, location and backtrace
/// (`RUST_BACKTRACE=1` is common on learners' machines) that a panic would add: they would point
/// at the harness, not at the learner's code.
pub(crate) fn give_verdict(failure: &Failure) -> ! {
    // Straight to the terminal, not through `print!`: `cargo test` would hold that back until
    // the end and put the learner's log lines above it.
    let verdict = format!("\n{failure}\n\n");
    let _ = std::io::stderr().lock().write_all(verdict.as_bytes());
    // An unwind that skips the panic hook: the test fails, and nothing else is printed.
    std::panic::resume_unwind(Box::new(VerdictGiven));
}

/// The payload of a failed check's unwind; the verdict has been printed already.
#[derive(Debug)]
pub struct VerdictGiven;

/// Checks a reference solution: it must pass, and its transcript must match the snapshot through
/// insta, so that a deliberate change to a script is reviewed with `cargo insta review`.
pub fn check_solution(check: &(impl Check + ?Sized), target: Target) {
    let outcome = run(check, &target);
    verdict::report(check.exercise().id, &outcome);
    match outcome {
        Ok(transcript) => assert_matches_snapshot(check.exercise().id, &transcript),
        Err(failure) => panic!("\n\nthe reference solution fails its own check:\n{failure}\n"),
    }
}

/// The insta half of [`check_solution`], shared with the client checks.
pub(crate) fn assert_matches_snapshot(id: &str, transcript: &Transcript) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir());
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(id, transcript.to_string()));
}

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/check/snapshots")
}

/// The body of the exercise's snapshot: everything after insta's `---` header.
pub fn expected_transcript(id: &str) -> Result<String, String> {
    let path = snapshot_dir().join(format!("{id}.snap"));
    let text = std::fs::read_to_string(&path).map_err(|error| {
        format!(
            "cannot read the expected transcript {}: {error}",
            path.display()
        )
    })?;
    // A checkout that turned line endings into `\r\n` (Windows, without .gitattributes) must
    // still compare equal.
    let text = text.replace("\r\n", "\n");
    let body = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(_header, body)| body)
        .ok_or_else(|| format!("{} is not an insta snapshot", path.display()))?;
    Ok(body.trim_end().to_string() + "\n")
}
