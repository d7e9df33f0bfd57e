//! Known wrong: a thread per client, but every echo goes to the newest client, through one
//! shared "current connection" that each new client replaces. Write errors are ignored.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let newest: Arc<Mutex<Option<TcpStream>>> = Arc::default();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        *newest.lock().expect("not poisoned") = Some(stream.try_clone()?);
        let newest = Arc::clone(&newest);
        thread::spawn(move || {
            let _ = echo_to(stream, &newest);
        });
    }
    Ok(())
}

fn echo_to(mut stream: TcpStream, newest: &Mutex<Option<TcpStream>>) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            return Ok(());
        }
        if let Some(to) = newest.lock().expect("not poisoned").as_mut() {
            let _ = to.write_all(&buffer[..count]);
        }
    }
}
