//! Lesson 13's tests, in one program: `cargo test` runs one test program after another, and the
//! tests inside one at the same time, so the two files' waits overlap.

#[path = "exercise_13.rs"]
mod exercise_13;
#[path = "tls.rs"]
mod tls;
