//! Known wrong: lesson 14's `resolve`, but the prefix is checked on strings, so that
//! `/srv/ftp2/secret` passes for `/srv/ftp`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

pub fn resolve(root: &Path, cwd: &str, requested: &str) -> Result<PathBuf, &'static str> {
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
    let inside = |real: &Path| {
        real.to_string_lossy()
            .starts_with(root.to_string_lossy().as_ref())
    };
    match path.canonicalize() {
        Ok(real) if inside(&real) => Ok(real),
        Ok(_) => Err("that path leads outside the served folder"),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            if path.symlink_metadata().is_ok() {
                return Err("that path leads outside the served folder");
            }
            let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
                return Err("no such file or folder");
            };
            let folder = folder
                .canonicalize()
                .map_err(|_| "no such file or folder")?;
            if !inside(&folder) {
                return Err("that path leads outside the served folder");
            }
            Ok(folder.join(name))
        }
        Err(_) => Err("no such file or folder"),
    }
}
