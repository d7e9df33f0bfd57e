//! Runs your exercise 04 chat server by hand. Your work goes in `exercises/src/04_chat.rs`.

use course::cli::{Program, Role, serve_by_hand};

const PROGRAM: Program = Program {
    name: "ex04_chat",
    role: Role::Server,
    about: "Exercise 04: the chat server with your broker.",
    default_address: "127.0.0.1:65435",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Join from two or more other terminals with:\n  cargo run --bin 04_chat_client\n  \
             nc 127.0.0.1 65435",
};

fn main() -> course::cli::MainResult {
    serve_by_hand(&PROGRAM, exercises::chat::serve)
}
