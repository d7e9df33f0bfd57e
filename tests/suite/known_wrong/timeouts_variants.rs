//! Known wrong, four ways, each a server that closes quiet clients with the goodbye, but:
//! - [`echoes_lines`] echoes whole lines of text (`read_line`): a piece with no newline waits,
//!   and a byte that is not UTF-8 ends the connection, where every byte should come back;
//! - [`echoes_byte_lines`] echoes whole lines of bytes (`read_until`): any byte goes, but a piece
//!   with no newline waits, and its client, waiting for the echo, falls silent;
//! - [`limit_doubled`] gives each read twice the limit, "for slack": the goodbye comes late;
//! - [`clock_from_newline`] restarts its idle clock only when a read brings a newline: a client
//!   that talks in pieces for longer than the limit is told goodbye mid-line;
//! - [`whole_seconds`] gives each read the limit in whole seconds: under a second that is zero,
//!   which `set_read_timeout` refuses, and the client is dropped at once;
//! - [`rounded_up`] rounds the limit up to whole seconds: under a second, the goodbye comes a
//!   second after the client fell silent.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

pub fn echoes_lines(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    serve(listener, idle, |stream, idle| {
        stream.set_read_timeout(Some(idle))?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        loop {
            line.clear();
            // The mistake: text, a line at a time.
            match reader.read_line(&mut line) {
                Ok(0) => return Ok(()),
                Ok(_) => writer.write_all(line.as_bytes())?,
                Err(error) if timed_out(&error) => return say_goodbye(&mut writer, idle),
                Err(error) => return Err(error),
            }
        }
    })
}

pub fn echoes_byte_lines(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    serve(listener, idle, |stream, idle| {
        stream.set_read_timeout(Some(idle))?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            // The mistake: a line at a time, bytes this time.
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => return Ok(()),
                Ok(_) => writer.write_all(&line)?,
                Err(error) if timed_out(&error) => return say_goodbye(&mut writer, idle),
                Err(error) => return Err(error),
            }
        }
    })
}

pub fn limit_doubled(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    // The mistake: more time than the limit.
    serve(listener, idle, |stream, idle| {
        read_with_limit(stream, idle, idle * 2)
    })
}

pub fn whole_seconds(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    // The mistake: the limit in whole seconds, the fraction dropped.
    serve(listener, idle, |stream, idle| {
        read_with_limit(stream, idle, Duration::from_secs(idle.as_secs()))
    })
}

pub fn rounded_up(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    // The mistake: the limit rounded up to whole seconds.
    serve(listener, idle, |stream, idle| {
        read_with_limit(
            stream,
            idle,
            Duration::from_secs(idle.as_secs_f64().ceil() as u64),
        )
    })
}

/// A right echo, but each read waits `limit`, which the mistakes above and `limit_doubled` make
/// other than `idle`.
fn read_with_limit(mut stream: TcpStream, idle: Duration, limit: Duration) -> std::io::Result<()> {
    stream.set_read_timeout(Some(limit))?;
    let mut buffer = [0; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(count) => stream.write_all(&buffer[..count])?,
            Err(error) if timed_out(&error) => return say_goodbye(&mut stream, idle),
            Err(error) => return Err(error),
        }
    }
}

pub fn clock_from_newline(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    serve(listener, idle, |mut stream, idle| {
        let mut last_line = Instant::now();
        let mut buffer = [0; 1024];
        loop {
            let left = idle.saturating_sub(last_line.elapsed());
            if left.is_zero() {
                return say_goodbye(&mut stream, idle);
            }
            stream.set_read_timeout(Some(left))?;
            match stream.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(count) => {
                    stream.write_all(&buffer[..count])?;
                    // The mistake: only a whole line counts as talk.
                    if buffer[..count].contains(&b'\n') {
                        last_line = Instant::now();
                    }
                }
                Err(error) if timed_out(&error) => {}
                Err(error) => return Err(error),
            }
        }
    })
}

fn serve(
    listener: TcpListener,
    idle: Duration,
    echo: fn(TcpStream, Duration) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    for stream in listener.incoming().flatten() {
        thread::spawn(move || echo(stream, idle));
    }
    Ok(())
}

fn timed_out(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn say_goodbye(stream: &mut TcpStream, idle: Duration) -> std::io::Result<()> {
    let goodbye = format!(
        "you sent nothing for {} s, so the server is closing this connection\n",
        idle.as_secs_f64()
    );
    stream.write_all(goodbye.as_bytes())
}
