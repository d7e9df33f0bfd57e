//! Runs your exercise 02 client by hand. Your work goes in `exercises/src/02_echo_client.rs`.

use course::cli::{Program, Role};

const PROGRAM: Program = Program {
    name: "ex02_echo_client",
    role: Role::Client,
    about: "Exercise 02: sends the lines given with your send_lines, and prints each echo.",
    default_address: "127.0.0.1:65433",
    extra_usage: "LINE...",
    max_extra_args: 100,
    try_it: "Start an echo server first, in another terminal:\n  cargo run --bin 02_echo",
};

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let lines: Vec<&str> = args.extra.iter().map(String::as_str).collect();
    let lines = if lines.is_empty() {
        vec!["Hello, Echo Server!"]
    } else {
        lines
    };
    for echo in exercises::echo_client::send_lines(args.address, &lines)? {
        println!("received {echo:?}");
    }
    Ok(())
}
