//! Runs your exercise 02 client by hand. Your work goes in `exercises/src/02_echo_client.rs`.

use course::cli::Program;

const PROGRAM: Program = Program {
    name: "ex02_echo_client",
    about: "Exercise 02: sends one line with your send_line and prints the echo.",
    default_address: "127.0.0.1:65433",
    extra_usage: "MESSAGE",
    max_extra_args: 1,
    try_it: "Start an echo server first, in another terminal:\n  cargo run --bin 02_echo",
};

fn main() -> anyhow::Result<()> {
    let args = PROGRAM.args()?;
    let message = args
        .extra
        .first()
        .map_or("Hello, Echo Server!", String::as_str);
    let reply = exercises::echo_client::send_line(args.address, message)?;
    println!("received {reply:?}");
    Ok(())
}
