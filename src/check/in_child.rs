//! Client exercises (02, 05) hand the learner's function to the check, which calls it: the check
//! runs in the process that calls it. So that a function that exits or aborts still gets a
//! verdict, and takes no other check down with it, the test binary starts itself again, running
//! only the test at hand, and that child plays the check and prints its outcome for the parent.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::program::{self, End};
use super::verdict::{self, REPORT_VARIABLE};
use super::{Exercise, Failure, Outcome, Transcript, announce_the_servers_log, give_verdict};

/// Set in the child: the id of the exercise whose check it plays.
const CHILD_VARIABLE: &str = "COURSE_CHECK_CLIENT";
/// Starts the line on which the child gives its outcome.
const MARKER: &str = "\u{1e}course-check-outcome";
/// A client check that runs longer than this is stopped: every wait inside has its own limit,
/// so only a function that never returns (and ignores its own limits) reaches it.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// Checks a learner's client function (`run` plays the check on it), in a child process.
pub fn check_client_exercise(exercise: Exercise, run: impl FnOnce() -> Outcome) {
    announce_the_servers_log();
    let outcome = run_in_child(exercise, run);
    verdict::report(exercise.id, &outcome);
    if let Err(failure) = outcome {
        give_verdict(&failure);
    }
}

/// Checks a reference client, in a child process: it must pass and match its snapshot.
pub fn check_client_solution(exercise: Exercise, run: impl FnOnce() -> Outcome) {
    let outcome = run_in_child(exercise, run);
    verdict::report(exercise.id, &outcome);
    match outcome {
        Ok(transcript) => super::assert_matches_snapshot(exercise.id, &transcript),
        Err(failure) => panic!("\n\nthe reference solution fails its own check:\n{failure}\n"),
    }
}

/// In the child: plays the check, prints the outcome, and ends the process. In the parent:
/// starts the child and reads its outcome, or names how it ended without one.
pub fn run_in_child(exercise: Exercise, run: impl FnOnce() -> Outcome) -> Outcome {
    if std::env::var(CHILD_VARIABLE).as_deref() == Ok(exercise.id) {
        let outcome = run();
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "\n{}", encode(&outcome));
        let _ = stdout.flush();
        std::process::exit(0);
    }
    let test = thread::current()
        .name()
        .expect("a check runs on a test's thread, which libtest names")
        .to_string();
    let exe = std::env::current_exe().expect("a test knows its own program");
    let started = Command::new(exe)
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(CHILD_VARIABLE, exercise.id)
        .env("RUST_BACKTRACE", "0")
        .env_remove(REPORT_VARIABLE)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match started {
        Ok(child) => child,
        Err(error) => {
            return Err(ended(
                exercise,
                format!("The check could not start itself again: {error}."),
            ));
        }
    };
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let deadline = Instant::now() + CHILD_LIMIT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    // What the learner's code printed is theirs to see, with the test's output.
    for line in stdout.lines().filter(|line| !line.starts_with(MARKER)) {
        println!("{line}");
    }
    for line in stderr.lines() {
        println!("{line}");
    }
    if let Some(outcome) = stdout.lines().find_map(|line| decode(exercise, line)) {
        return outcome;
    }
    let Some(status) = status else {
        return Err(ended(
            exercise,
            format!(
                "The check did not finish within {} s: your function never returned.",
                CHILD_LIMIT.as_secs()
            ),
        ));
    };
    let (end, panics, tail) = program::ending_of(status, &stderr);
    let mut reason = match &end {
        End::Exited(status) => format!(
            "The program ended with status {status} while your function ran: something called \
             std::process::exit."
        ),
        other => other
            .sentence()
            .replacen("Your program", "The program running your function", 1),
    };
    if let Some(panic) = panics.first() {
        reason.push_str(&format!("\nIt panicked: {panic}."));
    }
    if !tail.is_empty() {
        reason.push_str("\nThe last lines written on stderr:");
        for line in tail {
            reason.push_str(&format!("\n    {line}"));
        }
    }
    reason.push_str(
        "\nA function returns what went wrong (an Err) to its caller: it never ends the program \
         that called it.",
    );
    Err(ended(exercise, reason))
}

fn ended(exercise: Exercise, reason: String) -> Failure {
    let mut transcript = Transcript::default();
    transcript.push("the check calls your function");
    transcript.push("(the check stops here: its process ended)");
    Failure {
        exercise,
        reason,
        transcript,
        seed: None,
    }
}

fn read_all(reader: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut reader) = reader {
            let _ = reader.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
        .replace('\r', "\\r")
}

fn unescape(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            plain.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => plain.push('\n'),
            Some('t') => plain.push('\t'),
            Some('r') => plain.push('\r'),
            Some(other) => plain.push(other),
            None => {}
        }
    }
    plain
}

fn encode(outcome: &Outcome) -> String {
    let (passed, reason, transcript, seed) = match outcome {
        Ok(transcript) => (true, String::new(), transcript, None),
        Err(failure) => (
            false,
            failure.reason.clone(),
            &failure.transcript,
            failure.seed,
        ),
    };
    let seed = seed.map_or("-".to_string(), |seed| seed.to_string());
    format!(
        "{MARKER}\t{passed}\t{seed}\t{}\t{}",
        escape(&reason),
        escape(&transcript.to_string())
    )
}

fn decode(exercise: Exercise, line: &str) -> Option<Outcome> {
    let mut fields = line.strip_prefix(MARKER)?.strip_prefix('\t')?.split('\t');
    let passed = fields.next()? == "true";
    let seed = fields.next()?.parse().ok();
    let reason = unescape(fields.next()?);
    let mut transcript = Transcript::default();
    for line in unescape(fields.next()?).lines() {
        transcript.push(line);
    }
    Some(match passed {
        true => Ok(transcript),
        false => Err(Failure {
            exercise,
            reason,
            transcript,
            seed,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_crosses_the_pipe_whole() {
        let exercise = Exercise {
            id: "02_echo_client",
            title: "t",
            chapter: "c",
        };
        let mut transcript = Transcript::default();
        transcript.push("a \"line\"\twith\\ things");
        transcript.push("second");
        let failure = Failure {
            exercise,
            reason: "first\nsecond \\n".into(),
            transcript: transcript.clone(),
            seed: Some(7),
        };
        let Some(Err(back)) = decode(exercise, &encode(&Err(failure))) else {
            panic!("not decoded")
        };
        assert_eq!(back.reason, "first\nsecond \\n");
        assert_eq!(back.transcript, transcript);
        assert_eq!(back.seed, Some(7));
        assert!(
            matches!(decode(exercise, &encode(&Ok(transcript.clone()))), Some(Ok(back))
                if back == transcript)
        );
    }
}
