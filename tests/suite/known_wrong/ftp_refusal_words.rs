//! Known wrong, two ways, each a right `resolve` (the known-right one of another design) but for
//! the words of one refusal, which the server sends after its 550:
//! - [`dangling_is_not_found`] refuses a link to nowhere as not found, where `Refusal::Outside`'s
//!   doc counts it as leading out;
//! - [`every_refusal_is_outside`] says "outside" for every refusal, a missing file too.

use std::path::{Path, PathBuf};

use crate::check_proofs::ftp_resolve_with_components::resolve;

const NOT_FOUND: &str = "no such file or folder";
const OUTSIDE: &str = "that path leads outside the served folder";

pub fn dangling_is_not_found(
    root: &Path,
    cwd: &str,
    requested: &str,
) -> Result<PathBuf, &'static str> {
    let answer = resolve(root, cwd, requested);
    let link_to_nowhere = root
        .join(requested.trim_start_matches('/'))
        .symlink_metadata()
        .is_ok_and(|metadata| metadata.is_symlink())
        && root
            .join(requested.trim_start_matches('/'))
            .canonicalize()
            .is_err();
    match answer {
        // The mistake: nothing is there, so "not found".
        Err(_) if link_to_nowhere => Err(NOT_FOUND),
        answer => answer,
    }
}

pub fn every_refusal_is_outside(
    root: &Path,
    cwd: &str,
    requested: &str,
) -> Result<PathBuf, &'static str> {
    // The mistake: one word for every refusal.
    resolve(root, cwd, requested).map_err(|_| OUTSIDE)
}
