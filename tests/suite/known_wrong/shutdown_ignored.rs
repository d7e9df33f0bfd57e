//! Known wrong: exercise 08 as shipped, serving as if no shutdown existed.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use crossbeam_channel::Receiver;

pub fn serve(
    listener: TcpListener,
    _shutdown: Receiver<()>,
    _grace: Duration,
) -> anyhow::Result<()> {
    for stream in listener.incoming().flatten() {
        thread::spawn(move || {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if line.ends_with('\n') {
                    let _ = (&stream).write_all(line.as_bytes());
                    line.clear();
                }
            }
        });
    }
    Ok(())
}
