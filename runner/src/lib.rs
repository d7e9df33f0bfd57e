//! `cargo run -p exercises`: which exercises are done, which comes next, and (with `--watch`) a
//! recheck of each exercise as soon as its file is saved.
//!
//! There is no second judge here. Every verdict comes from the exercise's own check, run as a
//! child process exactly as `cargo test -p exercises --test check -- --exact exNN_topic` would run
//! it. This module only builds the checks once, runs them side by side, and reads each check's
//! result: the check writes it as one line of JSON to the file `COURSE_CHECK_REPORT` names
//! ([`course::check::verdict::Report`]), the same structure it prints with `check NN --json`, so
//! nothing here reads the verdict's English. A check that ends without a report (a crash) is
//! still shown as "not done", with the command that tells the whole story.
//!
//! `check NN --address HOST:PORT` (and `--command`) is in [`by_address`].
//!
//! Watching polls the files' modification times twice a second instead of asking the operating
//! system for events: no watcher crate, and it works wherever a file's time can be read. Where even
//! that fails (some network drives, WSL reading a Windows drive), pressing Enter rechecks by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use course::check::verdict::{REPORT_VARIABLE, Report, json_field};

pub mod by_address;

/// How often watch mode looks at the files' modification times.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// How many checks run at once. Each plays a few scripted clients that mostly wait on sockets,
/// so a few at a time finish sooner; too many on a small machine could make a check's 2 s limits
/// tight for reasons that are not the learner's.
const CHECKS_AT_ONCE: usize = 4;

/// A check that runs longer than this is stopped and reported: every wait inside a check has its
/// own limit, so this only guards against a check that is itself broken.
const CHECK_LIMIT: Duration = Duration::from_secs(60);

/// One exercise file, `exercises/src/NN_topic.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    /// `03_threaded_echo`: the file's name without `.rs`, and the check's name without `ex`.
    pub id: String,
    /// `03`.
    pub number: String,
    /// From the file's first line, `//! Exercise 03: serve many clients at once.`
    pub title: String,
    /// Where the learner works.
    pub path: PathBuf,
}

impl Exercise {
    /// The check's test function in `exercises/tests/check.rs`.
    pub fn test_name(&self) -> String {
        format!("ex{}", self.id)
    }
}

/// The exercise files in `dir`, in order: every `NN_topic.rs` whose name starts with two digits.
pub fn discover(dir: &Path) -> io::Result<Vec<Exercise>> {
    let mut exercises = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(id) = exercise_id(&path) else {
            continue;
        };
        let number = id[..2].to_string();
        // A file that cannot be read still is an exercise; its check will say what is wrong.
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        let title = title_from_source(&source).unwrap_or_else(|| id[3..].replace('_', " "));
        exercises.push(Exercise {
            id,
            number,
            title,
            path,
        });
    }
    exercises.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(exercises)
}

/// `03_threaded_echo` for `.../03_threaded_echo.rs`; `None` for any other file.
fn exercise_id(path: &Path) -> Option<String> {
    if path.extension()? != "rs" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    let bytes = stem.as_bytes();
    let numbered = bytes.len() > 3
        && bytes[0].is_ascii_digit()
        && bytes[1].is_ascii_digit()
        && bytes[2] == b'_';
    numbered.then(|| stem.to_string())
}

/// The title in an exercise file's first line: `//! Exercise 01: a greeting that names its client.`
pub fn title_from_source(source: &str) -> Option<String> {
    let first = source.lines().next()?.strip_prefix("//!")?.trim();
    let (_, title) = first.strip_prefix("Exercise ")?.split_once(':')?;
    let title = title.trim().trim_end_matches('.');
    (!title.is_empty()).then(|| title.to_string())
}

/// Where an exercise stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Its check passed.
    Done,
    /// Its check failed; the text is the first sentence of the verdict, or what to run instead.
    NotDone(String),
    /// The exercises do not compile; the text is the compiler's first error and where it is.
    DoesNotCompile(String),
    /// Another exercise's file does not compile, so this one could not be checked.
    NotChecked(String),
    /// Not checked yet.
    Waiting,
}

impl Status {
    pub fn is_done(&self) -> bool {
        *self == Status::Done
    }
}

/// What a check process left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutput {
    /// Whether the process succeeded.
    pub passed: bool,
    /// What the check reported, if it got as far as a verdict.
    pub report: Option<Report>,
}

