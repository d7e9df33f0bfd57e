//! Known wrong: gives each client `idle` in all, counted from when it connected, so a client
//! that keeps talking is cut off too.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

pub fn serve(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    for stream in listener.incoming().flatten() {
        thread::spawn(move || echo(stream, idle));
    }
    Ok(())
}

fn goodbye(idle: Duration) -> String {
    format!(
        "you sent nothing for {} s, so the server is closing this connection\n",
        idle.as_secs_f64()
    )
}

fn echo(mut stream: TcpStream, idle: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + idle;
    let mut buffer = [0; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            stream.write_all(goodbye(idle).as_bytes())?;
            return Ok(());
        }
        stream.set_read_timeout(Some(left))?;
        let count = match stream.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(count) => count,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        stream.write_all(&buffer[..count])?;
    }
}
