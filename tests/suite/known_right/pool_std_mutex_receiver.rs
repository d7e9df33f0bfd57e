//! Exercise 07 done another right way: std's `mpsc` channel, whose receiver cannot be cloned,
//! shared by the workers behind a `Mutex`, as the Rust Book's thread pool does. The check must
//! not insist on crossbeam.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    // `sync_channel(0)` is a rendezvous, as crossbeam's `bounded(0)` is.
    let (waiting, queue) = mpsc::sync_channel::<TcpStream>(max_waiting);
    let queue = Arc::new(Mutex::new(queue));
    for _ in 0..workers {
        let queue = Arc::clone(&queue);
        thread::spawn(move || {
            loop {
                // The lock is held only while taking a connection, not while serving it.
                let next = queue
                    .lock()
                    .map_err(|_| ())
                    .and_then(|q| q.recv().map_err(|_| ()));
                let Ok(stream) = next else { return };
                let _ = echo(stream);
            }
        });
    }
    for connection in listener.incoming() {
        let Ok(stream) = connection else { continue };
        match waiting.try_send(stream) {
            Ok(()) => {}
            Err(TrySendError::Full(mut stream)) => {
                let _ = stream.write_all(b"Busy, sorry.\n");
                course::close::gently(stream);
            }
            Err(TrySendError::Disconnected(_)) => anyhow::bail!("no workers left"),
        }
    }
    Ok(())
}

fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..count])?;
    }
}
