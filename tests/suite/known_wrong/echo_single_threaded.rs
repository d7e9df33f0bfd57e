//! Known wrong: lesson 02's echo, one client at a time (the exercise as shipped).

use std::net::TcpListener;

use crate::check_proofs::echo_bytes::echo;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if let Err(error) = echo(stream) {
            eprintln!("echo failed: {error}");
        }
    }
    Ok(())
}
