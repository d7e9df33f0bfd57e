//! Known wrong: a fixed pool of sixteen threads. Sixteen clients at once are served; the
//! seventeenth waits until one of them leaves, however quiet they are.

use std::net::{TcpListener, TcpStream};
use std::thread;

use crate::check_proofs::echo_bytes::echo;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(listener, 16)
}

/// A pool of `threads` threads, for this answer and `echo_pool_of_two`.
pub fn serve_with(listener: TcpListener, threads: usize) -> anyhow::Result<()> {
    let (sender, receiver) = crossbeam_channel::unbounded::<TcpStream>();
    for _ in 0..threads {
        let receiver = receiver.clone();
        thread::spawn(move || {
            for stream in receiver {
                if let Err(error) = echo(stream) {
                    eprintln!("echo failed: {error}");
                }
            }
        });
    }
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        sender.send(stream)?;
    }
    Ok(())
}
