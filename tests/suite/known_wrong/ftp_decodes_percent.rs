//! Known wrong: HTTP's rule applied to FTP: `%XX` is decoded before the path is worked out, so
//! a file really called `%2e%2e` cannot be reached, and `%2e%2e` means `..`. (Safe, since the
//! check comes after, but it serves the wrong files.)

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

pub fn resolve(root: &Path, cwd: &str, requested: &str) -> Result<PathBuf, &'static str> {
    let requested = percent_decode(requested);
    let start = if requested.starts_with('/') { "" } else { cwd };
    let mut path = root.to_path_buf();
    for name in start.split('/').chain(requested.split('/')) {
        match name {
            "" | "." => {}
            ".." => {
                if path != root {
                    path.pop();
                }
            }
            name => path.push(name),
        }
    }
    match path.canonicalize() {
        Ok(real) if real.starts_with(root) => Ok(real),
        Ok(_) => Err("that path leads outside the served folder"),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            if path.symlink_metadata().is_ok() {
                return Err("that path leads outside the served folder");
            }
            let folder = path.parent().ok_or("no such file or folder")?;
            let folder = folder
                .canonicalize()
                .map_err(|_| "no such file or folder")?;
            if !folder.starts_with(root) {
                return Err("that path leads outside the served folder");
            }
            Ok(folder.join(path.file_name().ok_or("no such file or folder")?))
        }
        Err(_) => Err("no such file or folder"),
    }
}

fn percent_decode(text: &str) -> String {
    let mut decoded = Vec::new();
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let hex = text.get(index + 1..index + 3);
        match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
            Some(byte) if bytes[index] == b'%' => {
                decoded.push(byte);
                index += 3;
            }
            _ => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}
