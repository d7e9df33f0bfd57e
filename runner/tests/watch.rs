//! Watch mode end to end: exercise files in a scratch directory, a fake checker in place of cargo
//! (building a copy of the workspace would not fit in a test's time), and a save that must be
//! seen, rechecked and redrawn.
//!
//! The fake judges a file by a word in it, and answers with the report the real harness writes.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use course::check::verdict::Report;
use exercise_runner::{CheckOutput, Checker, Exercise, Prepared, Request, Screen, watch};

/// How long the test waits for the watcher to show something.
const PATIENCE: Duration = Duration::from_secs(10);
/// Polling faster than the real watcher keeps the test short.
const TEST_POLL: Duration = Duration::from_millis(50);

/// Passes a file that says `SOLVED`; fails any other with a verdict; and does not compile one
/// that says `SYNTAX ERROR`. Counts the checks it runs.
struct FakeChecker {
    dir: PathBuf,
    checks: Mutex<BTreeMap<String, usize>>,
}

impl Checker for FakeChecker {
    fn prepare(&self) -> anyhow::Result<Prepared> {
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if std::fs::read_to_string(&path)?.contains("SYNTAX ERROR") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                return Ok(Prepared::DoesNotCompile {
                    error: "error: expected one of `!` or `::`, found `ERROR`".into(),
                    place: Some(format!("exercises/src/{name}:3:8")),
                });
            }
        }
        Ok(Prepared::Ready)
    }

    fn check_names(&self) -> anyhow::Result<Vec<String>> {
        Ok(vec!["ex01_greeting".into(), "ex02_echo_client".into()])
    }

    fn check(&self, exercise: &Exercise) -> anyhow::Result<CheckOutput> {
        *self
            .checks
            .lock()
            .unwrap()
            .entry(exercise.id.clone())
            .or_default() += 1;
        let source = std::fs::read_to_string(&exercise.path)?;
        if source.contains("SOLVED") {
            return Ok(CheckOutput {
                passed: true,
                report: None,
            });
        }
        let first_sentence = format!("Still as shipped, in {}.", exercise.id);
        Ok(CheckOutput {
            passed: false,
            report: Some(Report {
                exercise: exercise.id.clone(),
                passed: false,
                reason: format!("{first_sentence} The likely mistake is elsewhere."),
                first_sentence,
                transcript: String::new(),
            }),
        })
    }
}

/// Sends whatever the watcher draws to the test, as it draws it.
struct Pipe(Sender<String>);

impl Write for Pipe {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let _ = self.0.send(String::from_utf8_lossy(bytes).into_owned());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the watcher's screens until one contains every one of `wanted`, and returns it.
fn wait_for_screen(screens: &Receiver<String>, wanted: &[&str]) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match screens.recv_timeout(left) {
            Ok(screen) if wanted.iter().all(|want| screen.contains(want)) => return screen,
            Ok(screen) => seen.push(screen),
            Err(_) => break,
        }
    }
    panic!("no screen showed {wanted:?} within {PATIENCE:?}; the screens were:\n{seen:#?}");
}

