//! Exercise 07 done wrong, in a way only the thread count sees: the limits are right, but every
//! accepted connection gets a thread of its own, which waits for one of `workers` slots. Clients
//! see a pool; the system sees a thread per client again.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

pub fn serve(listener: TcpListener, workers: usize, max_waiting: usize) -> anyhow::Result<()> {
    // Sending takes a slot (at most `workers` at a time); receiving gives one back.
    let (take_slot, give_back) = crossbeam_channel::bounded::<()>(workers);
    let connected = Arc::new(AtomicUsize::new(0));
    for connection in listener.incoming() {
        let Ok(mut stream) = connection else { continue };
        if connected.load(Ordering::SeqCst) >= workers + max_waiting {
            let _ = stream.write_all(b"Sorry, the server is busy.\n");
            course::close::gently(stream);
            continue;
        }
        connected.fetch_add(1, Ordering::SeqCst);
        let (take_slot, give_back, connected) =
            (take_slot.clone(), give_back.clone(), Arc::clone(&connected));
        thread::spawn(move || {
            let _ = take_slot.send(());
            let _ = echo(stream);
            let _ = give_back.recv();
            connected.fetch_sub(1, Ordering::SeqCst);
        });
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
