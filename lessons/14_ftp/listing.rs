//! Listings and times: LIST's lines in the style of `ls -l`, NLST's bare names, and the
//! timestamps of MDTM, all from what the disk says about the files inside the served folder.

use std::fs::{self, Metadata};
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What LIST (`long`, lines like `ls -l`) or NLST (names only) sends for `real`, a folder or
/// a file inside `root`: the lines, each ending in CR LF, and how many there are.
pub fn text(root: &Path, real: &Path, long: bool, writable: bool) -> io::Result<(String, usize)> {
    let entries = if real.is_dir() {
        entries(root, real)?
    } else {
        let name = real.file_name().unwrap_or_default().to_string_lossy();
        let name = name.into_owned();
        vec![Entry {
            name,
            metadata: fs::metadata(real)?,
        }]
    };
    let now = SystemTime::now();
    let text = entries
        .iter()
        .map(|entry| match long {
            true => format!("{}\r\n", list_line(entry, writable, now)),
            false => format!("{}\r\n", entry.name),
        })
        .collect();
    Ok((text, entries.len()))
}

/// One entry of a folder, as a listing shows it.
pub struct Entry {
    /// The name, as text. A name that is not UTF-8 (possible on Linux) is shown with `�`.
    pub name: String,
    /// What the name leads to (links followed).
    pub metadata: Metadata,
}

/// The entries of `folder`, by name, leaving out any that lead outside `root` (a symbolic link
/// to `/etc`) or nowhere: a listing that showed them would tell the size and age of a file the
/// server refuses to serve.
pub fn entries(root: &Path, folder: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(folder)? {
        let entry = entry?;
        let Ok(real) = entry.path().canonicalize() else {
            continue;
        };
        if !real.starts_with(root) {
            continue;
        }
        let Ok(metadata) = fs::metadata(&real) else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        entries.push(Entry { name, metadata });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

// ANCHOR: list_line
/// One line of LIST, as `ls -l` prints it, since that is what clients parse:
///
/// ```text
/// -r--r--r-- 1 ftp ftp           87 Dec  3 08:38 hello.txt
/// dr-xr-xr-x 1 ftp ftp         4096 Dec  3 08:38 docs
/// ```
///
/// The permissions are what an FTP client may do here (read-only unless `--writable`), not the
/// file's own mode bits, which mean nothing to the client and differ on Windows. The owner
/// and group are the same made-up `ftp` for everything: who owns a file on the server is
/// none of a stranger's business. RFC 959 fixes no format for LIST at all; this one is the
/// custom that curl, browsers and file managers learned to read.
pub fn list_line(entry: &Entry, writable: bool, now: SystemTime) -> String {
    let permissions = match (entry.metadata.is_dir(), writable) {
        (true, true) => "drwxr-xr-x",
        (true, false) => "dr-xr-xr-x",
        (false, true) => "-rw-r--r--",
        (false, false) => "-r--r--r--",
    };
    let modified = entry.metadata.modified().unwrap_or(UNIX_EPOCH);
    format!(
        "{permissions} 1 ftp ftp {:>12} {} {}",
        entry.metadata.len(),
        ls_time(modified, now),
        entry.name
    )
}
// ANCHOR_END: list_line

/// `ls -l`'s time: `Dec  3 08:38` for the last six months, `Dec  3  2025` before that, in UTC.
fn ls_time(time: SystemTime, now: SystemTime) -> String {
    const HALF_A_YEAR: Duration = Duration::from_secs(183 * 24 * 60 * 60);
    let (year, month, day, hour, minute, _) = utc(time);
    let month = MONTHS[month as usize - 1];
    let recent = now.duration_since(time).is_ok_and(|age| age < HALF_A_YEAR);
    if recent {
        format!("{month} {day:>2} {hour:02}:{minute:02}")
    } else {
        format!("{month} {day:>2}  {year}")
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// MDTM's answer: `20261203083807`, the time a file last changed, in UTC (RFC 3659 section 3).
pub fn mdtm_text(time: SystemTime) -> String {
    let (year, month, day, hour, minute, second) = utc(time);
    format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}")
}

/// A time as year, month, day, hour, minute, second in UTC. std has no calendar, and one
/// function does not justify a dependency: this is Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html>). Times before 1970 count as 1970.
fn utc(time: SystemTime) -> (i64, u32, u32, u32, u32, u32) {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let of_day = of_day as u32;
    (
        year,
        month,
        day,
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
    )
}
