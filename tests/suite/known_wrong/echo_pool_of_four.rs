//! Known wrong: a fixed pool of four threads. Four clients at once are served; the fifth waits
//! until one of the four leaves, however quiet they are.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use crate::proofs::echo_bytes::echo;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let (sender, receiver) = mpsc::channel::<TcpStream>();
    let receiver = Arc::new(Mutex::new(receiver));
    for _ in 0..4 {
        let receiver = Arc::clone(&receiver);
        thread::spawn(move || {
            loop {
                let next = receiver.lock().map(|queue| queue.recv());
                let Ok(Ok(stream)) = next else { return };
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
