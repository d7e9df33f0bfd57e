//! The reference solutions: the same files as in `exercises/`, finished.
//!
//! `cargo test` runs the same checks on them as `cargo test -p exercises` runs on yours, and
//! they must pass. Copy one over its exercise and that exercise's check passes too.

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

// `10_async_echo.rs` needs tokio, so `tests/check.rs` includes it by path, as the exercises do.
