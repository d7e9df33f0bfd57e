//! What lesson 13's programs share: the certificates ([`certificates`]); and the check of
//! exercise 13 ([`check`]), which plays TLS servers, so it lives here rather than in the course
//! library, which never compiles the TLS crates.

pub mod certificates;
pub mod check;
