//! The check for exercise 14: the path sandbox, `resolve(root, cwd, requested)`, judged by what
//! its answers would reach on a real disk.
//!
//! The check makes a folder in the system's temporary folder, and in it the served folder,
//! `ROOT`, beside things that must stay out of reach (`OUTSIDE` is the folder around `ROOT`):
//!
//! ```text
//! OUTSIDE/secret.txt             a file beside the served folder
//! OUTSIDE/site2/secret2.txt      a neighbour whose name starts with ROOT's ("/srv/ftp2")
//! ROOT/hello.txt, ROOT/docs/notes.txt, ROOT/docs/deeper/file.txt
//! ROOT/%2e%2e/inside.txt         a folder really called `%2e%2e` (FTP decodes nothing)
//! ROOT/100%25.txt                a file really called that
//! ROOT/link_in -> docs           links that stay inside (Unix)
//! ROOT/docs/up -> ..
//! ROOT/link_out -> ../site2      links that lead out (Unix)
//! ROOT/link_file_out -> ../secret.txt
//! ROOT/docs/escape -> ../..
//! ROOT/dangling -> ../made-through-a-link   a link to nowhere, outside (Unix)
//! ROOT/loop -> loop              a link to itself (Unix)
//! ```
//!
//! On Linux the check's own folder has a name that is not UTF-8 (byte 0xFF), so `ROOT` and every
//! path under it is one a `&str` cannot hold: an answer that converts paths to text to compare
//! them meets it.
//!
//! Then it calls `resolve` for each case below and judges the answer by where it lands, not by
//! its spelling: an answer that exists must lead (links followed) inside `ROOT`; one that does
//! not must be a new name in a folder inside `ROOT`, and not a link to nowhere. The cases cover
//! `..` in every position (first, middle, last, repeated, above the root, above `cwd`), absolute
//! paths (from the served root, and the disk's own), percent-looking names (which FTP does not
//! decode), links that stay in and links that lead out (to a file, a folder, a neighbour whose
//! name starts with `ROOT`'s, nowhere), a check done on the words before `..` and links are
//! worked out, new names (in a folder inside, in a folder that does not exist, in a file,
//! through a link), a link to itself (where `canonicalize` fails with another error than
//! NotFound), empty paths, repeated and trailing slashes, and, on Windows (where making links
//! needs privileges, so those cases are left out), `\` and drive letters. A refusal must say
//! why in words (the given `Refusal`'s Display), which the server sends after its 550, and the
//! right words: `NotFound`'s for a place inside where nothing is (`..` above the root is the
//! root), `Outside`'s for a path that leads out through a link, or a link to nowhere, as the
//! given docs say; either for a link to itself, which the docs leave open.
//!
//! The transcript is the same on Linux and macOS; on Windows it differs (other cases), so the
//! reference solution's snapshot is compared on Unix only.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;

use super::step::PATIENCE;
use super::{Exercise, Failure, Transcript, panics};

pub const EXERCISE: Exercise = Exercise {
    id: "14_ftp",
    title: "the path sandbox",
    chapter: "book/src/14-ftp.md",
};

/// What the learner writes, as the check calls it: the exercise's `resolve`, its refusal turned
/// into words (`.map_err(|refusal| refusal.to_string())`).
pub trait Resolve:
    Fn(&Path, &str, &str) -> Result<PathBuf, String> + Send + Sync + 'static
{
}
impl<F> Resolve for F where
    F: Fn(&Path, &str, &str) -> Result<PathBuf, String> + Send + Sync + 'static
{
}

/// Why a refusal refuses, in the words of the given `Refusal`'s Display, which the server sends
/// after its 550.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Why {
    /// `Refusal::NotFound`: nothing is there, or not even the folder it would go in.
    NotFound,
    /// `Refusal::Outside`: the path leads out, through a link (one to nowhere counts too).
    Outside,
    /// Either: where the given docs leave it open (a link to itself points nowhere, and nothing
    /// is there).
    Either,
}

