//! Runs your exercise 05 client by hand. Your work goes in `exercises/src/05_udp_echo_client.rs`.

use std::net::UdpSocket;
use std::time::Duration;

use anyhow::Context;
use course::cli::{Program, Role};

const PROGRAM: Program = Program {
    name: "ex05_udp_echo_client",
    role: Role::Client,
    about: "Exercise 05: sends the message with your ask, and prints the echo and its attempt.",
    default_address: "127.0.0.1:65436",
    extra_usage: "[MESSAGE]",
    max_extra_args: 1,
    try_it: "Start the UDP echo server first, in another terminal:\n  cargo run --bin 05_udp_echo",
};

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let message = args.extra.first().map_or("Hello, UDP!", String::as_str);
    // Port 0 or 0.0.0.0 is no server's address: say so, as lesson 05's client does.
    if let Some(advice) = course::explain::not_a_server_address(args.address) {
        return Err(anyhow::anyhow!("cannot send to {}: {advice}", args.address).into());
    }
    let any_port = if args.address.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(any_port).context("opening a UDP socket")?;
    let answer =
        exercises::udp_echo_client::ask(&socket, args.address, message, Duration::from_secs(1), 3)?;
    println!(
        "received {:?} (answered on attempt {})",
        answer.reply, answer.attempt
    );
    Ok(())
}