/// Reads a check's result as a status for exercise `id`.
pub fn judge(id: &str, number: &str, check: &CheckOutput) -> Status {
    match &check.report {
        _ if check.passed => Status::Done,
        Some(report) if report.exercise == id && !report.passed => {
            Status::NotDone(report.first_sentence.clone())
        }
        _ => Status::NotDone(format!(
            "its check failed; run `cargo test -p exercises {number}` to see why"
        )),
    }
}

/// The first error in a compiler's output, with its place: `error[E0308]: mismatched types
/// (exercises/src/03_threaded_echo.rs:12:5)`. `None` if there is no error line.
pub fn first_compile_error(stderr: &str) -> Option<(String, Option<String>)> {
    let mut lines = stderr.lines();
    let error = lines.find(|line| {
        line.starts_with("error")
            && !line.starts_with("error: could not compile")
            && !line.starts_with("error: aborting")
    })?;
    // The place follows within a line or two, as ` --> path:line:column`.
    let place = lines
        .take(3)
        .find_map(|line| line.trim_start().strip_prefix("--> "))
        .map(|place| place.trim().to_string());
    Some((error.trim().to_string(), place))
}

/// What [`Checker::prepare`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// The checks are built and can run.
    Ready,
    /// The exercises do not compile: the first error, and its place if the compiler gave one.
    DoesNotCompile {
        error: String,
        place: Option<String>,
    },
}

/// Runs the checks. The real one drives cargo; tests substitute their own.
pub trait Checker: Sync {
    /// Builds what the checks need (once, before a round of checks).
    fn prepare(&self) -> anyhow::Result<Prepared>;
    /// The names of the checks that exist, e.g. `ex03_threaded_echo`.
    fn check_names(&self) -> anyhow::Result<Vec<String>>;
    /// Runs one exercise's check.
    fn check(&self, exercise: &Exercise) -> anyhow::Result<CheckOutput>;
}

/// The real checker: `cargo test -p exercises --test check --no-run` once, then the test binary
/// it built, once per exercise, with `--exact exNN_topic`: the same run `cargo test` makes, minus
/// cargo, which would hold its build lock and make the checks wait for each other.
pub struct CargoChecker {
    /// The `exercises` package's directory; checks run there, as under `cargo test`.
    package_dir: PathBuf,
    /// The test binary from the last successful build.
    test_binary: Mutex<Option<PathBuf>>,
}

impl CargoChecker {
    pub fn new(package_dir: PathBuf) -> CargoChecker {
        CargoChecker {
            package_dir,
            test_binary: Mutex::new(None),
        }
    }

    fn test_binary(&self) -> anyhow::Result<PathBuf> {
        let binary = self.test_binary.lock().unwrap_or_else(|e| e.into_inner());
        binary
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the checks are not built yet"))
    }

