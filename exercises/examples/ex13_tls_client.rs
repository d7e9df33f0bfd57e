//! Runs exercise 13 by hand: `cargo run -p exercises --example ex13_tls_client -- ADDRESS
//! MESSAGE [--ca FILE]`. (An example, not a program like the other exercises', so that only it
//! and the check compile rustls.) Start `cargo run --bin 13_tls_echo` first.

#[path = "../src/13_tls_client.rs"]
mod tls_client;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Duration;

use course::cli::{Program, Role};

const PROGRAM: Program = Program {
    name: "ex13_tls_client",
    role: Role::Client,
    about: "Exercise 13: connects with your connect, sends one line over TLS, prints the echo. \
            The authority is the one 13_tls_echo printed (--ca FILE; by default its own folder's).",
    default_address: "127.0.0.1:65446",
    extra_usage: "[MESSAGE] [--ca FILE]",
    max_extra_args: 1,
    try_it: "Start the server first, in another terminal:\n  cargo run --bin 13_tls_echo",
};

fn main() -> course::cli::MainResult {
    let (authority, rest) = course::cli::take_option("--ca", course::cli::arguments()?)?;
    let authority = authority.map_or_else(
        || std::env::temp_dir().join("client-server-rust-13-tls/ca.pem"),
        PathBuf::from,
    );
    let args = match PROGRAM.parse(rest)? {
        course::cli::Parsed::Run(args) => args,
        course::cli::Parsed::Help => PROGRAM.print_help_and_exit(),
    };
    let message = args.extra.first().map_or("hello over TLS", String::as_str);
    let mut tls = tls_client::connect(
        args.address,
        "localhost",
        &authority,
        Duration::from_secs(5),
    )?;
    tls.write_all(format!("{message}\n").as_bytes())?;
    let mut echo = String::new();
    BufReader::new(&mut tls).read_line(&mut echo)?;
    println!("received {:?}", echo.trim_end());
    Ok(())
}
