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
mod out_of_descriptors;
mod proofs;
