//! Known right, of another design: `..` is worked out with `Path::components` into a stack of
//! names, and a path that does not exist is judged by its nearest folder that does.

use std::path::{Component, Path, PathBuf};

pub fn resolve(root: &Path, cwd: &str, requested: &str) -> Result<PathBuf, &'static str> {
    let mut inside = PathBuf::new();
    let whole = if requested.starts_with('/') {
        requested.to_string()
    } else {
        format!("{cwd}/{requested}")
    };
    for component in Path::new(&whole).components() {
        match component {
            Component::Normal(name) => inside.push(name),
            Component::ParentDir => {
                inside.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let path = root.join(&inside);
    if let Ok(real) = path.canonicalize() {
        return if real.starts_with(root) {
            Ok(real)
        } else {
            Err("that path leads outside the served folder")
        };
    }
    // Nothing (or a link to nothing) there: only a plain new name in a real folder inside
    // (not in a file).
    if path.symlink_metadata().is_ok() {
        return Err("that path leads outside the served folder");
    }
    let name = path.file_name().ok_or("no such file or folder")?;
    let folder = path
        .parent()
        .ok_or("no such file or folder")?
        .canonicalize();
    match folder {
        Ok(folder) if folder.starts_with(root) && folder.is_dir() => Ok(folder.join(name)),
        Ok(folder) if folder.starts_with(root) => Err("no such file or folder"),
        Ok(_) => Err("that path leads outside the served folder"),
        Err(_) => Err("no such file or folder"),
    }
}
