//! The path sandbox: turns the path a client names into a path inside the served folder, or
//! refuses. Every command that touches the disk goes through [`resolve`], and nothing else.

use std::fmt;
use std::io::ErrorKind;
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
    // First the client's view, by names: `.` is where you are, `..` the folder above, and
    // above the root is the root itself, as `/..` is `/` on Unix. This is what makes
    // `CWD ..` at the root stay at `/`, and `../../etc/passwd` mean the root's `etc/passwd`.
    let start = if requested.starts_with('/') { "" } else { cwd };
    let mut names: Vec<&str> = Vec::new();
    for name in start.split('/').chain(requested.split('/')) {
        match name {
            "" | "." => {}
            ".." => {
                names.pop();
            }
            name => names.push(name),
        }
    }
    let mut path = root.to_path_buf();
    path.extend(&names);

    // Then the disk's view. The names are clean, but a name can be a symbolic link to anywhere
    // (and on Windows, `a\..\..` or `C:\` hide separators and drives in one "name"). Only the
    // system knows where a path really leads: `canonicalize` asks it, and the check that the
    // answer lies inside `root` comes after, on what it answered. Checked before, it would
    // judge the words, not the place.
    match path.canonicalize() {
        Ok(real) if real.starts_with(root) => Ok(real),
        Ok(_) => Err(Refusal::Outside),
        // Not there: perhaps a new name in a folder that is (STOR, MKD). The folder must be
        // inside, and the name must not be a link to nowhere, which `canonicalize` cannot
        // follow but `File::create` would.
        Err(error) if error.kind() == ErrorKind::NotFound => {
            if path.symlink_metadata().is_ok() {
                return Err(Refusal::Outside);
            }
            let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
                return Err(Refusal::NotFound);
            };
            let folder = folder.canonicalize().map_err(|_| Refusal::NotFound)?;
            if !folder.starts_with(root) {
                return Err(Refusal::Outside);
            }
            // `hello.txt/new.txt`: a file has no room for a new name. (Unix says so before this,
            // with another error than NotFound; a system may say only NotFound.)
            if !folder.is_dir() {
                return Err(Refusal::NotFound);
            }
            Ok(folder.join(name))
        }
        // No permission to look, a name with a NUL byte, a loop of links, a name inside a file
        // (on Unix): nothing to serve.
        Err(_) => Err(Refusal::NotFound),
    }
}
// ANCHOR_END: resolve
