//! Lesson 06, common mistake: an address written into the code.
//!
//! A greeting server whose careless version listens on an address fixed in its source, whatever
//! you ask for. Start it twice and the second copy cannot start; ask for port 0, as tests do,
//! and it takes 65437 anyway; ask for 0.0.0.0, to be reachable from other machines, and it stays
//! on 127.0.0.1. Run it with `fixed`, and it listens where you tell it.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, anyhow};
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

// ANCHOR: mistake
/// The mistake: the one place the address should come from is the command line.
const HARD_CODED: &str = "127.0.0.1:65437";
// ANCHOR_END: mistake

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let fixed = match args.extra.first().map(String::as_str) {
        None => false,
        Some("fixed") => true,
        Some(other) => {
            let wrong = anyhow!("after the address, only `fixed` may follow, not {other:?}");
            return Err(wrong.into());
        }
    };
    let listener = if fixed {
        listen_where_asked(args.address)?
    } else {
        // The address you gave is read, and then ignored.
        TcpListener::bind(HARD_CODED).with_context(|| format!("binding {HARD_CODED}"))?
    };
    let actual = listener.local_addr()?;
    println!("listening on {actual}");
    // After a failed accept, pause, and log the spell, not every try, as every server does.
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        match connection {
            Ok(mut stream) => {
                failures.over();
                let greeting = format!("Hello from {actual}\n");
                if let Err(error) = stream.write_all(greeting.as_bytes()) {
                    eprintln!("could not greet a client: {error}");
                }
            }
            Err(error) => failures.pause_after(error),
        }
    }
    Ok(())
}

// ANCHOR: fix
/// The fix: listen where the command line says, and explain a refusal.
fn listen_where_asked(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))
}
// ANCHOR_END: fix

const PROGRAM: Program = Program {
    name: "06_mistake_hard_coded_address",
    role: Role::Server,
    about: "Lesson 06, a common mistake: a server that listens on an address fixed in its code.",
    default_address: "127.0.0.1:65437",
    extra_usage: "[fixed]",
    max_extra_args: 1,
    try_it: "Ask for any free port, and see which one it takes:\n  \
             cargo run --bin 06_mistake_hard_coded_address -- 127.0.0.1:0\n\
             Then start a second copy in another terminal, the same way. Then try:\n  \
             cargo run --bin 06_mistake_hard_coded_address -- 127.0.0.1:0 fixed",
};
