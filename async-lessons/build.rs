//! Sets `cfg(async_chat)` for this package's code, so that `tests/lesson_10_async_chat.rs`, which
//! compiles the top-level `tests/suite/lesson_04_chat.rs` again, runs its scenarios against lesson 10's
//! server and leaves out the tests that are about lesson 04's own binaries.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(async_chat)");
    println!("cargo::rustc-cfg=async_chat");
}
