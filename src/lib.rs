//! The course library: what the lesson programs share, and the harness that checks exercises.
//!
//! The lessons in `lessons/` are meant to be read top to bottom, so only a few kinds of code live
//! here: the command-line and error-message plumbing every lesson would otherwise repeat
//! ([`cli`], [`explain`]), the chat server's connection plumbing that lesson 04 and exercise 04
//! share ([`chat`]), the exercise checks ([`check`]), and two things std cannot do: listening
//! with a longer backlog ([`listen`]) and catching Ctrl-C ([`signal`]).

pub mod chat;
pub mod check;
pub mod cli;
pub mod explain;
pub mod listen;
pub mod signal;
