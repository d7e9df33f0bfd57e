//! The course library: what the lesson programs share, and the harness that checks exercises.
//!
//! The lessons in `lessons/` are meant to be read top to bottom, so only a few kinds of code live
//! here: what every lesson would otherwise repeat (the command line, error messages, what to do
//! when `accept` fails: [`cli`], [`explain`], [`accept`]), three things std cannot do (listening
//! with a longer backlog, catching Ctrl-C, and telling Unicode format characters apart:
//! [`listen`], [`signal`], [`unicode`]), the chat server's connection plumbing that lesson 04 and
//! exercise 04 share ([`chat`]), the exercise checks ([`check`]), closing a connection so that its
//! last words arrive ([`close`]), and starting a server program to learn where it listens
//! ([`started`]: lesson 11, the benchmarks and the tests). The program that runs the checks for a learner (`cargo run
//! -p exercises`) is the package `runner/`: no lesson links it.

pub mod accept;
pub mod chat;
pub mod check;
pub mod cli;
pub mod close;
pub mod explain;
pub mod listen;
pub mod signal;
pub mod started;
pub mod unicode;