    /// Runs the test binary with `arguments`; `report` is the file a check writes its result to.
    /// Whether it succeeded, and its stdout.
    fn run_test_binary(
        &self,
        arguments: &[&str],
        report: Option<&Path>,
    ) -> anyhow::Result<(bool, String)> {
        let mut command = Command::new(self.test_binary()?);
        if let Some(report) = report {
            command.env(REPORT_VARIABLE, report);
        }
        let mut child = command
            .args(arguments)
            .current_dir(&self.package_dir)
            // The verdict is the message; a backtrace would only show the harness's own code.
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = read_in_background(child.stdout.take());
        let stderr = read_in_background(child.stderr.take());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > CHECK_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("the check did not finish within {CHECK_LIMIT:?}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        // Read to the end, so that the child never blocks on a full pipe; only stdout is used.
        let output = stdout.recv().unwrap_or_default();
        let _ = stderr.recv();
        Ok((status.success(), output))
    }
}

impl Checker for CargoChecker {
    fn prepare(&self) -> anyhow::Result<Prepared> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut build = Command::new(cargo);
        build.args(["test", "-p", "exercises", "--test", "check", "--no-run"]);
        // Building the checks relinks this package's programs, this one included. Windows
        // cannot replace a program while it runs, so there the checks get a directory of their
        // own (one extra build, the first time).
        if cfg!(windows) {
            if let Some(workspace) = self.package_dir.parent() {
                build
                    .arg("--target-dir")
                    .arg(workspace.join("target").join("checks"));
            }
        }
        let output = build
            // Artifacts as JSON on stdout, to find the binary; errors as a person reads them.
            .arg("--message-format=json-render-diagnostics")
            .current_dir(&self.package_dir)
            .env("CARGO_TERM_COLOR", "never")
            .stdin(Stdio::null())
            .output()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return match first_compile_error(&stderr) {
                Some((error, place)) => Ok(Prepared::DoesNotCompile { error, place }),
                None => anyhow::bail!("building the checks failed:\n{stderr}"),
            };
        }
        let binary = stdout
            .lines()
            // Cargo builds the package's programs for its tests too; the test is the one
            // whose target kind is `test`.
            .filter(|line| {
                line.contains("\"reason\":\"compiler-artifact\"")
                    && line.contains("\"kind\":[\"test\"]")
            })
            .find_map(|line| json_field(line, "executable"))
            .ok_or_else(|| anyhow::anyhow!("cargo built the checks but named no test binary"))?;
        *self.test_binary.lock().unwrap_or_else(|e| e.into_inner()) = Some(binary.into());
        Ok(Prepared::Ready)
    }

    fn check_names(&self) -> anyhow::Result<Vec<String>> {
        let (_, listed) = self.run_test_binary(&["--list", "--format=terse"], None)?;
        Ok(listed
            .lines()
            .filter_map(|line| line.strip_suffix(": test"))
            .map(str::to_string)
            .collect())
    }

    fn check(&self, exercise: &Exercise) -> anyhow::Result<CheckOutput> {
        // One file per check and per run of this program: checks run side by side.
        let report_file = std::env::temp_dir().join(format!(
            "course-check-{}-{}.json",
            std::process::id(),
            exercise.id
        ));
        let _ = std::fs::remove_file(&report_file);
        let (passed, _) = self.run_test_binary(
            &["--exact", &exercise.test_name(), "--test-threads=1"],
            Some(&report_file),
        )?;
        let written = std::fs::read_to_string(&report_file).unwrap_or_default();
        let _ = std::fs::remove_file(&report_file);
        Ok(CheckOutput {
            passed,
            report: written.lines().rev().find_map(Report::from_json),
        })
    }
}

/// Everything `reader` produces, as text, once it ends.
fn read_in_background(reader: Option<impl io::Read + Send + 'static>) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut all = Vec::new();
        if let Some(mut reader) = reader {
            let _ = reader.read_to_end(&mut all);
        }
        let _ = sender.send(String::from_utf8_lossy(&all).into_owned());
    });
    receiver
}

/// The exercises and where each stands.
#[derive(Debug, Clone, Default)]
pub struct Board {
    pub exercises: Vec<Exercise>,
    pub status: BTreeMap<String, Status>,
}

impl Board {
    pub fn new(exercises: Vec<Exercise>) -> Board {
        let status = exercises
            .iter()
            .map(|exercise| (exercise.id.clone(), Status::Waiting))
            .collect();
        Board { exercises, status }
    }

    fn status(&self, exercise: &Exercise) -> &Status {
        self.status.get(&exercise.id).unwrap_or(&Status::Waiting)
    }

    pub fn all_done(&self) -> bool {
        self.exercises
            .iter()
            .all(|exercise| self.status(exercise).is_done())
    }

    /// What to work on: an exercise that does not compile (no check can run until it does),
    /// else the first not done after the last one done (a learner who has just finished 06 goes
    /// on to 07, not back to 01), else the first not done.
    pub fn next(&self) -> Option<&Exercise> {
        let does_not_compile = self
            .exercises
            .iter()
            .find(|exercise| matches!(self.status(exercise), Status::DoesNotCompile(_)));
        let last_done = self
            .exercises
            .iter()
            .rposition(|exercise| self.status(exercise).is_done());
        let not_done = |exercise: &&Exercise| !self.status(exercise).is_done();
        does_not_compile
            .or_else(|| {
                let after = last_done.map_or(0, |at| at + 1);
                self.exercises[after..].iter().find(not_done)
            })
            .or_else(|| self.exercises.iter().find(not_done))
    }

