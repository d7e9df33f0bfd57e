//! Known wrong: says goodbye when its line is empty, forgetting the start of the next line that
//! one read brought with the end of the last, still in the reader's buffer.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{CUT_OFF, GOODBYE, RIGHT, Rules, Stop, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let at_a_turn = looks_only_at_the_line;
    serve_with(listener, shutdown, grace, Rules { at_a_turn, ..RIGHT })
}

fn looks_only_at_the_line(
    line: &[u8],
    _reader: &BufReader<&TcpStream>,
    writer: &mut &TcpStream,
    stop: &Stop,
) -> std::io::Result<bool> {
    if let Some(deadline) = stop.deadline() {
        // The mistake: the reader's buffer may hold the start of the next line.
        if line.is_empty() {
            writer.write_all(GOODBYE.as_bytes())?;
            return Ok(true);
        }
        if Instant::now() >= deadline {
            writer.write_all(CUT_OFF.as_bytes())?;
            return Ok(true);
        }
    }
    Ok(false)
}
