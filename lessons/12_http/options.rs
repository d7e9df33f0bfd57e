//! The command line after the address: FOLDER, HEADER_SECONDS and MAX_CLIENTS, checked.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

/// Where the files come from when the command line names no folder.
pub const DEFAULT_FOLDER: &str = "lessons/12_http_site";

/// FOLDER from the command line, or the lesson's own small site, made canonical.
pub fn site_folder(argument: Option<&String>) -> anyhow::Result<PathBuf> {
    let folder = argument.map_or(DEFAULT_FOLDER, String::as_str);
    let canonical = Path::new(folder).canonicalize().with_context(|| {
        format!(
            "cannot find the folder {folder:?} to serve files from: run this from the course's \
             top folder, or give a FOLDER after the address"
        )
    })?;
    if !canonical.is_dir() {
        anyhow::bail!("{folder:?} is not a folder: give a folder to serve files from");
    }
    Ok(canonical)
}

/// HEADER_SECONDS from the command line (it may have a fraction, as in 0.5), or `default`.
pub fn header_timeout(argument: Option<&String>, default: Duration) -> anyhow::Result<Duration> {
    let Some(text) = argument else {
        return Ok(default);
    };
    course::cli::seconds("HEADER_SECONDS", text, course::cli::TIMEOUT_SECONDS)
}

/// MAX_CLIENTS from the command line, at least 1, or `default`.
pub fn max_clients(argument: Option<&String>, default: usize) -> anyhow::Result<usize> {
    let Some(text) = argument else {
        return Ok(default);
    };
    // A thread a seat: past the most threads a program starts, Linux's memory maps run out and
    // std ends the whole process (chapter 03).
    course::cli::whole_number("MAX_CLIENTS", text, 1..=course::cli::MOST_THREADS)
}
