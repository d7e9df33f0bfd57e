//! Known wrong: the goodbye comes between two lines, but the deadline is never enforced: a client
//! that never finishes its line keeps the server from ending.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use crate::check_proofs::shutdown_rules::{CUT_OFF, GOODBYE, RIGHT, Rules, Stop, serve_with};

pub fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration) -> anyhow::Result<()> {
    let at_a_turn = no_deadline;
    serve_with(listener, shutdown, grace, Rules { at_a_turn, ..RIGHT })
}

fn no_deadline(
    line: &[u8],
    reader: &BufReader<&TcpStream>,
    writer: &mut &TcpStream,
    stop: &Stop,
) -> std::io::Result<bool> {
    if let Some(deadline) = stop.deadline() {
        if line.is_empty() && reader.buffer().is_empty() {
            writer.write_all(GOODBYE.as_bytes())?;
            return Ok(true);
        }
        // The mistake: the deadline is never enforced.
        if Instant::now() >= deadline + Duration::from_secs(3600) {
            writer.write_all(CUT_OFF.as_bytes())?;
            return Ok(true);
        }
    }
    Ok(false)
}
