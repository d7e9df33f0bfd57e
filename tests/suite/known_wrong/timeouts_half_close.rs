//! Known wrong: on a timeout, sends the goodbye and shuts down only its sending side, then waits
//! for the client to close. The client sees the end of the stream, but a client that never closes
//! holds the connection and its thread for ever: what the limit was meant to prevent.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

pub fn serve(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    for stream in listener.incoming().flatten() {
        thread::spawn(move || echo(stream, idle));
    }
    Ok(())
}

fn echo(mut stream: TcpStream, idle: Duration) -> std::io::Result<()> {
    stream.set_read_timeout(Some(idle))?;
    let mut buffer = [0; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(count) => stream.write_all(&buffer[..count])?,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let goodbye = format!(
                    "you sent nothing for {} s, so the server is closing this connection\n",
                    idle.as_secs_f64()
                );
                stream.write_all(goodbye.as_bytes())?;
                // The mistake: half a close, and a wait with no limit for the client's half.
                stream.shutdown(Shutdown::Write)?;
                stream.set_read_timeout(None)?;
                while stream.read(&mut buffer)? > 0 {}
                return Ok(());
            }
            Err(error) => return Err(error),
        }
    }
}
