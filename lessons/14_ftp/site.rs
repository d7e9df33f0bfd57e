//! The served site: the folder, whether it is writable, and the limits, each with its reason;
//! what the command line may change, and what every client's thread shares.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use anyhow::Context;

// ANCHOR: limits
/// How many clients may be connected at once, logged in or not. The next one hears `421` and is
/// closed.
pub const MAX_CLIENTS: usize = 32;
/// How long a command may take to arrive. FTP clients idle between commands while their user
/// thinks, so this is minutes, not seconds; then `421` and the connection closes. It is a
/// deadline for the whole command, not for each byte: a client that sends one byte now and then
/// is closed all the same.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a data port announced by PASV or EPSV waits for its client to connect, once a
/// transfer command came. Then `425`: a port nobody uses must not stay open for ever.
pub const DATA_PATIENCE: Duration = Duration::from_secs(10);
/// The largest file STOR accepts (with `--writable`). A bigger one is cut off with `552` and
/// not kept: without a limit, one client could fill the disk.
pub const MAX_UPLOAD_BYTES: u64 = 64 * 1024 * 1024;
/// The longest command, its line end not counted. A client that sends more is closed with
/// `500` as soon as a byte past the limit is not the line end.
pub const MAX_COMMAND_BYTES: u64 = 4096;
// ANCHOR_END: limits

/// What every client's thread shares: the folder, the rules, and the count of seats taken.
pub struct Site {
    /// The served folder, canonical, so that [`resolve`] can check a path lies inside it.
    pub root: PathBuf,
    /// Whether STOR, DELE, MKD and RMD are allowed (`--writable`).
    pub writable: bool,
    /// The limits above, or what the command line set instead.
    pub max_clients: usize,
    pub idle_timeout: Duration,
    pub data_patience: Duration,
    pub max_upload_bytes: u64,
    /// How many clients are connected now. Taken by the accept loop, given back by [`Seat`].
    pub clients: AtomicUsize,
}

impl Site {
    /// The client's view of a real path inside the served folder: `root/docs` is `/docs`.
    /// Names that are not UTF-8 (possible on Linux) are shown with `�` in their place.
    pub fn client_view(&self, real: &Path) -> String {
        let inside = real.strip_prefix(&self.root).unwrap_or(Path::new(""));
        let names: Vec<String> = inside
            .components()
            .map(|name| name.as_os_str().to_string_lossy().into_owned())
            .collect();
        format!("/{}", names.join("/"))
    }

    /// How the folder is served, in words for the log and the login reply.
    pub fn access(&self) -> &'static str {
        if self.writable {
            "writable"
        } else {
            "read-only"
        }
    }

    /// FOLDER and the options after the address: `--writable`, and the limits, for tests and
    /// for trying them by hand (`--idle-seconds 5`).
    pub fn from_command_line(extra: &[String]) -> anyhow::Result<Site> {
        let mut site = Site {
            root: PathBuf::from(DEFAULT_FOLDER),
            writable: false,
            max_clients: MAX_CLIENTS,
            idle_timeout: IDLE_TIMEOUT,
            data_patience: DATA_PATIENCE,
            max_upload_bytes: MAX_UPLOAD_BYTES,
            clients: AtomicUsize::new(0),
        };
        let mut words = extra.iter();
        // Each option, and the folder, at most once: a second would silently undo the first.
        let mut given: Vec<&str> = Vec::new();
        while let Some(word) = words.next() {
            let what = if word.starts_with('-') {
                word
            } else {
                "FOLDER"
            };
            if given.contains(&what) {
                anyhow::bail!("{what} was given twice (the second time as {word:?}): give it once");
            }
            given.push(what);
            let mut value = || {
                words
                    .next()
                    .with_context(|| format!("{word} needs a value"))
            };
            // Times from a millisecond to an hour, as lesson 12 takes: `TIMEOUT_SECONDS` says why.
            let time = course::cli::TIMEOUT_SECONDS;
            match word.as_str() {
                "--writable" => site.writable = true,
                "--max-clients" => {
                    // A thread a client: see `MOST_THREADS`.
                    let most = course::cli::MOST_THREADS;
                    site.max_clients = course::cli::whole_number(word, value()?, 1..=most)?
                }
                "--idle-seconds" => site.idle_timeout = course::cli::seconds(word, value()?, time)?,
                "--data-seconds" => {
                    site.data_patience = course::cli::seconds(word, value()?, time)?
                }
                "--max-upload-bytes" => site.max_upload_bytes = bytes(word, value()?)?,
                option if option.starts_with('-') => {
                    anyhow::bail!("unknown option {option:?}: see --help for the options")
                }
                folder => site.root = PathBuf::from(folder),
            }
        }
        let folder = site.root.display().to_string();
        site.root = Path::new(&folder).canonicalize().with_context(|| {
            format!(
                "cannot find the folder {folder:?} to serve: run this from the course's top \
                 folder, or give a FOLDER after the address"
            )
        })?;
        anyhow::ensure!(site.root.is_dir(), "{folder:?} is not a folder");
        Ok(site)
    }
}

/// A size given on the command line: a whole number of bytes from 1 to a TiB (2^40), so that
/// adding one to it, as the upload's limit does, cannot overflow.
fn bytes(option: &str, text: &str) -> anyhow::Result<u64> {
    const MAX: u64 = 1 << 40;
    match text.parse::<u64>() {
        Ok(number) if (1..=MAX).contains(&number) => Ok(number),
        _ => anyhow::bail!(
            "{option} must be a whole number of bytes from 1 to {MAX} (a TiB), not {text:?}"
        ),
    }
}

/// Where the files come from when the command line names no folder.
const DEFAULT_FOLDER: &str = "lessons/14_ftp_site";
