//! Known wrong: a thread per client, with a one-second read timeout, so a client that thinks
//! for a moment is dropped.

use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use crate::check_proofs::echo_bytes::echo;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        stream.set_read_timeout(Some(Duration::from_secs(1)))?;
        thread::spawn(move || {
            if let Err(error) = echo(stream) {
                eprintln!("echo failed: {error}");
            }
        });
    }
    Ok(())
}
