//! The one verdict builder: from what a check's clients saw (its transcript, and where it
//! stopped) and what the learner's program did (its panics, how it ended), the words a learner
//! reads, most telling fact first. Each exercise gives its own [`Advice`]; nothing else differs.
//!
//! Also the structured result: one JSON line per check in the file `COURSE_CHECK_REPORT` names.

use std::io::Write;
use std::time::Duration;

use super::program::{End, NotStarted, Program};
use super::{Exercise, Failure, Outcome, Transcript};

/// The environment variable naming the file each check appends its result to, as one line of
/// JSON ([`Report`]): `{"exercise":"03_threaded_echo","passed":false,"first_sentence":"...",
/// "reason":"...","transcript":"..."}`.
pub const REPORT_VARIABLE: &str = "COURSE_CHECK_REPORT";

/// What an exercise's check says beside the facts, where the harness's own words would not fit.
#[derive(Debug, Clone, Copy)]
pub struct Advice {
    /// Follows "A thread of your server panicked: ...".
    pub on_panic: &'static str,
}

impl Advice {
    /// What most servers' checks say.
    pub const SERVER: Advice = Advice {
        on_panic: "A server must not panic on anything a client does: handle the error (log it \
                   with eprintln!) and carry on.",
    };
}

/// How long after a check stopped the program is given to say how it ended: it may have ended
/// just now, which is what made the check stop.
pub(super) const END_MAY_FOLLOW: Duration = Duration::from_millis(300);

/// How long a program whose listener has closed is given on top of that to end: on a busy
/// machine its way out of `main` can take longer than [`END_MAY_FOLLOW`], and the verdict must
/// not depend on that.
const ENDING_MAY_TAKE: Duration = Duration::from_secs(2);

/// The verdict on one run: the transcript if every step went as expected and the program stayed
/// healthy, otherwise the [`Failure`] with its reason. `the_check_ends_it` says the check itself
/// stopped the program and judged how it ended (exercise 08).
pub(super) fn judge(
    exercise: Exercise,
    advice: &Advice,
    stop: Option<String>,
    mut transcript: Transcript,
    seed: Option<u64>,
    program: &mut Program,
    the_check_ends_it: bool,
) -> Outcome {
    let end = match (&stop, the_check_ends_it) {
        (_, true) => None,
        (Some(_), false) => program
            .wait_for_end(END_MAY_FOLLOW)
            .or_else(|| program.end_if_closing(ENDING_MAY_TAKE)),
        (None, false) => program.end_now(),
    };
    let panics = program.panics();
    if stop.is_none() && end.is_none() && panics.is_empty() {
        return Ok(transcript);
    }
    if stop.is_some() {
        transcript.push("(the check stops here)");
    }
    let reason = reason(advice, stop, end, &panics, &program.stderr_tail());
    Err(Failure {
        exercise,
        reason,
        transcript,
        seed,
    })
}

/// The verdict on a program that could not be started or reached.
pub(super) fn not_started(exercise: Exercise, advice: &Advice, problem: NotStarted) -> Failure {
    let mut transcript = Transcript::default();
    transcript.push("the check starts your program");
    transcript.push("(the check stops here)");
    let reason = if problem.end.is_some() {
        reason(
            advice,
            Some(problem.sentence),
            problem.end,
            &problem.panics,
            &problem.stderr,
        )
    } else {
        with_stderr(problem.sentence, &problem.stderr)
    };
    Failure {
        exercise,
        reason,
        transcript,
        seed: None,
    }
}

fn reason(
    advice: &Advice,
    stop: Option<String>,
    end: Option<End>,
    panics: &[String],
    stderr: &[String],
) -> String {
    if let Some(todo) = panics
        .iter()
        .find(|panic| panic.starts_with("not yet implemented"))
    {
        return format!(
            "Exercise not finished: your server reached a `todo!()`: {todo}.\n\
             Replace each `todo!()` with your code; the `// TODO:` comments say what goes there."
        );
    }
    let (what_arrived, guess) = match &stop {
        Some(stop) => match stop.split_once('\n') {
            Some((first, rest)) => (first.to_string(), Some(rest.to_string())),
            None => (stop.clone(), None),
        },
        None => (
            "Every client got what it expected, but the server did not stay healthy while \
             serving them."
                .to_string(),
            None,
        ),
    };
    let panicked = panics.first().map(|first| {
        format!(
            "A thread of your server panicked: {first}.\n{}",
            advice.on_panic
        )
    });
    let Some(end) = end else {
        // The program still runs: what arrived first, then the panic (the likeliest cause),
        // then the step's own guess.
        let mut lines = vec![what_arrived];
        lines.extend(panicked);
        lines.extend(guess);
        return lines.join("\n");
    };
    // The program ended: that is the news, and what the clients saw is its evidence.
    let mut lines = vec![end.sentence(), what_arrived];
    if !matches!(end, End::Panicked(_)) {
        lines.extend(panicked);
    }
    let reason = lines.join("\n");
    let reason = match end {
        End::Exited(_) | End::Ended(_) | End::Signalled(..) | End::OverflowedStack(_) => {
            with_stderr(reason, stderr)
        }
        _ => reason,
    };
    format!("{reason}\n{}", end.advice())
}

fn with_stderr(mut reason: String, stderr: &[String]) -> String {
    if !stderr.is_empty() {
        reason.push_str("\nThe last lines your program wrote on stderr:");
        for line in stderr {
            reason.push_str("\n    ");
            reason.push_str(line);
        }
    }
    reason
}