/// A fresh directory for one test's exercise files.
fn scratch_directory(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("course-progress-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// Saves `text` as `path`, and makes sure its time moves on even where file times are coarse.
fn save(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write an exercise file");
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() + Duration::from_secs(5))
        .expect("set the file's time");
}

/// A watcher running on its own thread over `dir`, with the fake checker.
struct Watcher {
    checker: Arc<FakeChecker>,
    screens: Receiver<String>,
    requests: Sender<Request>,
    thread: thread::JoinHandle<anyhow::Result<()>>,
}

impl Watcher {
    fn start(dir: &Path) -> Watcher {
        let checker = Arc::new(FakeChecker {
            dir: dir.to_path_buf(),
            checks: Mutex::default(),
        });
        let (screens_out, screens) = mpsc::channel();
        let (requests, requests_in) = mpsc::channel();
        let thread = {
            let (dir, checker) = (dir.to_path_buf(), Arc::clone(&checker));
            thread::spawn(move || {
                let mut pipe = Pipe(screens_out);
                let mut screen = Screen {
                    out: &mut pipe,
                    clear: false,
                };
                watch(&dir, &*checker, &mut screen, &requests_in, TEST_POLL)
            })
        };
        Watcher {
            checker,
            screens,
            requests,
            thread,
        }
    }

    fn checks_of(&self, id: &str) -> usize {
        self.checker
            .checks
            .lock()
            .unwrap()
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    /// Asks the watcher to quit, as `q` and Enter do, and waits for it.
    fn quit(self) {
        self.requests.send(Request::Quit).unwrap();
        self.thread
            .join()
            .unwrap()
            .expect("watch ends cleanly on q");
    }
}

#[test]
fn watch_rechecks_the_saved_exercise_and_redraws() {
    let dir = scratch_directory("watch");
    let greeting = dir.join("01_greeting.rs");
    let echo = dir.join("02_echo_client.rs");
    std::fs::write(&greeting, "//! Exercise 01: a greeting.\n// TODO\n").unwrap();
    std::fs::write(&echo, "//! Exercise 02: an echo client.\n// TODO\n").unwrap();
    std::fs::write(dir.join("lib.rs"), "// not an exercise\n").unwrap();

    let watcher = Watcher::start(&dir);
    let screens = &watcher.screens;

    let first = wait_for_screen(screens, &["0 of 2 done", "02  not done"]);
    assert!(
        first.contains("01  not done  a greeting: Still as shipped, in 01_greeting.\n"),
        "{first}"
    );
    assert!(first.contains("Next: exercise 01"), "{first}");
    assert!(first.contains("cargo test -p exercises 01"), "{first}");
    assert!(first.contains("Quit with q"), "{first}");
    assert!(first.contains("press Enter"), "{first}");

    // The learner solves exercise 01 and saves: only 01 is checked again.
    save(&greeting, "//! Exercise 01: a greeting.\n// SOLVED\n");
    let second = wait_for_screen(screens, &["Checked exercise 01 again"]);
    assert!(second.contains("1 of 2 done"), "{second}");
    assert!(second.contains("01  done      a greeting\n"), "{second}");
    assert!(second.contains("Next: exercise 02"), "{second}");
    assert_eq!(watcher.checks_of("01_greeting"), 2);
    assert_eq!(watcher.checks_of("02_echo_client"), 1);

    // A save that does not compile says so, with the compiler's first error.
    save(&echo, "//! Exercise 02: an echo client.\nSYNTAX ERROR\n");
    let third = wait_for_screen(screens, &["Checked exercise 02 again"]);
    assert!(
        third.contains(
            "02  does not compile  an echo client: error: expected one of `!` or `::`,\n        \
             \x20               found `ERROR` (at exercises/src/02_echo_client.rs:3:8)"
        ),
        "{third}"
    );
    // Exercise 01 keeps its last verdict: the error is not its doing.
    assert!(
        third.contains("01  done              a greeting\n"),
        "{third}"
    );

    // Enter rechecks everything, for where saves are not seen.
    watcher.requests.send(Request::RecheckAll).unwrap();
    wait_for_screen(screens, &["Checked every exercise again"]);

    watcher.quit();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exercises_a_compile_error_kept_from_their_check_are_checked_once_it_is_fixed() {
    let dir = scratch_directory("compile-error");
    let echo = dir.join("02_echo_client.rs");
    std::fs::write(
        dir.join("01_greeting.rs"),
        "//! Exercise 01: a greeting.\n// SOLVED\n",
    )
    .unwrap();
    std::fs::write(&echo, "//! Exercise 02: an echo client.\nSYNTAX ERROR\n").unwrap();
    let watcher = Watcher::start(&dir);

    let first = wait_for_screen(&watcher.screens, &["02  does not compile"]);
    assert!(
        first.contains("01  not checked       a greeting: exercise 02 does not compile"),
        "{first}"
    );
    assert!(first.contains("Next: exercise 02"), "{first}");

    // Only 02 was saved, but 01 could not be checked before: now it is.
    save(&echo, "//! Exercise 02: an echo client.\n// SOLVED\n");
    let second = wait_for_screen(&watcher.screens, &["Checked exercise 02 again"]);
    assert!(second.contains("2 of 2 done"), "{second}");
    assert!(second.contains("All done."), "{second}");
    assert_eq!(watcher.checks_of("01_greeting"), 1);

    watcher.quit();
    let _ = std::fs::remove_dir_all(&dir);
}
