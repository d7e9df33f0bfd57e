//! Known wrong: a client's thread reads with `read_until`, which reads on until the `\n` and
//! returns early only after a whole TURN of silence. A client that sends its line a byte at a
//! time and never ends it keeps the thread inside `read_until`: the deadline is never looked
//! at, and the shutdown waits for it. (The course's own servers read so, once.)

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::check_proofs::shutdown_rules::{CUT_OFF, GOODBYE};

const TURN: Duration = Duration::from_millis(50);

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let deadline = Arc::new(OnceLock::new());
    let mut clients: Vec<JoinHandle<()>> = Vec::new();
    loop {
        if let Ok((stream, _)) = listener.accept() {
            stream.set_nonblocking(false)?;
            stream.set_read_timeout(Some(TURN))?;
            let deadline = Arc::clone(&deadline);
            clients.push(thread::spawn(move || {
                let _ = echo_lines(&stream, &deadline);
            }));
            continue;
        }
        match shutdown.recv_timeout(TURN) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    drop(listener);
    let _ = deadline.set(Instant::now() + grace);
    for client in clients {
        let _ = client.join();
    }
    Ok(())
}

fn echo_lines(stream: &TcpStream, deadline: &OnceLock<Instant>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut writer = stream;
    let mut line = Vec::new();
    loop {
        // The mistake: read_until, which returns only at a line's end or after a silent TURN.
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) if line.ends_with(b"\n") => {
                writer.write_all(&line)?;
                line.clear();
            }
            Ok(_) => {}
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(error) => return Err(error),
        }
        if let Some(deadline) = deadline.get() {
            if line.is_empty() && reader.buffer().is_empty() {
                return writer.write_all(GOODBYE.as_bytes());
            }
            if Instant::now() >= *deadline {
                return writer.write_all(CUT_OFF.as_bytes());
            }
        }
    }
}
