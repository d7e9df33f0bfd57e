//! Files from the site folder, and never from anywhere else: a request's path made safe.

use std::fs::{File, Metadata};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::response::{Body, Response};

// ANCHOR: file_path
/// Turns a request path into a path inside `folder`, or says why there is none: 400 for a path
/// that cannot be decoded, 403 for one that tries to leave the folder.
///
/// The path arrives *percent-encoded*: `%2e%2e` is `..`, `%5c` is `\`, `%20` a space. Decode
/// first, then check, or an attacker writes the forbidden bytes in a form the check does not
/// recognise.
pub fn file_path(folder: &Path, path: &str) -> Result<PathBuf, u16> {
    let decoded = percent_decode(path).ok_or(400_u16)?;
    let decoded = String::from_utf8(decoded).map_err(|_| 400_u16)?;
    let mut inside = folder.to_path_buf();
    for segment in decoded.split('/').skip(1) {
        // Only plain names: letters, digits, spaces and the punctuation a URL allows in a path
        // (`+` is a plus here, not a space), but no `..` or `.`, no hidden files, no `\` (a
        // separator on Windows), no `:` (a drive on Windows, `C:`), no `*` or `?`, no NUL. A
        // list of what is allowed cannot be tricked by a spelling nobody thought of; a list of
        // what is forbidden can.
        let plain = !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .chars()
                .all(|c| c.is_alphanumeric() || " -_.~+,;=!$&'()@%".contains(c));
        if !plain {
            return Err(403);
        }
        inside.push(segment);
    }
    Ok(inside)
}
// ANCHOR_END: file_path

/// Decodes `%XX` escapes. `None` if a `%` is not followed by two hexadecimal digits.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    Some(decoded)
}

/// A file, or 404. A symbolic link in the folder could point anywhere on the disk, so a path
/// that passes through one must still lie inside the folder once the links are followed. Most
/// paths pass through none: one `symlink_metadata` per name checks that, where `canonicalize`
/// would ask the system about every folder from the root down.
pub fn serve_file(path: &Path, folder: &Path) -> Response {
    let metadata = match metadata_inside(path, folder) {
        Ok(metadata) => metadata,
        Err(status) => return Response::status(status),
    };
    if !metadata.is_file() {
        return Response::status(404);
    }
    let file = match File::open(path) {
        Ok(file) => file,
        // It was there a moment ago: gone since, or not ours to read.
        Err(error) if error.kind() == ErrorKind::NotFound => return Response::status(404),
        Err(error) if error.kind() == ErrorKind::PermissionDenied => {
            return Response::status(403);
        }
        // Out of file descriptors, say: the server's trouble, and a passing one, not a missing
        // file. 503 tells the client to try again. (Not logged here: a client that retries would
        // write a line per try, and the accept loop already says when descriptors run out.)
        Err(_) => return Response::status(503),
    };
    Response {
        status: 200,
        headers: vec![("Content-Type", content_type(path).to_string())],
        body: Body::File(file, metadata.len()),
    }
}

/// What `path` names: 404 if nothing, 403 if a link leads out of `folder` (which is canonical).
fn metadata_inside(path: &Path, folder: &Path) -> Result<Metadata, u16> {
    let relative = path.strip_prefix(folder).map_err(|_| 403_u16)?;
    let mut walked = folder.to_path_buf();
    let mut metadata = folder.metadata().map_err(|_| 404_u16)?;
    for name in relative.components() {
        walked.push(name);
        metadata = walked.symlink_metadata().map_err(|_| 404_u16)?;
        if metadata.file_type().is_symlink() {
            // Follow the links, then check where they lead.
            let canonical = path.canonicalize().map_err(|_| 404_u16)?;
            if !canonical.starts_with(folder) {
                return Err(403);
            }
            return canonical.metadata().map_err(|_| 404_u16);
        }
    }
    Ok(metadata)
}

/// The type a browser needs to know what to do with a file.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("txt" | "md" | "rs") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}
