//! Tries your exercise 14 `resolve` by hand. Your work goes in `exercises/src/14_ftp.rs`.
//!
//! `cargo run -p exercises --bin ex14_ftp -- FOLDER CWD PATH` prints where PATH leads for a
//! client whose current folder is CWD, with FOLDER served, or why it is refused.

use std::path::Path;

use anyhow::Context;

fn main() -> course::cli::MainResult {
    let arguments = course::cli::arguments()?;
    const USAGE: &str = "usage: ex14_ftp FOLDER CWD PATH, as in\n  \
         cargo run -p exercises --bin ex14_ftp -- lessons/14_ftp_site / ../hello.txt";
    if arguments
        .iter()
        .any(|word| word == "--help" || word == "-h")
    {
        println!("{USAGE}");
        return Ok(());
    }
    let [folder, cwd, requested] = arguments.as_slice() else {
        return Err(anyhow::anyhow!(USAGE).into());
    };
    // `resolve` wants the folder canonical, as lesson 14's server gives it.
    let root = Path::new(folder)
        .canonicalize()
        .with_context(|| format!("cannot find the folder {folder:?}"))?;
    match exercises::ftp::resolve(&root, cwd, requested) {
        Ok(path) => println!("{requested:?} leads to {}", path.display()),
        Err(refusal) => println!("{requested:?} is refused: {refusal}"),
    }
    Ok(())
}