    /// Takes in a new list of files, keeping what is known about those that stayed.
    fn refresh(&mut self, exercises: Vec<Exercise>) {
        for exercise in &exercises {
            self.status
                .entry(exercise.id.clone())
                .or_insert(Status::Waiting);
        }
        self.exercises = exercises;
    }
}

/// Checks `which` exercises of the board (all of them when `None`), updating their status.
pub fn check_exercises(
    board: &mut Board,
    checker: &dyn Checker,
    which: Option<&BTreeSet<String>>,
) -> anyhow::Result<()> {
    let chosen: Vec<Exercise> = board
        .exercises
        .iter()
        .filter(|exercise| which.is_none_or(|which| which.contains(&exercise.id)))
        .cloned()
        .collect();
    if chosen.is_empty() {
        return Ok(());
    }
    match checker.prepare()? {
        Prepared::Ready => {}
        Prepared::DoesNotCompile { error, place } => {
            // The error belongs to the exercise whose file it names; if it names none (or a
            // file that is not an exercise), it is shown on every exercise that was to be checked.
            let culprit = place.as_deref().and_then(|place| {
                board.exercises.iter().find(|exercise| {
                    exercise
                        .path
                        .file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| place.contains(name))
                })
            });
            let shown = match &place {
                Some(place) => format!("{error} (at {place})"),
                None => error.clone(),
            };
            for exercise in &board.exercises {
                let status = match culprit {
                    Some(culprit) if culprit.id == exercise.id => {
                        Status::DoesNotCompile(shown.clone())
                    }
                    // Others keep what their last check said; only the unchecked need a word.
                    Some(culprit) if board.status.get(&exercise.id) == Some(&Status::Waiting) => {
                        Status::NotChecked(format!(
                            "exercise {} does not compile, so no check can run",
                            culprit.number
                        ))
                    }
                    Some(_) => continue,
                    None if chosen.contains(exercise) => Status::DoesNotCompile(shown.clone()),
                    None => continue,
                };
                board.status.insert(exercise.id.clone(), status);
            }
            return Ok(());
        }
    }
    // The build works: exercises that a compile error kept from their check (or that are new)
    // are checked now too, whichever file was saved.
    let mut chosen = chosen;
    for exercise in &board.exercises {
        let unchecked = matches!(
            board.status(exercise),
            Status::NotChecked(_) | Status::DoesNotCompile(_) | Status::Waiting
        );
        if unchecked && !chosen.contains(exercise) {
            chosen.push(exercise.clone());
        }
    }
    let names = checker.check_names()?;
    let queue = Mutex::new(chosen.into_iter());
    let results = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..CHECKS_AT_ONCE {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some(exercise) = next else { break };
                    let status = if !names.contains(&exercise.test_name()) {
                        Status::NotDone(format!(
                            "it has no check yet: exercises/tests/check.rs has no test named {}",
                            exercise.test_name()
                        ))
                    } else {
                        match checker.check(&exercise) {
                            Ok(output) => judge(&exercise.id, &exercise.number, &output),
                            Err(error) => Status::NotDone(format!(
                                "its check could not run ({error}); run `cargo test -p \
                                 exercises {}` to see why",
                                exercise.number
                            )),
                        }
                    };
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((exercise.id, status));
                }
            });
        }
    });
    board
        .status
        .extend(results.into_inner().unwrap_or_else(|e| e.into_inner()));
    Ok(())
}

