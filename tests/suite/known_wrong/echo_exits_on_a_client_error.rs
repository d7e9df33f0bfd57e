//! Known wrong: a thread per client, but a client's error ends the whole program
//! (`std::process::exit` in the client's thread) instead of only that client's connection.

use std::net::TcpListener;
use std::thread;

use crate::check_proofs::echo_bytes::echo;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let stream = stream?;
        thread::spawn(move || {
            if let Err(error) = echo(stream) {
                eprintln!("echo failed: {error:#}");
                std::process::exit(1);
            }
        });
    }
    Ok(())
}