impl Why {
    /// The given Display's words for this refusal.
    fn words(self) -> Option<&'static str> {
        match self {
            Why::NotFound => Some(NOT_FOUND_WORDS),
            Why::Outside => Some(OUTSIDE_WORDS),
            Why::Either => None,
        }
    }
}

/// `Refusal::NotFound`'s words, as the given Display writes them.
const NOT_FOUND_WORDS: &str = "no such file or folder";
/// `Refusal::Outside`'s words, as the given Display writes them.
const OUTSIDE_WORDS: &str = "that path leads outside the served folder";

/// What one call must return.
#[derive(Clone, Copy)]
enum Expect {
    /// `Ok` of a path that lands at this place under `ROOT` (`""` is `ROOT` itself).
    At(&'static str),
    /// An error, for this reason: nothing the server may reach.
    Refused(Why),
    /// Either is fine, as long as nothing outside is reached: where the rules leave a choice.
    AtOrRefused(&'static str),
}

/// One call of `resolve`.
struct Case {
    cwd: &'static str,
    requested: String,
    /// How the transcript shows `requested`, when it differs from one machine to the next.
    shown: Option<&'static str>,
    expect: Expect,
    /// What it likely means when the answer is wrong.
    if_wrong: &'static str,
}

const BASICS: &str = "A path that does not start with `/` starts from `cwd`, and `cwd` is the \
     client's view: `/` is ROOT, `/docs` is ROOT/docs.";
const DOT_DOT: &str = "`..` is the folder above, worked out by name before anything else, and \
     above the root is the root itself (as `/..` is `/`): take the last name off for each `..`, \
     and do nothing when there is none left.";
const CHECK_AFTER: &str = "A check on the path as written (`root.join(...)` then `starts_with`) \
     passes `ROOT/../secret.txt`, whose words start with ROOT. Work out `..` by name first, \
     then ask the system where the path really leads (`canonicalize`), and check that answer.";
const ABSOLUTE: &str = "A path that starts with `/` starts at the served folder, not at the \
     disk's root. (`root.join(\"/etc\")` is `/etc`: join replaces the whole path with an \
     absolute one.)";
const PERCENT: &str = "FTP sends names as they are: `%2e%2e` is a name of six characters, not \
     `..`. Decoding it is HTTP's rule, not FTP's, and here it serves the wrong file.";
const LINK_OUT: &str = "A symbolic link inside the folder can point anywhere: only \
     `canonicalize` (which follows links) says where a path really leads, and the check that it \
     lies inside ROOT must come after it.";
const PREFIX: &str = "Compare paths with `Path::starts_with`, which compares whole names, not \
     as strings: as a string, `OUTSIDE/site2` starts with `OUTSIDE/site`, a neighbour of ROOT.";
const DANGLING: &str = "A name that is a symbolic link to nowhere must be refused: \
     `canonicalize` cannot follow it, but `File::create` would, and make the file wherever it \
     points. (`symlink_metadata` sees the link itself.)";
const NEW_NAME: &str = "A name that does not exist yet, in a folder that does, is an answer \
     (STOR and MKD need it): canonicalize its folder, check that, and add the name.";
const IN_A_FILE: &str = "`hello.txt` is a file: it has no room for a new name. A new name is an \
     answer only in a folder inside: check that its folder `is_dir()` (and take only \
     `ErrorKind::NotFound` from `canonicalize` for \"nothing there yet\").";
const LOOP: &str = "A link that leads to itself leads nowhere: `canonicalize` fails, with another \
     error than NotFound, and there is nothing to serve.";
const SLASHES: &str = "Empty names, from `//` or a trailing `/`, mean nothing: skip them, as `.`.";

fn cases() -> Vec<Case> {
    let case = |cwd, requested: &str, expect, if_wrong| Case {
        cwd,
        requested: requested.to_string(),
        shown: None,
        expect,
        if_wrong,
    };
    use Expect::{At, AtOrRefused, Refused};
    use Why::{Either, NotFound, Outside};
    let mut cases = vec![
        // Where everything starts.
        case("/", "hello.txt", At("hello.txt"), BASICS),
        case("/docs", "notes.txt", At("docs/notes.txt"), BASICS),
        // `..` in every position.
        case("/", "..", At(""), DOT_DOT),
        case("/", "../hello.txt", At("hello.txt"), DOT_DOT),
        case("/", "docs/../hello.txt", At("hello.txt"), DOT_DOT),
        case("/", "docs/deeper/../..", At(""), DOT_DOT),
        case("/docs", "..", At(""), DOT_DOT),
        case("/docs", "../..", At(""), DOT_DOT),
        case("/docs/deeper", "../../../..", At(""), DOT_DOT),
        case(
            "/docs/deeper",
            "../../docs/notes.txt",
            At("docs/notes.txt"),
            DOT_DOT,
        ),
        case("/", "docs/../../secret.txt", At("secret.txt"), CHECK_AFTER),
        case("/docs", "../../secret.txt", At("secret.txt"), CHECK_AFTER),
        case("/", "../site2/secret2.txt", Refused(NotFound), CHECK_AFTER),
        case("/", "../../../../etc/passwd", Refused(NotFound), DOT_DOT),
        case("/", "./docs/./notes.txt", At("docs/notes.txt"), DOT_DOT),
        // Absolute paths.
        case("/docs", "/hello.txt", At("hello.txt"), ABSOLUTE),
        case("/docs", "/", At(""), ABSOLUTE),
        case("/", "/etc/passwd", Refused(NotFound), ABSOLUTE),
        case("/docs", "/../secret.txt", At("secret.txt"), ABSOLUTE),
        // Percent-looking names.
        case("/", "%2e%2e/inside.txt", At("%2e%2e/inside.txt"), PERCENT),
        case("/", "100%25.txt", At("100%25.txt"), PERCENT),
        case("/", "%2e%2e/%2e%2e/secret.txt", Refused(NotFound), PERCENT),
        // Empty paths, and slashes.
        case("/", "", At(""), SLASHES),
        case("/docs", "", At("docs"), SLASHES),
        case("/", "/", At(""), SLASHES),
        case("/", "//docs//notes.txt", At("docs/notes.txt"), SLASHES),
        case("/", "docs/", At("docs"), SLASHES),
        case(
            "/",
            "docs/notes.txt/",
            AtOrRefused("docs/notes.txt"),
            SLASHES,
        ),
        // New names, for STOR and MKD.
        case("/", "new.txt", At("new.txt"), NEW_NAME),
        case("/docs", "new-folder/", At("docs/new-folder"), NEW_NAME),
        case("/", "missing/new.txt", Refused(NotFound), NEW_NAME),
        case("/", "hello.txt/new.txt", Refused(NotFound), IN_A_FILE),
        case(
            "/docs",
            "notes.txt/deeper/new.txt",
            Refused(NotFound),
            IN_A_FILE,
        ),
    ];
    // The disk's own absolute path of a file outside, as text, where it can be text.
    let outside_file = std::env::temp_dir().join("course-check-14-outside.txt");
    if let Some(text) = outside_file.to_str() {
        cases.push(Case {
            cwd: "/",
            requested: text.to_string(),
            shown: Some("TEMP/course-check-14-outside.txt"),
            // On Windows the text is one name that hides a drive: the sandbox may see it lead out.
            expect: Refused(if cfg!(windows) { Either } else { NotFound }),
            if_wrong: ABSOLUTE,
        });
    }
    if cfg!(unix) {
        cases.extend([
            case("/", "link_in/notes.txt", At("docs/notes.txt"), LINK_OUT),
            case("/", "docs/up/hello.txt", At("hello.txt"), LINK_OUT),
            case("/", "link_in/new.txt", At("docs/new.txt"), NEW_NAME),
            case("/", "link_file_out", Refused(Outside), LINK_OUT),
            case("/", "link_out/secret2.txt", Refused(Outside), PREFIX),
            case("/", "link_out", Refused(Outside), PREFIX),
            case("/", "link_out/new.txt", Refused(Outside), PREFIX),
            case("/", "docs/escape/secret.txt", Refused(Outside), LINK_OUT),
            case("/docs", "escape", Refused(Outside), LINK_OUT),
            case("/", "dangling", Refused(Outside), DANGLING),
            case("/", "loop", Refused(Either), LOOP),
            case("/", "loop/new.txt", Refused(Either), LOOP),
        ]);
    }
    if cfg!(windows) {
        cases.extend([
            case("/", "..\\..\\secret.txt", Refused(Either), CHECK_AFTER),
            case("/", "C:\\", Refused(Either), ABSOLUTE),
            case(
                "/",
                "docs\\..\\hello.txt",
                AtOrRefused("hello.txt"),
                DOT_DOT,
            ),
        ]);
    }
    cases
}

/// Where a path `resolve` returned would lead, if the server used it.
#[derive(Debug, PartialEq)]
enum Landing {
    /// Inside ROOT, at this place (names joined with `/`; `""` for ROOT).
    Inside(String),
    /// Outside ROOT: shown as `OUTSIDE/...`, or as it is when it is not even there.
    Outside(String),
    /// A symbolic link that points nowhere: creating the file would create it wherever it points.
    LinkToNowhere,
    /// Nothing there, and no folder to create it in (none, or a file where the folder would
    /// be): no use to the server, but no harm either.
    Unusable,
}

/// The folder the check makes, removed when dropped.
struct Playground {
    /// The check's folder, canonical: OUTSIDE.
    outside: PathBuf,
    /// The served folder, canonical: ROOT.
    root: PathBuf,
}

impl Drop for Playground {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.outside);
    }
}