/// The board as text: one line per exercise, then what to do next.
pub fn render(board: &Board) -> String {
    let mut text = String::new();
    let done = board
        .exercises
        .iter()
        .filter(|exercise| board.status(exercise).is_done())
        .count();
    let _ = writeln!(
        text,
        "Your exercises (exercises/src/): {done} of {} done\n",
        board.exercises.len()
    );
    let lines: Vec<(&Exercise, &str, Option<&str>)> = board
        .exercises
        .iter()
        .map(|exercise| {
            let (mark, detail) = match board.status(exercise) {
                Status::Done => ("done", None),
                Status::NotDone(why) => ("not done", Some(why.as_str())),
                Status::DoesNotCompile(error) => ("does not compile", Some(error.as_str())),
                Status::NotChecked(why) => ("not checked", Some(why.as_str())),
                Status::Waiting => ("checking", None),
            };
            (exercise, mark, detail)
        })
        .collect();
    // The titles line up under each other, however long the longest mark on screen.
    let width = lines
        .iter()
        .map(|(_, mark, _)| mark.len())
        .max()
        .unwrap_or(0);
    for (exercise, mark, detail) in lines {
        let line = match detail {
            Some(detail) => format!(
                "  {}  {mark:<width$}  {}: {detail}",
                exercise.number, exercise.title
            ),
            None => format!("  {}  {mark:<width$}  {}", exercise.number, exercise.title),
        };
        // Long lines wrap under the title, so that the list reads in an 80-column terminal.
        text.push_str(&wrap(&line, SCREEN_WIDTH, 8 + width));
    }
    text.push('\n');
    match board.next() {
        None if board.exercises.is_empty() => {
            text.push_str("No exercise files found in exercises/src/.\n");
        }
        None => text.push_str("All done. Well done!\n"),
        Some(next) => {
            let _ = writeln!(
                text,
                "Next: exercise {}, {} ({})",
                next.number,
                next.title,
                relative_to_repository(&next.path)
            );
            let _ = writeln!(
                text,
                "Check it alone, with the whole story: cargo test -p exercises {}",
                next.number
            );
            text.push_str(
                "Hints: in the book, folded under each exercise's heading in its lesson's \
                 chapter\n(mdbook serve book --open).\n",
            );
        }
    }
    text
}

/// How wide a line of the list may be: a terminal's usual 80 columns.
const SCREEN_WIDTH: usize = 80;

/// `line`, cut between words into lines of at most `width` characters (a longer word stays
/// whole), each after the first indented by `indent` spaces; every line ends with a newline.
pub fn wrap(line: &str, width: usize, indent: usize) -> String {
    let body = line.trim_start();
    let mut current = line[..line.len() - body.len()].to_string();
    let mut text = String::new();
    let mut at_start = true;
    // Splitting at each space keeps runs of spaces (the list's columns) as empty words.
    for word in body.split(' ') {
        if !at_start && current.chars().count() + 1 + word.chars().count() > width {
            text.push_str(current.trim_end());
            text.push('\n');
            current = " ".repeat(indent);
            at_start = true;
        }
        if !at_start {
            current.push(' ');
        }
        current.push_str(word);
        at_start = false;
    }
    text.push_str(current.trim_end());
    text.push('\n');
    text
}

/// `exercises/src/03_threaded_echo.rs`, whatever directory the path starts from.
fn relative_to_repository(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    format!("exercises/src/{}", name.unwrap_or_default())
}

/// What the person at the keyboard asked for in watch mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Enter: check every exercise again.
    RecheckAll,
    /// `q` and Enter.
    Quit,
}

/// The modification time of every `.rs` file in `dir`; `None` for a file whose time the system
/// cannot tell (some network drives).
fn file_times(dir: &Path) -> io::Result<BTreeMap<PathBuf, Option<SystemTime>>> {
    let mut times = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "rs") {
            let time = std::fs::metadata(&path)
                .and_then(|meta| meta.modified())
                .ok();
            times.insert(path, time);
        }
    }
    Ok(times)
}

/// How watch mode ends its screen: how to recheck, how to quit, and where watching fails.
fn watch_footer(can_watch: bool) -> String {
    let mut text = String::new();
    if can_watch {
        text.push_str(
            "Watching exercises/src/: save an exercise's file and it is checked again.\n\
             If a save is not picked up (a network drive, WSL working on a Windows folder),\n\
             press Enter to recheck everything.\n",
        );
    } else {
        text.push_str(
            "Cannot watch here: this file system does not tell when a file changed.\n\
             Press Enter after saving to recheck everything,\n\
             or run `cargo run -p exercises`.\n",
        );
    }
    text.push_str("Quit with q then Enter, or Ctrl-C.\n");
    text
}

/// Where watch mode draws: a terminal gets a cleared screen each time; anything else (a pipe, a
/// test) gets each screen after the last, with a line between.
pub struct Screen<'a> {
    pub out: &'a mut dyn Write,
    pub clear: bool,
}

impl Screen<'_> {
    fn draw(&mut self, board: &Board, note: &str, footer: &str) -> io::Result<()> {
        let mut text = String::new();
        if self.clear {
            // Clear the screen and move to its top.
            text.push_str("\x1b[2J\x1b[H");
        } else {
            text.push_str("----\n");
        }
        text.push_str(&render(board));
        if !note.is_empty() {
            let _ = writeln!(text, "\n{note}");
        }
        let _ = write!(text, "\n{footer}");
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }
}

