//! The two chat steps where many things happen at once: a crossfire of messages, and a flood
//! past a client that reads nothing. Their transcripts say what was checked, not every line, so
//! they read the same whatever the timing.
//!
//! Both speak the chat's message format: a line `TEXT` from the client named `NAME` reaches the
//! others as `NAME: TEXT`.

use std::io::{Read, Write};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use super::script::{Client, PATIENCE, Run, Surprise, describe_error, is_timeout, show};

/// Several clients send many lines at the same moment. Every listener must receive every line,
/// each talker every other talker's lines (and never its own), and every listener in the same
/// order: the order in which the server took them.
#[derive(Debug)]
pub struct Crossfire {
    /// The clients that talk, with their chat names.
    pub talkers: &'static [(char, &'static str)],
    /// Clients that only listen. With two or more, the check compares their orders.
    pub listeners: &'static [char],
    /// How many lines each talker sends.
    pub lines_each: usize,
    /// What it likely means when a line never arrives.
    pub if_lost: &'static str,
    /// What it likely means when two listeners hear the lines in different orders.
    pub if_reordered: &'static str,
    /// What it likely means when a talker hears its own lines.
    pub if_echoed: &'static str,
}

/// One client (the talker) sends 1 KB lines, while another (the slow one) reads nothing and a
/// third (the listener) reads everything. The server must cut the slow one off and say so, and
/// the listener must receive every line without ever waiting long for the next.
#[derive(Debug)]
pub struct Flood {
    pub talker: (char, &'static str),
    pub slow: char,
    pub listener: char,
    /// The line the room must receive when the slow client is cut off.
    pub cut_off_notice: &'static str,
    /// What it likely means when the listener waits in vain while the slow client reads nothing.
    pub if_stuck: &'static str,
    /// What it likely means when the slow client is never cut off.
    pub if_never_cut_off: &'static str,
}

/// How many of the talker's lines go in one write. The listener reads them all before the next
/// batch, so it never falls behind: only the slow client, which reads nothing, fills a queue.
const FLOOD_BATCH: usize = 64;
/// After this many 1 KB lines (30 MB) the slow client should long have been cut off: its queue
/// holds 1,024 lines, and the system's socket buffers a few megabytes more.
const FLOOD_GIVE_UP: usize = 30_016;

impl Run {
    pub(super) fn crossfire(&mut self, crossfire: &Crossfire) -> Result<(), Surprise> {
        let talkers = crossfire.talkers;
        let each = crossfire.lines_each;
        let names: Vec<String> = talkers.iter().map(|(c, _)| c.to_string()).collect();
        self.note(format!(
            "{} each send {each} lines at the same moment",
            names.join(" and ")
        ));

        // Every talker writes from a thread of its own, all released at once.
        let start = Arc::new(Barrier::new(talkers.len()));
        let mut sending = Vec::new();
        for &(client, name) in talkers {
            let mut stream = self
                .client(client)
                .stream
                .try_clone()
                .expect("clone a connected stream");
            let start = Arc::clone(&start);
            sending.push(thread::spawn(move || {
                start.wait();
                (0..each)
                    .try_for_each(|number| stream.write_all(line_text(name, number).as_bytes()))
            }));
        }
        for sender in sending {
            if sender.join().map_or(true, |result| result.is_err()) {
                return Err(Surprise(
                    "A talker could not send: the server closed its connection.".to_string(),
                ));
            }
        }

        // Each listener hears every talker's lines: all of them, in one order for everyone.
        let everyone: usize = talkers.len() * each;
        let mut orders: Vec<(char, Vec<String>)> = Vec::new();
        for &listener in crossfire.listeners {
            let heard = self.hear_lines(listener, everyone, crossfire.if_lost)?;
            self.check_each_talker_in_order(listener, &heard, talkers, crossfire)?;
            self.note(format!("{listener} receives all {everyone} lines"));
            orders.push((listener, heard));
        }
        if let Some(((first, first_order), others)) = orders.split_first() {
            for (other, order) in others {
                if let Some(at) = first_order.iter().zip(order).position(|(a, b)| a != b) {
                    self.note(format!(
                        "{first} and {other} receive them in different orders (from line {})",
                        at + 1
                    ));
                    return Err(Surprise(crossfire.if_reordered.to_string()));
                }
            }
            let listeners: Vec<String> = orders.iter().map(|(c, _)| c.to_string()).collect();
            self.note(format!(
                "{} receive them in the same order",
                listeners.join(" and ")
            ));
        }

        // Each talker hears the others, and never itself.
        for &(talker, name) in talkers {
            let others: Vec<_> = talkers
                .iter()
                .filter(|(c, _)| *c != talker)
                .copied()
                .collect();
            let heard = self.hear_lines(talker, others.len() * each, crossfire.if_lost)?;
            if heard
                .iter()
                .any(|line| line.starts_with(&format!("{name}: ")))
            {
                self.note(format!("{talker} receives its own lines back"));
                return Err(Surprise(crossfire.if_echoed.to_string()));
            }
            self.check_each_talker_in_order(talker, &heard, &others, crossfire)?;
            let from: Vec<String> = others.iter().map(|(c, _)| c.to_string()).collect();
            self.note(format!(
                "{talker} receives all {} lines from {}",
                heard.len(),
                from.join(" and ")
            ));
        }
        Ok(())
    }

