//! Sets `cfg(async_chat)` for this package's code, so that the top-level suite's files that this
//! package's suite compiles again (`tests/suite/main.rs` here) test lesson 10's programs:
//! `lesson_04_chat.rs` runs its scenarios against lesson 10's chat and leaves out the tests about
//! lesson 04's own binaries; `lesson_errors.rs` and `descriptors_run_out.rs` take lesson 10's
//! binaries as their list.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(async_chat)");
    println!("cargo::rustc-cfg=async_chat");
}