/// Watch mode: check everything, then recheck each exercise whose file is saved, until `requests`
/// asks to quit. If `requests` closes (no keyboard), watching goes on until the process is stopped.
pub fn watch(
    dir: &Path,
    checker: &dyn Checker,
    screen: &mut Screen,
    requests: &Receiver<Request>,
    poll: Duration,
) -> anyhow::Result<()> {
    let mut board = Board::new(discover(dir)?);
    let mut times = file_times(dir)?;
    let can_watch = times.values().all(Option::is_some);
    let footer = watch_footer(can_watch);
    screen.draw(&board, "Checking every exercise...", &footer)?;
    let note = match check_exercises(&mut board, checker, None) {
        Ok(()) => String::new(),
        Err(error) => format!("The checks could not run: {error:#}"),
    };
    screen.draw(&board, &note, &footer)?;
    let mut input_open = true;
    loop {
        let request = if input_open {
            match requests.recv_timeout(poll) {
                Ok(request) => Some(request),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    // No keyboard (input closed): keep watching the files.
                    input_open = false;
                    None
                }
            }
        } else {
            thread::sleep(poll);
            None
        };
        let which = match request {
            Some(Request::Quit) => return Ok(()),
            Some(Request::RecheckAll) => None,
            None => {
                let now = file_times(dir)?;
                let changed: BTreeSet<PathBuf> = now
                    .iter()
                    .filter(|(path, time)| times.get(*path) != Some(time))
                    .map(|(path, _)| path.clone())
                    .collect();
                // Read before checking, so a save made during the check is seen next time.
                times = now;
                if changed.is_empty() {
                    continue;
                }
                let ids: BTreeSet<String> = changed.iter().filter_map(|p| exercise_id(p)).collect();
                // A change to any other file (lib.rs, a helper) may touch every exercise.
                if ids.len() == changed.len() {
                    Some(ids)
                } else {
                    None
                }
            }
        };
        board.refresh(discover(dir)?);
        let what = match &which {
            Some(ids) => {
                let numbers: Vec<&str> = ids.iter().map(|id| &id[..2]).collect();
                let noun = if numbers.len() == 1 {
                    "exercise"
                } else {
                    "exercises"
                };
                format!("{noun} {}", numbers.join(", "))
            }
            None => "every exercise".to_string(),
        };
        screen.draw(&board, &format!("Checking {what} again..."), &footer)?;
        // A check that cannot run at all (cargo missing, a broken build) is reported, and the
        // next save tries again: watching goes on.
        let note = match check_exercises(&mut board, checker, which.as_ref()) {
            Ok(()) => format!("Checked {what} again at {}.", clock_time(SystemTime::now())),
            Err(error) => format!("The checks could not run: {error:#}"),
        };
        screen.draw(&board, &note, &footer)?;
    }
}

/// `HH:MM:SS` (UTC), to tell one redraw from the next.
fn clock_time(time: SystemTime) -> String {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0);
    let of_day = seconds % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Turns lines typed at the keyboard into requests: `q` quits, anything else rechecks.
pub fn keyboard_requests() -> Receiver<Request> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let request = match line.trim() {
                "q" | "quit" | "exit" => Request::Quit,
                _ => Request::RecheckAll,
            };
            if sender.send(request).is_err() {
                break;
            }
        }
    });
    receiver
}

const USAGE: &str = "usage: cargo run -p exercises [-- --watch]\n       \
    cargo run -p exercises -- check NN --address HOST:PORT (or --command 'COMMAND {port}')\n\n\
    Without arguments: checks every exercise and shows which are done, and what to do next.\n\
    --watch: the same, then checks an exercise again each time you save its file.\n\
    check: one exercise's check against a server in any language (check --help says more).\n\n\
    One exercise, with the check's whole message: cargo test -p exercises 03";

