//! Known answers to exercise 09, wrong and right: the given `serve` once (proven word for word
//! the exercise's by `exercise_09_the_given_server_is_the_same_everywhere`), and each answer's
//! `answer_lines`, which is all a learner writes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use anyhow::Context;
use course::accept::AcceptFailures;

/// One way to answer a client's lines.
pub type AnswerLines = fn(TcpStream, SocketAddr) -> anyhow::Result<()>;

// ANCHOR: given
/// Answers every client that connects to `listener`, each on a thread of its own, until the
/// program is stopped.
pub fn serve(listener: TcpListener, answer_lines: AnswerLines) -> anyhow::Result<()> {
    // Such errors last (out of file descriptors, say): pause, retry, and log the spell, not
    // every try.
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        let stream = match connection {
            Ok(stream) => stream,
            Err(error) => {
                failures.pause_after(error);
                continue;
            }
        };
        failures.over();
        let Ok(peer) = stream.peer_addr() else {
            continue; // It left between accept and this call.
        };
        thread::spawn(move || {
            if let Err(error) = answer_lines(stream, peer) {
                eprintln!("{peer} disconnected abruptly: {error:#}");
            }
        });
    }
    Ok(())
}
// ANCHOR_END: given

/// Sends the answer to line `number`.
fn answer(stream: &mut TcpStream, number: usize, line: &[u8]) -> anyhow::Result<()> {
    let text = String::from_utf8_lossy(line);
    // A line's end is its `\n` and a `\r` just before it; everything else is its text.
    let text = match text.strip_suffix('\n') {
        Some(text) => text.strip_suffix('\r').unwrap_or(text),
        None => text.as_ref(),
    };
    stream
        .write_all(format!("line {number}: {text}\n").as_bytes())
        .context("answering")
}

/// Wrong: the exercise as shipped, lesson 09's naive server: one read taken for one line.
pub fn one_read_is_a_line(mut stream: TcpStream, peer: SocketAddr) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    for number in 1.. {
        let count = stream
            .read(&mut buffer)
            .with_context(|| format!("reading from {peer}"))?;
        if count == 0 {
            break;
        }
        answer(&mut stream, number, &buffer[..count])?;
    }
    Ok(())
}

/// Wrong: keeps a text buffer, but makes text of each read (`from_utf8_lossy` on half an `é`).
pub fn lossy_per_read(mut stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut pending = String::new();
    let mut buffer = [0; 1024];
    let mut number = 0;
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            break;
        }
        pending.push_str(&String::from_utf8_lossy(&buffer[..count]));
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            number += 1;
            answer(&mut stream, number, line.as_bytes())?;
        }
    }
    if !pending.is_empty() {
        answer(&mut stream, number + 1, pending.as_bytes())?;
    }
    Ok(())
}

/// Wrong: `BufRead::lines`, which fails on bytes that are not UTF-8 and ends the connection.
pub fn lines_as_text(stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut writer = stream.try_clone()?;
    for (index, line) in BufReader::new(stream).lines().enumerate() {
        answer(&mut writer, index + 1, line?.as_bytes())?;
    }
    Ok(())
}

/// Wrong: a line without its `\n` is dropped, the last one too.
pub fn drops_the_last_line(stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        reader.read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            break;
        }
        answer(&mut writer, number, &line)?;
    }
    Ok(())
}

/// Wrong: lines in a buffer of 4 KiB, and a full buffer taken for a line.
pub fn fixed_buffer(mut stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut buffer = vec![0; 4096];
    let mut filled = 0;
    let mut number = 0;
    loop {
        let count = stream.read(&mut buffer[filled..])?;
        if count == 0 {
            break;
        }
        filled += count;
        while let Some(end) = buffer[..filled].iter().position(|&byte| byte == b'\n') {
            number += 1;
            let line = buffer[..=end].to_vec();
            answer(&mut stream, number, &line)?;
            buffer.copy_within(end + 1..filled, 0);
            filled -= end + 1;
        }
        if filled == buffer.len() {
            number += 1;
            let line = buffer.clone();
            answer(&mut stream, number, &line)?;
            filled = 0;
        }
    }
    if filled > 0 {
        answer(&mut stream, number + 1, &buffer[..filled])?;
    }
    Ok(())
}

/// Wrong: one count for every client, not one per connection.
pub fn one_count_for_all(stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    static LINES: AtomicUsize = AtomicUsize::new(0);
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        answer(
            &mut writer,
            LINES.fetch_add(1, Ordering::Relaxed) + 1,
            &line,
        )?;
    }
}

/// Wrong: keeps the `\r` of a `\r\n` ending in the text.
pub fn keeps_the_carriage_return(stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        writer.write_all(format!("line {number}: {text}\n").as_bytes())?;
    }
    Ok(())
}

/// Wrong: trims every line, so spaces and tabs at its ends are lost.
pub fn trims(stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        writer.write_all(format!("line {number}: {}\n", text.trim()).as_bytes())?;
    }
    Ok(())
}

/// Wrong: takes off every `\r` at a line's end (`trim_end_matches`), where only the one just
/// before the `\n` belongs to the line's end.
pub fn trims_every_carriage_return(stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        writer.write_all(format!("line {number}: {text}\n").as_bytes())?;
    }
    Ok(())
}

/// Wrong: when the stream ends, answers what is left even when nothing is: a client whose last
/// line ended with its `\n` gets one more, empty, answer.
pub fn answers_an_empty_rest(stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        reader.read_until(b'\n', &mut line)?;
        let ended = !line.ends_with(b"\n");
        answer(&mut writer, number, &line)?;
        if ended {
            break;
        }
    }
    Ok(())
}

/// Wrong: waits for the whole stream before it answers anything.
pub fn reads_to_the_end(mut stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut all = Vec::new();
    stream.read_to_end(&mut all)?;
    for (index, line) in all.split_inclusive(|&byte| byte == b'\n').enumerate() {
        answer(&mut stream, index + 1, line)?;
    }
    Ok(())
}

/// Wrong: answers every whole line of each read, but throws away what follows the last `\n` (a
/// line's start that came in the same read as the end of the one before).
pub fn drops_what_follows_a_read_s_last_line(
    mut stream: TcpStream,
    _: SocketAddr,
) -> anyhow::Result<()> {
    let mut buffer = [0; 4096];
    let mut pending = Vec::new();
    let mut number = 0;
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            break;
        }
        pending.extend_from_slice(&buffer[..count]);
        let Some(last_end) = pending.iter().rposition(|&byte| byte == b'\n') else {
            continue;
        };
        let whole: Vec<u8> = pending.drain(..=last_end).collect();
        for line in whole.split_inclusive(|&byte| byte == b'\n') {
            number += 1;
            answer(&mut stream, number, line)?;
        }
        // The mistake: the start of the next line goes with the read.
        pending.clear();
    }
    if !pending.is_empty() {
        answer(&mut stream, number + 1, &pending)?;
    }
    Ok(())
}

/// Right, of another design: its own buffer of bytes, searched for `\n` after each read.
pub fn own_byte_buffer(mut stream: TcpStream, _: SocketAddr) -> anyhow::Result<()> {
    let mut pending = Vec::new();
    let mut buffer = [0; 512];
    let mut number = 0;
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            break;
        }
        pending.extend_from_slice(&buffer[..count]);
        while let Some(end) = pending.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            number += 1;
            answer(&mut stream, number, &line)?;
        }
    }
    if !pending.is_empty() {
        answer(&mut stream, number + 1, &pending)?;
    }
    Ok(())
}
