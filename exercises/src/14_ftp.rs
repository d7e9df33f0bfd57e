//! Exercise 14: the path sandbox: no path a client names leads out of the served folder.
//!
//! Every FTP command that touches the disk (`RETR ../docs/notes.txt`) names a path, and lesson
//! 14's server turns each into a place on the disk with one function, `resolve`. If it lets one
//! path out, the server hands out `/etc/passwd`, or overwrites it. As shipped, `resolve` joins the
//! names and checks the words. Finish it: work out `.` and `..` by name (above the root is the
//! root), then ask the system where the path really leads (`canonicalize`) and check that
//! answer; and allow a new name in a folder inside (for STOR and MKD), unless it is a link to
//! nowhere.
//!
//! Check it:       cargo test -p exercises 14
//! Try it by hand: cargo run -p exercises --bin ex14_ftp -- lessons/14_ftp_site / ../hello.txt
//! Hints are in the book, chapter "14: FTP, a protocol with two connections".

use std::fmt;
use std::path::{Path, PathBuf};

// ANCHOR: refusal
/// Why a path a client named leads nowhere the server will go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing is there, or not even the folder it would go in.
    NotFound,
    /// The path leads out of the served folder: through a symbolic link that points outside,
    /// or (on Windows) a drive or `\` that the names hid. A link that points nowhere counts too:
    /// creating a file through it would create it wherever the link points.
    Outside,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotFound => write!(f, "no such file or folder"),
            Refusal::Outside => write!(f, "that path leads outside the served folder"),
        }
    }
}
// ANCHOR_END: refusal

// ANCHOR: resolve
/// Where `requested` leads, for a client whose current folder is `cwd`, inside `root`.
///
/// - `root` is the served folder, canonical (absolute, no `..`, no symbolic links in it).
/// - `cwd` is the client's current folder as the client sees it: `/` is `root`, `/docs` is
///   `root/docs`.
/// - `requested` is the path from the command, as sent: absolute (`/docs/notes.txt`, from the
///   root) or relative (`notes.txt`, from `cwd`).
///
/// The answer is a real path inside `root`. It exists, or it is a new name in a folder that
/// exists (for STOR and MKD), and it is never a symbolic link that points nowhere.
pub fn resolve(root: &Path, cwd: &str, requested: &str) -> Result<PathBuf, Refusal> {
    // TODO: first the client's view, by names. Start from `cwd`, or from the root when
    // `requested` starts with `/`. Skip empty names and `.`; `..` takes the last name off, and
    // at the root there is nothing to take off.
    let relative = format!("{cwd}/{requested}");
    let path = root.join(relative.trim_start_matches('/'));

    // TODO: then the disk's view. This checks the words, before `..` is worked out and before
    // any link is followed: ask `canonicalize` where the path really leads, and check that.
    // When nothing is there yet, the name may be a new one (STOR, MKD): check its folder
    // instead, and refuse a name that is a link to nowhere (`symlink_metadata` sees links).
    if path.starts_with(root) {
        Ok(path)
    } else {
        Err(Refusal::Outside)
    }
}
// ANCHOR_END: resolve
