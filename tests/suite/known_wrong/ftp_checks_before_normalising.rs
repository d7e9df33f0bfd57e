//! Known wrong: the check is done on the path as written, before `..` is worked out and before
//! links are followed; then the path is made canonical, and that is what is returned.

use std::path::{Path, PathBuf};

pub fn resolve(root: &Path, cwd: &str, requested: &str) -> Result<PathBuf, &'static str> {
    let path = if let Some(absolute) = requested.strip_prefix('/') {
        root.join(absolute)
    } else {
        root.join(cwd.trim_start_matches('/')).join(requested)
    };
    // `ROOT/../secret.txt` starts with ROOT, name for name.
    if !path.starts_with(root) {
        return Err("that path leads outside the served folder");
    }
    Ok(path.canonicalize().unwrap_or(path))
}
