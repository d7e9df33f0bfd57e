//! Known wrong: lesson 14's `resolve` without the test for a link to nowhere: a name that does
//! not canonicalize is taken for a new name, and `File::create` would follow the link out.

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
    match path.canonicalize() {
        Ok(real) if real.starts_with(root) => Ok(real),
        Ok(_) => Err("that path leads outside the served folder"),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
                return Err("no such file or folder");
            };
            let folder = folder
                .canonicalize()
                .map_err(|_| "no such file or folder")?;
            if !folder.starts_with(root) {
                return Err("that path leads outside the served folder");
            }
            Ok(folder.join(name))
        }
        Err(_) => Err("no such file or folder"),
    }
}