impl Playground {
    fn make() -> io::Result<Playground> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "course-check-14-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let outside = std::env::temp_dir().join(not_utf8_on_linux(name));
        fs::create_dir_all(&outside)?;
        let outside = outside.canonicalize()?;
        let playground = Playground {
            root: outside.join("site"),
            outside,
        };
        let (outside, root) = (&playground.outside, &playground.root);
        fs::create_dir_all(root.join("docs/deeper"))?;
        fs::create_dir_all(root.join("%2e%2e"))?;
        fs::create_dir_all(outside.join("site2"))?;
        for (file, text) in [
            (outside.join("secret.txt"), "not for you"),
            (outside.join("site2/secret2.txt"), "not for you either"),
            (root.join("hello.txt"), "hello"),
            (root.join("docs/notes.txt"), "notes"),
            (root.join("docs/deeper/file.txt"), "deep"),
            (root.join("%2e%2e/inside.txt"), "inside"),
            (root.join("100%25.txt"), "a hundred percent"),
        ] {
            fs::write(file, text)?;
        }
        #[cfg(unix)]
        for (link, target) in [
            ("link_in", "docs"),
            ("docs/up", ".."),
            ("link_out", "../site2"),
            ("link_file_out", "../secret.txt"),
            ("docs/escape", "../.."),
            ("dangling", "../made-through-a-link"),
            ("loop", "loop"),
        ] {
            std::os::unix::fs::symlink(target, root.join(link))?;
        }
        Ok(playground)
    }

    /// Where `path` would lead, if the server opened or created it.
    fn landing(&self, path: &Path) -> Landing {
        if path.symlink_metadata().is_ok() {
            return match path.canonicalize() {
                Ok(real) => self.place(&real),
                Err(_) => Landing::LinkToNowhere,
            };
        }
        let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
            return Landing::Unusable;
        };
        let plain_name = matches!(
            Path::new(name).components().collect::<Vec<_>>().as_slice(),
            [Component::Normal(_)]
        );
        match folder.canonicalize() {
            Ok(folder) if !folder.is_dir() => Landing::Unusable,
            Ok(folder) if plain_name => self.place(&folder.join(name)),
            Ok(folder) => self.place(&folder),
            Err(_) => Landing::Unusable,
        }
    }

    fn place(&self, real: &Path) -> Landing {
        if let Ok(inside) = real.strip_prefix(&self.root) {
            return Landing::Inside(names(inside));
        }
        match real.strip_prefix(&self.outside) {
            Ok(beside) if beside.as_os_str().is_empty() => Landing::Outside("OUTSIDE".into()),
            Ok(beside) => Landing::Outside(format!("OUTSIDE/{}", names(beside))),
            Err(_) => Landing::Outside(real.display().to_string()),
        }
    }
}

