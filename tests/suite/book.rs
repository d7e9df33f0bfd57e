//! The book's own checks, run by `cargo test` so that no one needs mdbook to find a broken book.
//!
//! mdbook only logs a missing include and carries on, so these tests make sure that every chapter
//! in the table of contents exists, every `{{#include}}` names a file and anchor that exist, every
//! link between chapters lands, and every lesson is shown somewhere.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src")
}

fn chapters() -> Vec<(PathBuf, String)> {
    let mut chapters: Vec<_> = fs::read_dir(book_src())
        .expect("read book/src")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .map(|path| {
            let text = fs::read_to_string(&path).expect("read a chapter");
            (path, text)
        })
        .collect();
    chapters.sort();
    chapters
}

/// The targets of Markdown links `[text](target)` in `text`.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        targets.push(after[..end].to_string());
        rest = &after[end..];
    }
    targets
}

/// The arguments of every `{{#include ...}}` in `text`.
fn includes(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{#include ") {
        let after = &rest[at + "{{#include ".len()..];
        let end = after.find("}}").expect("an include is closed with }}");
        found.push(after[..end].trim().to_string());
        rest = &after[end..];
    }
    found
}

#[test]
fn every_chapter_in_the_summary_exists_and_every_chapter_is_listed() {
    let summary = fs::read_to_string(book_src().join("SUMMARY.md")).expect("read SUMMARY.md");
    let listed: BTreeSet<String> = link_targets(&summary).into_iter().collect();
    for target in &listed {
        assert!(
            book_src().join(target).is_file(),
            "SUMMARY.md lists {target}, which does not exist"
        );
    }
    for (path, _) in chapters() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name != "SUMMARY.md" {
            assert!(
                listed.contains(&name),
                "{name} is not listed in SUMMARY.md, so no reader finds it"
            );
        }
    }
}

#[test]
fn every_include_names_a_file_and_anchor_that_exist() {
    for (chapter, text) in chapters() {
        for include in includes(&text) {
            let mut parts = include.split(':');
            let file = parts.next().unwrap();
            let selector: Vec<&str> = parts.collect();
            let path = chapter.parent().unwrap().join(file);
            let source = fs::read_to_string(&path).unwrap_or_else(|_| {
                panic!(
                    "{} includes {file}, which does not exist",
                    chapter.display()
                )
            });
            match selector.as_slice() {
                [] => {}
                [anchor] if anchor.parse::<usize>().is_err() => {
                    for marker in [format!("ANCHOR: {anchor}"), format!("ANCHOR_END: {anchor}")] {
                        assert!(
                            source
                                .lines()
                                .any(|line| line.trim_end().ends_with(&marker)),
                            "{} includes {file}:{anchor}, but {file} has no `{marker}` line",
                            chapter.display()
                        );
                    }
                }
                // Line numbers break silently when a file changes. The one exception is an insta
                // snapshot, whose body starts after a fixed header: we check the header ends there.
                [start, ""] if file.ends_with(".snap") => {
                    let start: usize = start.parse().expect("a line number");
                    let header_end = source.lines().nth(start - 2);
                    assert_eq!(
                        header_end,
                        Some("---"),
                        "{} includes {file} from line {start}, but its header does not end on line {}",
                        chapter.display(),
                        start - 1
                    );
                }
                _ => panic!(
                    "{} includes {include} by line numbers: use an `// ANCHOR:` instead",
                    chapter.display()
                ),
            }
        }
    }
}

#[test]
fn every_link_between_chapters_lands() {
    for (chapter, text) in chapters() {
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let file = target.split('#').next().unwrap();
            let path = chapter.parent().unwrap().join(file);
            assert!(
                path.exists(),
                "{} links to {target}, which does not exist",
                chapter.display()
            );
        }
    }
}

#[test]
fn every_lesson_is_shown_in_the_book() {
    let included: Vec<String> = chapters()
        .iter()
        .flat_map(|(_, text)| includes(text))
        .collect();
    let lessons = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    for entry in fs::read_dir(lessons).expect("read lessons/") {
        let name = entry.expect("an entry").file_name();
        let path = format!("../../lessons/{}", name.to_string_lossy());
        // A folder beside a lesson (lesson 12's site) is shown when a file in it is.
        let folder = format!("{path}/");
        assert!(
            included.iter().any(|include| {
                let file = include.split(':').next().unwrap_or_default();
                file == path || file.starts_with(&folder)
            }),
            "no chapter includes any of {path}"
        );
    }
}

#[test]
fn diagrams_hold_no_html() {
    // Inside <pre class="mermaid"> the browser reads HTML: a `<` there would eat the diagram.
    for (chapter, text) in chapters() {
        let mut rest = text.as_str();
        while let Some(at) = rest.find("<pre class=\"mermaid\">") {
            let after = &rest[at + "<pre class=\"mermaid\">".len()..];
            let end = after
                .find("</pre>")
                .unwrap_or_else(|| panic!("{}: a mermaid block is not closed", chapter.display()));
            assert!(
                !after[..end].contains('<'),
                "{}: a mermaid diagram contains `<`; write it as `&lt;`",
                chapter.display()
            );
            rest = &after[end..];
        }
    }
}