    /// Reads `count` lines for `client`, or says what happened instead.
    fn hear_lines(
        &mut self,
        client: char,
        count: usize,
        if_lost: &str,
    ) -> Result<Vec<String>, Surprise> {
        let mut heard = Vec::with_capacity(count);
        while heard.len() < count {
            match read_line(self.client(client)) {
                Ok(line) => heard.push(line),
                Err(end) => {
                    self.note(format!(
                        "{client} receives {} of the {count} lines, then {end}",
                        heard.len()
                    ));
                    return Err(Surprise(if_lost.to_string()));
                }
            }
        }
        Ok(heard)
    }

    /// Every talker's lines must all be there, each once (else `if_lost`), and in the order the
    /// talker sent them (else `if_reordered`).
    fn check_each_talker_in_order(
        &mut self,
        client: char,
        heard: &[String],
        talkers: &[(char, &str)],
        crossfire: &Crossfire,
    ) -> Result<(), Surprise> {
        let mut expected: Vec<String> = talkers
            .iter()
            .flat_map(|(_, name)| (0..crossfire.lines_each).map(move |n| heard_as(name, n)))
            .collect();
        let mut sorted = heard.to_vec();
        expected.sort();
        sorted.sort();
        if let Some(missing) = expected.iter().find(|line| !sorted.contains(line)) {
            self.note(format!(
                "{client} never receives {}",
                show(missing.as_bytes())
            ));
            return Err(Surprise(crossfire.if_lost.to_string()));
        }
        if sorted != expected {
            self.note(format!(
                "{client} receives some lines twice, or lines nobody sent"
            ));
            return Err(Surprise(crossfire.if_lost.to_string()));
        }
        for &(talker, name) in talkers {
            let from_talker: Vec<&String> = heard
                .iter()
                .filter(|line| line.starts_with(&format!("{name}: ")))
                .collect();
            let in_order = from_talker
                .iter()
                .enumerate()
                .all(|(n, line)| **line == heard_as(name, n));
            if !in_order {
                self.note(format!(
                    "{client} receives {talker}'s lines in another order than {talker} sent them"
                ));
                return Err(Surprise(crossfire.if_reordered.to_string()));
            }
        }
        Ok(())
    }

