//! The course library: what the lesson programs share, and the harness that checks exercises.
//!
//! The lessons in `lessons/` are meant to be read top to bottom, so only three kinds of code live
//! here: the command-line and error-message plumbing every lesson would otherwise repeat
//! ([`cli`], [`explain`]), the chat server's connection plumbing that lesson 04 and exercise 04
//! share ([`chat`]), and the exercise checks ([`check`]).

pub mod chat;
pub mod check;
pub mod cli;
pub mod explain;
pub mod listen;
pub mod signal;
