//! The course library: what the lesson programs share, and the harness that checks exercises.
//!
//! The lessons in `lessons/` are meant to be read top to bottom, so only two kinds of code live
//! here: the command-line and error-message plumbing every lesson would otherwise repeat
//! ([`cli`], [`explain`]), and the exercise checks ([`check`]).

pub mod check;
pub mod cli;
pub mod explain;