/// The progress program: `package_dir` is the `exercises` package's directory. Exits with
/// failure while any exercise is not done, so scripts can tell.
pub fn main(package_dir: &Path) -> ExitCode {
    let arguments = match course::cli::arguments() {
        Ok(arguments) => arguments,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    if arguments.first().map(String::as_str) == Some("check") {
        return by_address::main(&arguments[1..]);
    }
    let watching = match arguments.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => false,
        ["--watch" | "-w"] => true,
        ["--help" | "-h"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("unexpected arguments: {arguments:?}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    // Every check would stop on a seed it cannot use: say so once, before any runs.
    if let Some(problem) = course::check::shaper::seed_problem() {
        eprintln!("{problem}");
        return ExitCode::FAILURE;
    }
    let checker = CargoChecker::new(package_dir.to_path_buf());
    let dir = package_dir.join("src");
    let result = if watching {
        let mut stdout = io::stdout();
        let clear = stdout.is_terminal();
        let mut screen = Screen {
            out: &mut stdout,
            clear,
        };
        watch(
            &dir,
            &checker,
            &mut screen,
            &keyboard_requests(),
            POLL_EVERY,
        )
        .map(|()| true)
    } else {
        println!("Checking every exercise...");
        discover(&dir)
            .map_err(anyhow::Error::from)
            .and_then(|exercises| {
                let mut board = Board::new(exercises);
                check_exercises(&mut board, &checker, None)?;
                print!("\n{}", render(&board));
                Ok(board.all_done())
            })
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(exercise: &str, first_sentence: &str) -> CheckOutput {
        CheckOutput {
            passed: false,
            report: Some(Report {
                exercise: exercise.into(),
                passed: false,
                first_sentence: first_sentence.into(),
                reason: format!("{first_sentence} The likely mistake."),
                transcript: "A> hi\n".into(),
            }),
        }
    }

    #[test]
    fn a_verdicts_first_sentence_is_shown() {
        assert_eq!(
            judge(
                "03_threaded_echo",
                "03",
                &failed("03_threaded_echo", "Client D got no reply within 2 s.")
            ),
            Status::NotDone("Client D got no reply within 2 s.".into())
        );
    }

    #[test]
    fn a_check_without_a_report_says_what_to_run() {
        let check = CheckOutput {
            passed: false,
            report: None,
        };
        let Status::NotDone(why) = judge("02_echo_client", "02", &check) else {
            panic!("expected not done");
        };
        assert!(why.contains("cargo test -p exercises 02"), "{why}");
    }

    #[test]
    fn another_exercises_report_is_not_taken() {
        let Status::NotDone(why) = judge("03_threaded_echo", "03", &failed("04_chat", "X.")) else {
            panic!("expected not done");
        };
        assert!(why.contains("cargo test -p exercises 03"), "{why}");
    }

    #[test]
    fn a_passing_check_is_done() {
        let check = CheckOutput {
            passed: true,
            report: None,
        };
        assert_eq!(judge("01_greeting", "01", &check), Status::Done);
    }

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(
            title_from_source("//! Exercise 01: a greeting that names its client.\n//!\n"),
            Some("a greeting that names its client".into())
        );
        assert_eq!(title_from_source("use std::io;\n"), None);
    }

    #[test]
    fn only_numbered_rust_files_are_exercises() {
        assert_eq!(
            exercise_id(Path::new("src/03_threaded_echo.rs")).as_deref(),
            Some("03_threaded_echo")
        );
        assert_eq!(exercise_id(Path::new("src/lib.rs")), None);
        assert_eq!(exercise_id(Path::new("src/03_notes.md")), None);
        assert_eq!(exercise_id(Path::new("src/3_x.rs")), None);
    }

    #[test]
    fn the_first_compile_error_and_its_place() {
        let stderr = "   Compiling exercise-code v0.1.0\n\
            warning: unused variable: `x`\n\
            error[E0308]: mismatched types\n  \
              --> exercises/src/03_threaded_echo.rs:12:5\n   |\n\
            error: aborting due to 1 previous error\n\
            error: could not compile `exercise-code` (lib) due to 1 previous error\n";
        assert_eq!(
            first_compile_error(stderr),
            Some((
                "error[E0308]: mismatched types".into(),
                Some("exercises/src/03_threaded_echo.rs:12:5".into())
            ))
        );
        assert_eq!(first_compile_error("warning: x\n"), None);
    }

    fn exercise(id: &str, title: &str) -> Exercise {
        Exercise {
            id: id.into(),
            number: id[..2].into(),
            title: title.into(),
            path: PathBuf::from(format!("/somewhere/exercises/src/{id}.rs")),
        }
    }

    #[test]
    fn the_board_shows_each_exercise_then_what_comes_next() {
        let mut board = Board::new(vec![
            exercise("01_greeting", "a greeting"),
            exercise("02_echo_client", "an echo client"),
            exercise("03_threaded_echo", "many clients"),
        ]);
        board.status.insert("01_greeting".into(), Status::Done);
        board
            .status
            .insert("02_echo_client".into(), Status::NotDone("One read.".into()));
        board.status.insert(
            "03_threaded_echo".into(),
            Status::NotChecked("exercise 02 does not compile".into()),
        );
        assert_eq!(
            render(&board),
            "Your exercises (exercises/src/): 1 of 3 done\n\n  \
             01  done         a greeting\n  \
             02  not done     an echo client: One read.\n  \
             03  not checked  many clients: exercise 02 does not compile\n\n\
             Next: exercise 02, an echo client (exercises/src/02_echo_client.rs)\n\
             Check it alone, with the whole story: cargo test -p exercises 02\n\
             Hints: in the book, folded under each exercise's heading in its lesson's chapter\n\
             (mdbook serve book --open).\n"
        );
        assert!(!board.all_done());
    }

    #[test]
    fn the_next_exercise_follows_the_last_one_done() {
        let mut board = Board::new(vec![
            exercise("01_greeting", "a greeting"),
            exercise("06_timeouts", "timeouts"),
            exercise("07_thread_pool", "a pool"),
        ]);
        board.status.insert("06_timeouts".into(), Status::Done);
        assert_eq!(board.next().map(|next| next.number.as_str()), Some("07"));
        board.status.insert("07_thread_pool".into(), Status::Done);
        assert_eq!(board.next().map(|next| next.number.as_str()), Some("01"));
    }

    #[test]
    fn the_watch_footer_fits_80_columns() {
        for can_watch in [true, false] {
            let footer = watch_footer(can_watch);
            assert!(
                footer
                    .lines()
                    .all(|line| line.chars().count() <= SCREEN_WIDTH),
                "{footer}"
            );
        }
    }

    #[test]
    fn long_lines_wrap_under_the_title() {
        assert_eq!(
            wrap("  03  not done  title: one two three four", 30, 6),
            "  03  not done  title: one two\n      three four\n"
        );
        let wrapped = wrap(&"word ".repeat(60), 80, 8);
        assert!(
            wrapped.lines().all(|line| line.chars().count() <= 80),
            "{wrapped}"
        );
    }

    #[test]
    fn all_done_says_so() {
        let mut board = Board::new(vec![exercise("01_greeting", "a greeting")]);
        board.status.insert("01_greeting".into(), Status::Done);
        assert!(render(&board).ends_with("All done. Well done!\n"));
        assert!(board.all_done());
    }

    #[test]
    fn what_does_not_compile_comes_next() {
        let mut board = Board::new(vec![
            exercise("01_greeting", "a greeting"),
            exercise("02_echo_client", "an echo client"),
        ]);
        board
            .status
            .insert("01_greeting".into(), Status::NotDone("no".into()));
        board.status.insert(
            "02_echo_client".into(),
            Status::DoesNotCompile("error: x".into()),
        );
        assert_eq!(board.next().map(|e| e.number.as_str()), Some("02"));
    }

    #[test]
    fn a_redraw_on_a_terminal_clears_the_screen_and_elsewhere_separates() {
        let board = Board::new(vec![exercise("01_greeting", "a greeting")]);
        let mut out = Vec::new();
        Screen {
            out: &mut out,
            clear: true,
        }
        .draw(&board, "note", "footer\n")
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\x1b[2J\x1b[H"), "{text:?}");
        assert!(text.ends_with("\nnote\n\nfooter\n"), "{text:?}");
        let mut out = Vec::new();
        Screen {
            out: &mut out,
            clear: false,
        }
        .draw(&board, "", "footer\n")
        .unwrap();
        assert!(String::from_utf8(out).unwrap().starts_with("----\n"));
    }

    #[test]
    fn where_watching_fails_the_footer_says_how_to_recheck_by_hand() {
        assert!(watch_footer(false).contains("Press Enter"));
        assert!(watch_footer(true).contains("press Enter"));
        assert!(watch_footer(true).contains("Quit with q"));
    }
}