/// `name` with a byte that is not UTF-8 in it, on Linux (ext4 and the others take any bytes but
/// `/` and NUL); unchanged elsewhere, where a file name is Unicode text.
fn not_utf8_on_linux(name: String) -> std::ffi::OsString {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStringExt;
        let mut bytes = name.into_bytes();
        bytes.extend_from_slice(b"-\xff");
        std::ffi::OsString::from_vec(bytes)
    }
    #[cfg(not(target_os = "linux"))]
    {
        name.into()
    }
}

/// A relative path's names joined with `/`, whatever the system's separator.
fn names(path: &Path) -> String {
    let names: Vec<String> = path
        .components()
        .map(|name| name.as_os_str().to_string_lossy().into_owned())
        .collect();
    names.join("/")
}

/// How a place is shown in the transcript.
fn show(landing: &Landing) -> String {
    match landing {
        Landing::Inside(place) if place.is_empty() => "ROOT".to_string(),
        Landing::Inside(place) => format!("ROOT/{place}"),
        Landing::Outside(place) => place.clone(),
        Landing::LinkToNowhere => "a link that points nowhere".to_string(),
        Landing::Unusable => "a path in a folder that does not exist (or is a file)".to_string(),
    }
}

/// Runs the check: the transcript if every answer was right, otherwise what went wrong.
pub fn run(resolve: impl Resolve) -> Result<Transcript, Failure> {
    run_as("14_ftp.rs", resolve)
}

