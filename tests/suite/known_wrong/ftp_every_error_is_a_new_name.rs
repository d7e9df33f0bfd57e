//! Known wrong: every error from `canonicalize` is taken for "nothing there yet", and any
//! folder that canonicalizes is taken for a folder: `hello.txt/new.txt` becomes a new name in a
//! file.

use std::path::{Path, PathBuf};

pub fn resolve(root: &Path, cwd: &str, requested: &str) -> Result<PathBuf, &'static str> {
    let start = if requested.starts_with('/') { "" } else { cwd };
    let mut path = root.to_path_buf();
    let mut depth = 0;
    for name in start.split('/').chain(requested.split('/')) {
        match name {
            "" | "." => {}
            ".." if depth > 0 => {
                path.pop();
                depth -= 1;
            }
            ".." => {}
            name => {
                path.push(name);
                depth += 1;
            }
        }
    }
    match path.canonicalize() {
        Ok(real) if real.starts_with(root) => Ok(real),
        Ok(_) => Err("that path leads outside the served folder"),
        // The mistake: any failure is taken for "nothing there yet".
        Err(_) => {
            if path.symlink_metadata().is_ok() {
                return Err("that path leads outside the served folder");
            }
            let name = path.file_name().ok_or("no such file or folder")?;
            match path
                .parent()
                .ok_or("no such file or folder")?
                .canonicalize()
            {
                Ok(folder) if folder.starts_with(root) => Ok(folder.join(name)),
                Ok(_) => Err("that path leads outside the served folder"),
                Err(_) => Err("no such file or folder"),
            }
        }
    }
}
