//! Known wrong: closes silent clients as the task asks, but takes every read error for the limit
//! running out: a client that breaks its connection with a reset gets a goodbye it cannot read,
//! and the given `serve_client` logs it as `disconnected`, as if it had left or gone quiet.
//! That log is the check's evidence, so `serve_client` is the given one word for word
//! (`exercise_06_the_given_serve_client_is_the_same_everywhere` in tests/suite/check_proofs.rs).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

pub fn serve(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    for stream in listener.incoming().flatten() {
        thread::spawn(move || serve_client(stream, idle));
    }
    Ok(())
}

/// Runs on the client's own thread: echoes, and logs how the client left.
fn serve_client(stream: TcpStream, idle: Duration) {
    let peer = match stream.peer_addr() {
        Ok(peer) => peer.to_string(),
        Err(_) => "a client".to_string(),
    };
    match echo(stream, idle) {
        Ok(()) => println!("{peer} disconnected"),
        Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
    }
}

fn echo(mut stream: TcpStream, idle: Duration) -> anyhow::Result<()> {
    stream.set_read_timeout(Some(idle))?;
    let mut buffer = [0; 1024];
    loop {
        let count = match stream.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(count) => count,
            // The mistake: any error, not only WouldBlock or TimedOut.
            Err(_) => {
                let _ = stream.write_all(
                    b"you sent nothing for 1 s, so the server is closing this connection\n",
                );
                return Ok(());
            }
        };
        stream.write_all(&buffer[..count])?;
    }
}