/// Like [`run`], for an answer kept in another file than the exercise's (see `Script::run_as`).
pub fn run_as(answer_file: &str, resolve: impl Resolve) -> Result<Transcript, Failure> {
    let panics = panics::Recording::start(answer_file);
    let playground = Playground::make().expect("the check makes its folder in the temp folder");
    let resolve = Arc::new(resolve);
    let mut transcript = Transcript::default();
    for case in cases() {
        let requested = match case.shown {
            Some(shown) => shown.to_string(),
            None => format!("{:?}", case.requested),
        };
        let call = format!("resolve(ROOT, {:?}, {requested})", case.cwd);
        if let Err(reason) = judge(&case, &call, &playground, &resolve, &mut transcript) {
            transcript.push("(the check stops here)");
            let reason = panics.explain("resolve", "resolve", reason);
            return Err(Failure {
                exercise: EXERCISE,
                reason,
                transcript,
                seed: None,
            });
        }
    }
    Ok(transcript)
}

/// Calls `resolve` for one case (on a thread of its own, so that a loop that never ends is
/// reported, not waited for), writes down the answer, and says what is wrong with it, if
/// anything.
fn judge(
    case: &Case,
    call: &str,
    playground: &Playground,
    resolve: &Arc<impl Resolve>,
    transcript: &mut Transcript,
) -> Result<(), String> {
    let (sender, receiver) = mpsc::channel();
    let (resolve, root) = (Arc::clone(resolve), playground.root.clone());
    let (cwd, requested) = (case.cwd, case.requested.clone());
    thread::spawn(move || {
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            resolve(&root, cwd, &requested)
        }));
        let _ = sender.send(answer);
    });
    let answer = match receiver.recv_timeout(PATIENCE) {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => {
            transcript.push(format!("{call} -> panicked"));
            return Err(format!("{call} panicked."));
        }
        Err(_) => {
            transcript.push(format!("{call} -> (no answer)"));
            return Err(format!(
                "{call} did not return within {} s: is there a loop that never ends?",
                PATIENCE.as_secs()
            ));
        }
    };
    let landing = answer.as_ref().map(|path| playground.landing(path));
    match &landing {
        Ok(landing) => transcript.push(format!("{call} -> {}", show(landing))),
        Err(_) => transcript.push(format!("{call} -> refused")),
    }
    let expected = |place: &str| match place {
        "" => "ROOT".to_string(),
        place => format!("ROOT/{place}"),
    };
    match (case.expect, landing) {
        // The server sends a refusal's words to the client, after its 550.
        (_, Err(refusal)) if refusal.trim().is_empty() => Err(format!(
            "{call} was refused with no words: the client reads why after the server's 550, \
             from the refusal's Display (given). Is it still as given?"
        )),
        (_, Ok(landing @ (Landing::Outside(_) | Landing::LinkToNowhere))) => Err(format!(
            "{call} returned a path that leads to {}: outside the served folder. A server \
             using it would hand out (or overwrite) what it must never reach.\n{}",
            show(&landing),
            answer.as_ref().map_or("", |path| {
                likely_mistake(path, &playground.root, &case.requested)
            }),
        ) + case.if_wrong),
        (Expect::At(place) | Expect::AtOrRefused(place), Ok(Landing::Inside(got)))
            if got == place =>
        {
            Ok(())
        }
        (Expect::Refused(why), Err(refusal)) => match why.words() {
            Some(words) if refusal.trim() != words => Err(format!(
                "{call} was refused as {refusal:?}, where the refusal is {words:?}: {}",
                match why {
                    Why::Outside =>
                        "the path leads outside the served folder (a link to \
                                     nowhere counts too, as Refusal::Outside's doc says).",
                    _ =>
                        "nothing is there (Refusal::NotFound): the path names a place \
                          inside the served folder (`..` above the root is the root, and `/` \
                          is the root) where nothing is, or a name in a folder that is not \
                          there.",
                }
            )),
            _ => Ok(()),
        },
        (Expect::AtOrRefused(_), Err(_)) => Ok(()),
        (Expect::At(place), Err(refusal)) => Err(format!(
            "{call} was refused ({refusal}), where it should lead to {}.\n{}",
            expected(place),
            case.if_wrong
        )),
        (Expect::At(place) | Expect::AtOrRefused(place), Ok(landing)) => Err(format!(
            "{call} returned a path that leads to {}, where it should lead to {}.\n{}",
            show(&landing),
            expected(place),
            case.if_wrong
        )),
        (Expect::Refused(_), Ok(landing)) => Err(format!(
            "{call} returned a path that leads to {}, where it should be refused.\n{}",
            show(&landing),
            case.if_wrong
        )),
    }
}

