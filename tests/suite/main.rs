//! The course's own tests, in one program: every lesson, the book's includes,
//! and the proofs that every exercise check can fail and can pass.
//!
//! One program rather than one per file, because most of these tests wait (for a server's reply,
//! for a timeout, for a check's patience to run out on a wrong answer) and waiting is what they
//! can share: `cargo test` runs one test program after another, but the tests inside one program
//! at the same time (eight at once, see `.cargo/config.toml`). Tests that open many sockets take
//! their share of a budget first (`support::sockets`), so that together they stay within 256
//! open files, macOS's default limit.

mod support;

mod book;
mod book_claims;
// The test harness starts tests in the order of their names. The proofs that the checks fail
// wrong answers and pass right ones take the longest (dozens of checks, many waiting out their
// patience), and the descriptors test waits out a window of its own, so these two modules' names
// sort before the lessons': the long tests start first and the short ones fill the gaps, rather
// than the long ones starting last and finishing alone.
mod check_proofs;
mod descriptors_run_out;
mod lesson_01_greeting;
mod lesson_02_echo;
mod lesson_03_threaded_echo;
mod lesson_04_chat;
mod lesson_05_udp;
mod lesson_06_mistakes;
mod lesson_06_timeouts;
mod lesson_07_thread_pool;
mod lesson_08_shutdown;
mod lesson_09_chaos_proxy;
mod lesson_11_load;
mod lesson_12_http;
mod lesson_14_ftp;
mod lesson_errors;
