//! Your exercises: one file each, with the task at its top and `// TODO:` where you work.
//!
//! See which are done, and which comes next, with `cargo run -p exercises` (add `-- --watch` to
//! have each checked again as you save it). Check all of them with `cargo test -p exercises`, or
//! one with `cargo test -p exercises 03`.
//! Run one by hand with `cargo run -p exercises --bin ex03_threaded_echo` (see each file).

#[path = "01_greeting.rs"]
pub mod greeting;

#[path = "02_echo_client.rs"]
pub mod echo_client;

#[path = "03_threaded_echo.rs"]
pub mod threaded_echo;

#[path = "04_chat.rs"]
pub mod chat;

#[path = "05_udp_echo_client.rs"]
pub mod udp_echo_client;

#[path = "06_timeouts.rs"]
pub mod timeouts;

#[path = "07_thread_pool.rs"]
pub mod thread_pool;

#[path = "08_shutdown.rs"]
pub mod shutdown;

#[path = "09_line_server.rs"]
pub mod line_server;

#[path = "11_load.rs"]
pub mod load;

#[path = "12_http.rs"]
pub mod http;

#[path = "14_ftp.rs"]
pub mod ftp;

// Exercise 10, `10_async_echo.rs`, needs tokio, so it is not part of this library: its check
// (`tests/check.rs`) and its example include it by path, and only they compile tokio.
