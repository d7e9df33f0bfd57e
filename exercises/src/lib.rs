//! Your exercises: one file each, with the task at its top and `// TODO:` where you work.
//!
//! Check all of them with `cargo test -p exercises`, or one with `cargo test -p exercises 03`.
//! Run one by hand with `cargo run -p exercises --bin ex03_threaded_echo` (see each file).

#[path = "01_greeting.rs"]
pub mod greeting;

#[path = "02_echo_client.rs"]
pub mod echo_client;

#[path = "03_threaded_echo.rs"]
pub mod threaded_echo;

#[path = "04_chat.rs"]
pub mod chat;

#[path = "07_thread_pool.rs"]
pub mod thread_pool;

#[path = "08_shutdown.rs"]
pub mod shutdown;
