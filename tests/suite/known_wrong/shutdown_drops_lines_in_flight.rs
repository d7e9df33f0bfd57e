//! Known wrong: once the shutdown has begun, a client hears the goodbye at its next turn, even
//! in the middle of a line.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{GOODBYE, RIGHT, Rules, Stop, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let at_a_turn = goodbye_at_once;
    serve_with(listener, shutdown, grace, Rules { at_a_turn, ..RIGHT })
}

fn goodbye_at_once(
    _line: &[u8],
    _reader: &BufReader<&TcpStream>,
    writer: &mut &TcpStream,
    stop: &Stop,
) -> std::io::Result<bool> {
    // The mistake: goodbye at once, even mid-line.
    if stop.deadline().is_some() {
        writer.write_all(GOODBYE.as_bytes())?;
        return Ok(true);
    }
    Ok(false)
}