/// The first sentence of a verdict's reason: its first line, up to the first `.`, `?` or `!`
/// followed by a space and a capital letter. Quoted text is never cut.
pub fn first_sentence(reason: &str) -> &str {
    let line = reason.lines().next().unwrap_or("");
    let bytes = line.as_bytes();
    let mut quoted = false;
    let mut escaped = false;
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => quoted = !quoted,
            b'.' | b'?' | b'!' if !quoted => {
                let next = bytes.get(at + 1..at + 3);
                if matches!(next, Some([b' ', capital]) if capital.is_ascii_uppercase()) {
                    return &line[..=at];
                }
            }
            _ => {}
        }
    }
    line
}

/// A JSON string, quotes included: the few escapes JSON needs, and nothing else.
pub fn json_string(text: &str) -> String {
    let mut json = String::with_capacity(text.len() + 2);
    json.push('"');
    for c in text.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            '\n' => json.push_str("\\n"),
            '\r' => json.push_str("\\r"),
            '\t' => json.push_str("\\t"),
            c if u32::from(c) < 0x20 => json.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => json.push(c),
        }
    }
    json.push('"');
    json
}

/// A check's result, as the runner (`cargo run -p exercises`) reads it back: one JSON object on
/// one line, in the file [`REPORT_VARIABLE`] names or on stdout (`check NN --json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `03_threaded_echo`.
    pub exercise: String,
    pub passed: bool,
    /// The verdict's first sentence: what arrived. Empty when the check passed.
    pub first_sentence: String,
    /// The whole reason: the first sentence, then the likely mistake. Empty when it passed.
    pub reason: String,
    pub transcript: String,
}

impl Report {
    pub fn new(exercise: &str, outcome: &Outcome) -> Report {
        let (passed, first_sentence, reason, transcript) = match outcome {
            Ok(transcript) => (true, String::new(), String::new(), transcript.to_string()),
            Err(failure) => (
                false,
                self::first_sentence(&failure.reason).to_string(),
                failure.reason.clone(),
                failure.transcript.to_string(),
            ),
        };
        Report {
            exercise: exercise.to_string(),
            passed,
            first_sentence,
            reason,
            transcript,
        }
    }

    /// One JSON object, on one line (no newline at its end).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"exercise\":{},\"passed\":{},\"first_sentence\":{},\"reason\":{},\"transcript\":{}}}",
            json_string(&self.exercise),
            self.passed,
            json_string(&self.first_sentence),
            json_string(&self.reason),
            json_string(&self.transcript)
        )
    }

    /// Reads back what [`Report::to_json`] wrote; `None` for anything else.
    pub fn from_json(line: &str) -> Option<Report> {
        let passed = if line.contains("\"passed\":true") {
            true
        } else if line.contains("\"passed\":false") {
            false
        } else {
            return None;
        };
        Some(Report {
            exercise: json_field(line, "exercise")?,
            passed,
            first_sentence: json_field(line, "first_sentence")?,
            reason: json_field(line, "reason")?,
            transcript: json_field(line, "transcript")?,
        })
    }
}

/// The result of a check as one JSON object, on one line (no newline at its end).
pub fn json(exercise: &str, outcome: &Outcome) -> String {
    Report::new(exercise, outcome).to_json()
}

/// Decodes the JSON string that follows `"key":` in `line`: enough of JSON for the reports above
/// and for cargo's `--message-format=json` lines, so that nothing here needs a JSON crate.
pub fn json_field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut characters = line[start..].chars();
    while let Some(character) = characters.next() {
        match character {
            '"' => return Some(value),
            '\\' => match characters.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                'u' => {
                    let hex: String = characters.by_ref().take(4).collect();
                    value.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => value.push(other), // `\"`, `\\`, `\/`
            },
            other => value.push(other),
        }
    }
    None
}

/// Appends the result to the file [`REPORT_VARIABLE`] names, if it names one. A report that
/// cannot be written is said on stderr; the check's own verdict stands.
pub(super) fn report(exercise: &str, outcome: &Outcome) {
    let Some(path) = std::env::var_os(REPORT_VARIABLE) else {
        return;
    };
    let line = format!("{}\n", json(exercise, outcome));
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        eprintln!(
            "cannot append the check's result to {} ({REPORT_VARIABLE}): {error}",
            std::path::Path::new(&path).display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_escaped_by_hand() {
        assert_eq!(
            json_string("a\"b\\c\nd\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\u0001é\""
        );
    }

    #[test]
    fn the_first_sentence_stops_at_a_sentence_end_outside_quotes() {
        assert_eq!(
            first_sentence("Client A received \"x. Y\" where \"z\" was expected. Does it?\nmore"),
            "Client A received \"x. Y\" where \"z\" was expected."
        );
        assert_eq!(first_sentence("One line"), "One line");
    }

    #[test]
    fn a_report_reads_back_as_written() {
        let report = Report {
            exercise: "03_threaded_echo".into(),
            passed: false,
            first_sentence: "Client B got \"hi\\n\". More".into(),
            reason: "Client B got \"hi\\n\". More\nsecond line é \u{1}".into(),
            transcript: "A> hi\nA< hi\n".into(),
        };
        assert_eq!(Report::from_json(&report.to_json()), Some(report));
        assert_eq!(Report::from_json("running 1 test"), None);
    }

    #[test]
    fn json_fields_are_decoded() {
        let line = r#"{"reason":"compiler-artifact","executable":"C:\\target\\check-1.exe","x":"\"\u00e9"}"#;
        assert_eq!(
            json_field(line, "executable").as_deref(),
            Some(r"C:\target\check-1.exe")
        );
        assert_eq!(json_field(line, "x").as_deref(), Some("\"é"));
        assert_eq!(json_field(r#"{"executable":null}"#, "executable"), None);
    }
}
