//! The exercise checks: run a learner's server (or client) against scripted peers, record what
//! happened as a transcript, and explain in words what went wrong.
//!
//! A check is a [`Script`]: a list of [`Step`]s that scripted clients perform in order, each
//! `Receive` step saying what the client should get back and what it likely means when it does
//! not. The harness:
//!
//! 1. starts the learner's `serve(listener)` on `127.0.0.1:0` in a background thread, catching a
//!    panic (a `todo!()` not yet replaced) or an early return;
//! 2. plays the steps, with a time limit on every wait, and writes down each thing that happened
//!    in a [`Transcript`] free of ports and timings, so the same run always reads the same;
//! 3. stops at the first surprise, and reports a [`Failure`]: the transcript against the expected
//!    one (an insta snapshot stored in `src/check/snapshots/`, beside this file), one sentence
//!    naming the likely mistake, and where the hint is.
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
pub mod greeting;
pub mod http;
pub mod idle_timeout;
mod live;
mod panics;
pub mod path_sandbox;
mod peer;
pub mod pool;
mod script;
pub mod shaper;
pub mod shutdown;
mod step;
pub mod threaded_echo;
pub mod udp_client;

use std::fmt;
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;

pub use script::Script;
pub use step::{Crossfire, Flood, PATIENCE, Step};

/// What every exercise's server looks like from the outside: it takes a bound listener and serves
/// clients on it, normally forever.
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
    pub(crate) fn push(&mut self, line: impl Into<String>) {
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
        let number = id.split('_').next().unwrap_or(id);
        if let Some(seed) = self.seed {
            writeln!(
                f,
                "On their way, the check's writes were cut up with seed {seed}; to make the same \
                 cuts again: {}={seed} cargo test -p exercises {number}",
                shaper::SEED_VARIABLE
            )?;
        }
        write!(
            f,
            "Hints: the folded hints under the exercise's heading in {chapter} \
             (or `mdbook serve book --open`). \
             Run this check alone with: cargo test -p exercises {number}"
        )
    }
}

/// Checks a learner's server, failing the test with a readable [`Failure`] if it is wrong.
/// Never writes a file: the expected transcript is only read.
pub fn check_exercise(script: &Script, serve: impl Serve) {
    announce_the_servers_log();
    if let Err(failure) = script.run(serve) {
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
pub fn check_solution(script: &Script, serve: impl Serve) {
    match script.run(serve) {
        Ok(transcript) => assert_matches_snapshot(script.exercise.id, &transcript),
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