    pub(super) fn flood(&mut self, flood: &Flood) -> Result<(), Surprise> {
        let (talker, name) = flood.talker;
        let (slow, listener) = (flood.slow, flood.listener);
        self.note(format!(
            "{talker} sends 1 KB lines while {slow} reads nothing and {listener} reads everything"
        ));
        let filler = "x".repeat(1000);
        let line = |number: usize| format!("{name}: {number} {filler}");
        let (mut sent, mut received, mut cut_off) = (0, 0, false);
        // Send a batch, then read the listener's copy of all of it, until the slow client is
        // cut off. So the listener is never more than one batch behind: only the slow client,
        // which reads nothing, can fill a queue.
        while !cut_off || received < sent {
            if received == sent {
                if sent >= FLOOD_GIVE_UP {
                    self.note(format!(
                        "{slow} is still connected after {FLOOD_GIVE_UP} lines it did not read"
                    ));
                    return Err(Surprise(flood.if_never_cut_off.to_string()));
                }
                let batch: String = (sent..sent + FLOOD_BATCH)
                    .map(|number| format!("{number} {filler}\n"))
                    .collect();
                if let Err(error) = self.client(talker).stream.write_all(batch.as_bytes()) {
                    self.note(format!("{talker} cannot send: {}", describe_error(&error)));
                    return Err(Surprise(flood.if_stuck.to_string()));
                }
                sent += FLOOD_BATCH;
            }
            match read_line(self.client(listener)) {
                Ok(heard) if heard == flood.cut_off_notice && !cut_off => cut_off = true,
                Ok(heard) if heard == line(received) => received += 1,
                Ok(heard) => {
                    self.note(format!(
                        "{listener} receives {:.60} where line {received} was due",
                        show(heard.as_bytes())
                    ));
                    return Err(unexpected_during_flood(flood, &heard));
                }
                Err(end) => {
                    self.note(format!(
                        "{listener} receives {received} of {talker}'s lines, then {end} while \
                         {slow} reads nothing"
                    ));
                    return Err(Surprise(flood.if_stuck.to_string()));
                }
            }
        }
        self.note(format!(
            "{listener} receives every line, and {} along the way",
            show(flood.cut_off_notice.as_bytes())
        ));
        self.clients.remove(&slow);
        Ok(())
    }
}

/// What it likely means when the listener hears something else than the talker's next line.
fn unexpected_during_flood(flood: &Flood, line: &str) -> Surprise {
    let (_, name) = flood.talker;
    if line.starts_with("* ") || line.starts_with("! ") {
        return Surprise(format!(
            "While {name} was talking and one client read nothing, the room was told {:?}, \
             where the check expected {:?}: when you cut off a client because its queue is \
             full, tell the room exactly that.",
            line, flood.cut_off_notice
        ));
    }
    Surprise(format!(
        "While {name} was talking, one of their lines arrived out of order or changed, or \
         another line came in between ({:.40}...): every line must reach everyone else once, \
         whole, in the order it was sent.",
        line
    ))
}

/// The text of a talker's line number `number`, newline included.
fn line_text(name: &str, number: usize) -> String {
    format!("line {number} from {name}\n")
}

/// That line as everyone else hears it: `NAME: TEXT`, without the newline.
fn heard_as(name: &str, number: usize) -> String {
    format!("{name}: {}", line_text(name, number).trim_end())
}

/// The client's next line, without its newline, or why none came within [`PATIENCE`].
fn read_line(client: &mut Client) -> Result<String, String> {
    let line = next_line(client);
    let _ = client.stream.set_read_timeout(Some(PATIENCE));
    line
}

fn next_line(client: &mut Client) -> Result<String, String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(end) = client.early.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = client.early.drain(..=end).collect();
            return Ok(String::from_utf8_lossy(&line[..end]).into_owned());
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(format!("nothing more within {} s", PATIENCE.as_secs()));
        }
        let _ = client.stream.set_read_timeout(Some(remaining));
        let mut buffer = [0; 16 * 1024];
        match client.stream.read(&mut buffer) {
            Ok(0) => return Err("the connection closes".to_string()),
            Ok(count) => client.early.extend_from_slice(&buffer[..count]),
            Err(error) if is_timeout(&error) => {
                return Err(format!("nothing more within {} s", PATIENCE.as_secs()));
            }
            Err(error) => return Err(describe_error(&error)),
        }
    }
}
