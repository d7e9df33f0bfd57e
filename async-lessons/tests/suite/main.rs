//! Lesson 10's tests, in one program (as the course's own are, in `tests/suite/`): its echo
//! server end to end, its chat held to lesson 04's scenarios, and the proofs of exercise 10's
//! check, whose answers need tokio.

#[path = "../../../tests/suite/support/mod.rs"]
mod support;

// Lesson 04's end-to-end chat tests, compiled again: `cfg(async_chat)`, set by this package's
// build script, points their `SERVER` at `10_async_chat` and leaves out the tests about lesson
// 04's own binaries. Some helpers serve only those, hence the allow.
#[allow(unused_imports, dead_code)]
#[path = "../../../tests/suite/lesson_04_chat.rs"]
mod lesson_04_chat;

// The course's checks that every lesson fails with a sentence and never a backtrace, and that
// every server waits out a lack of file descriptors, compiled again: `cfg(async_chat)` gives
// each its list of lesson 10's binaries.
#[path = "../../../tests/suite/descriptors_run_out.rs"]
mod descriptors_run_out;
#[path = "../../../tests/suite/lesson_errors.rs"]
mod lesson_errors;

mod lesson_10_async_chat;
mod lesson_10_async_echo;
mod proofs;