/// For an answer that leads outside, the mistake its spelling (or the request's) gives away.
fn likely_mistake(path: &Path, root: &Path, requested: &str) -> &'static str {
    let text = |path: &Path| path.to_string_lossy().into_owned();
    let climbs = requested.split(['/', '\\']).any(|name| name == "..");
    // A link to nowhere: no check came too early, its own words (the case's) say what is wrong.
    let dangling = path.symlink_metadata().is_ok() && !path.exists();
    if dangling {
        return "";
    }
    if path.starts_with(root) || climbs {
        return "The check that it lies inside seems to come too early: done on the words, \
                before `..` and links are worked out, it passes a path that leads outside. ";
    }
    let real = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if text(&real).starts_with(&text(root)) {
        return "As text, where it leads begins with ROOT's name (`site2` begins with `site`): \
                was the check done on strings? ";
    }
    ""
}

/// Checks a learner's `resolve`, in a child process (see [`super::check_client_exercise`]), so
/// that one that ends the program or loops for ever still gets a verdict. Never writes a file.
pub fn check_exercise(resolve: impl Resolve) {
    super::check_client_exercise(EXERCISE, || run(resolve));
}

/// Checks the reference solution, in a child process; on Unix, its transcript against the
/// snapshot through insta too (Windows runs other cases: see the module's top).
pub fn check_solution(resolve: impl Resolve) {
    if cfg!(unix) {
        super::check_client_solution(EXERCISE, || run(resolve));
    } else {
        let outcome = super::in_child::run_in_child(EXERCISE, || run(resolve));
        super::verdict::report(EXERCISE.id, &outcome);
        if let Err(failure) = outcome {
            panic!("\n\nthe reference solution fails its own check:\n{failure}\n");
        }
    }
}
