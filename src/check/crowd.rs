//! The two chat steps where many things happen at once: a crossfire of messages, and a flood
//! past clients that read nothing. Their transcripts say what was checked, not every line, so
//! they read the same whatever the timing.
//!
//! Both speak the chat's message format: a line `TEXT` from the client named `NAME` reaches the
//! others as `NAME: TEXT`.

use std::io::Write;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use super::peer::End;
use super::peer::{describe_error, show, show_short};
use super::script::{Run, Surprise, list};
use super::step::{Crossfire, Flood, Quitters};

/// How long the readers are given to show a probe line has reached them.
const PROBE_PATIENCE: Duration = Duration::from_millis(500);
/// The receive buffer the check asks for on a slow client's socket, in bytes. The system may
/// round it up; it only has to keep the pile of unread lines short.
const SLOW_CLIENTS_BUFFER: usize = 4 * 1024;
/// How many of the talker's lines go in one write. The listeners read them all before the next
/// batch, so they never fall behind by more than a sixteenth of a queue (4,096 lines): only the
/// slow clients, which read nothing, fill theirs.
const FLOOD_BATCH: usize = 256;
/// After this many 1 KB lines (30 MB) a slow client should long have been cut off: its queue
/// holds 4,096 lines, and the sockets' buffers a few megabytes more (measured on Linux with a
/// queue of 1,024: cut off after about 5,000 lines with the small buffer above, 13,000 without).
const FLOOD_GIVE_UP: usize = 30 * 1024;

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
                return Err(Surprise::new(
                    "A talker could not send its lines: the connection was closed.",
                    "The server closed a talker's connection in the middle of the crossfire.",
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
                    let line = format!(
                        "{first} and {other} receive them in different orders (from line {})",
                        at + 1
                    );
                    return Err(self.noted(line, crossfire.if_reordered));
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
                let line = format!("{talker} receives its own lines back");
                return Err(self.noted(line, crossfire.if_echoed));
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

    pub(super) fn quitters(&mut self, quitters: &Quitters) -> Result<(), Surprise> {
        let who: Vec<char> = quitters
            .quitters
            .iter()
            .map(|(client, _)| *client)
            .collect();
        let watchers = quitters.watchers;
        self.note(format!(
            "{} join one after the other, and each types \"/quit\" as soon as it is welcome",
            list(&who)
        ));
        for &(client, name) in quitters.quitters {
            self.connect(client)?;
            let joined = format!("* {name} joined");
            let expected = [
                (
                    client,
                    "* Welcome to the chat! What is your name?".to_string(),
                ),
                (client, format!("* Welcome, {name}!")),
            ];
            if let Err(error) = self
                .client(client)
                .stream
                .write_all(format!("{name}\n").as_bytes())
            {
                let line = format!("{client} cannot send its name: {}", describe_error(&error));
                return Err(self.noted(line, "Is your server still serving newcomers?"));
            }
            for (reader, line) in expected
                .into_iter()
                .chain(watchers.iter().map(|&watcher| (watcher, joined.clone())))
            {
                self.expect_line(reader, &line, "")?;
            }
            if let Err(error) = self.client(client).stream.write_all(b"/quit\n") {
                let line = format!("{client} cannot send \"/quit\": {}", describe_error(&error));
                return Err(self.noted(line, "Is your server still serving newcomers?"));
            }
            let goodbye = format!("* Goodbye, {name}!");
            self.expect_line(client, &goodbye, quitters.if_no_goodbye)?;
            match self
                .client(client)
                .read_some(std::time::Instant::now() + super::PATIENCE)
            {
                Err(End::Closed) => {}
                other => {
                    let what = match other {
                        Ok(bytes) => format!("receives {}", show_short(&bytes)),
                        Err(End::Failed(how)) => format!("sees {how}"),
                        _ => format!("sees nothing more within {} s", super::PATIENCE.as_secs()),
                    };
                    let line = format!("{client} {what} where the connection should close");
                    return Err(self.noted(
                        line,
                        "After /quit, `remove` takes the client out of the room: dropping its \
                         client drops its queue, and its writer closes the connection.",
                    ));
                }
            }
            let left = format!("* {name} left");
            for &watcher in watchers {
                self.expect_line(watcher, &left, "")?;
            }
        }
        self.note(format!(
            "each of them receives its goodbye, then the close, and {} {} each join and each leave",
            list(watchers),
            if watchers.len() == 1 { "hears" } else { "hear" },
        ));
        Ok(())
    }

    /// `client` must read the line `line` next (without its `\n`); otherwise the verdict says
    /// what came instead, then `likely`.
    fn expect_line(&mut self, client: char, line: &str, likely: &str) -> Result<(), Surprise> {
        match self.client(client).read_line() {
            Ok(text) if text == line => Ok(()),
            Ok(text) => {
                let what = format!(
                    "{client} receives {} where {} was due",
                    show_short(text.as_bytes()),
                    show(format!("{line}\n").as_bytes())
                );
                Err(self.noted(what, likely))
            }
            Err(end) => {
                let what = format!(
                    "{client} waits for {}, but {end}",
                    show(format!("{line}\n").as_bytes())
                );
                Err(self.noted(what, likely))
            }
        }
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
            match self.client(client).read_line() {
                Ok(line) => heard.push(line),
                Err(end) => {
                    let line = format!(
                        "{client} receives {} of the {count} lines, then {end}",
                        heard.len()
                    );
                    return Err(self.noted(line, if_lost));
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
            let line = format!("{client} never receives {}", show(missing.as_bytes()));
            return Err(self.noted(line, crossfire.if_lost));
        }
        if sorted != expected {
            let line = format!("{client} receives some lines twice, or lines nobody sent");
            return Err(self.noted(line, crossfire.if_lost));
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
                let line = format!(
                    "{client} receives {talker}'s lines in another order than {talker} sent them"
                );
                return Err(self.noted(line, crossfire.if_reordered));
            }
        }
        Ok(())
    }

    pub(super) fn flood(&mut self, flood: &Flood) -> Result<(), Surprise> {
        let (talker, name) = flood.talker;
        let slow: Vec<char> = flood.slow.iter().map(|(client, _)| *client).collect();
        let listeners = flood.listeners;
        self.note(format!(
            "{talker} sends 1 KB lines while {} {} nothing and {} {} everything",
            list(&slow),
            if slow.len() == 1 { "reads" } else { "read" },
            list(listeners),
            if listeners.len() == 1 {
                "reads"
            } else {
                "read"
            },
        ));
        let notices: Vec<String> = flood
            .slow
            .iter()
            .map(|(_, slow_name)| flood.cut_off_notice.replace("NAME", slow_name))
            .collect();
        // A slow client's lines pile up in its queue, then in the two sockets' buffers. Small
        // buffers on the client's side make that pile, and so the flood, short.
        for &client in &slow {
            let socket = socket2::SockRef::from(&self.client(client).stream);
            let _ = socket.set_recv_buffer_size(SLOW_CLIENTS_BUFFER);
        }
        let filler = "x".repeat(1000);
        let line = |number: usize| format!("{name}: {number} {filler}");
        let mut sent = 0;
        // For each listener: how many of the talker's lines it has heard, and which notices.
        let mut heard = vec![(0usize, vec![false; notices.len()]); listeners.len()];
        let all_cut_off = |heard: &[(usize, Vec<bool>)]| {
            heard.iter().all(|(_, noticed)| noticed.iter().all(|&n| n))
        };
        // Send a batch, then read each listener's copy of all of it, until every slow client is
        // cut off. So the listeners are never more than one batch behind: only the slow clients,
        // which read nothing, can fill a queue.
        while !all_cut_off(&heard) || heard.iter().any(|(count, _)| *count < sent) {
            if heard.iter().all(|(count, _)| *count == sent) {
                if sent >= FLOOD_GIVE_UP {
                    let still: Vec<char> = flood
                        .slow
                        .iter()
                        .zip(0..)
                        .filter(|(_, n)| heard.iter().any(|(_, noticed)| !noticed[*n]))
                        .map(|((client, _), _)| *client)
                        .collect();
                    let line = format!(
                        "the room is never told that {} {} cut off, after {FLOOD_GIVE_UP} lines \
                         {} did not read",
                        list(&still),
                        if still.len() == 1 { "was" } else { "were" },
                        if still.len() == 1 { "it" } else { "they" },
                    );
                    return Err(self.noted(line, flood.if_never_cut_off));
                }
                let batch: String = (sent..sent + FLOOD_BATCH)
                    .map(|number| format!("{number} {filler}\n"))
                    .collect();
                if let Err(error) = self.client(talker).stream.write_all(batch.as_bytes()) {
                    let line = format!("{talker} cannot send: {}", describe_error(&error));
                    return Err(self.noted(line, flood.if_stuck));
                }
                sent += FLOOD_BATCH;
            }
            for at in 0..listeners.len() {
                let listener = listeners[at];
                let (count, noticed) = &mut heard[at];
                if *count == sent {
                    // Caught up with the talker: only a notice can still be due. Ask once more
                    // after the next batch rather than wait here.
                    continue;
                }
                match self.client(listener).read_line() {
                    Ok(text) if text == line(*count) => *count += 1,
                    Ok(text) => {
                        if let Some(n) = notices.iter().position(|notice| *notice == text) {
                            if !noticed[n] {
                                noticed[n] = true;
                                continue;
                            }
                        }
                        let shown = show_short(text.as_bytes());
                        let what = format!(
                            "{listener} receives {shown} where {name}'s line {count} was due"
                        );
                        self.note(what.clone());
                        // A later line where an earlier one was due: lost, or only overtaken?
                        // If the due line still comes, it was overtaken.
                        let due = format!("{}\n", line(*count));
                        if later_line_of(name, &text)
                            && self
                                .client(listener)
                                .sees_within(due.as_bytes(), PROBE_PATIENCE)
                        {
                            self.note(format!(
                                "{listener} receives {name}'s line {count} after that"
                            ));
                            return Err(Surprise::new(
                                format!(
                                    "{}, and line {count} came after it: lines overtook each \
                                     other.",
                                    capitalised(&what)
                                ),
                                &format!(
                                    "While {name} was talking, a line of theirs reached \
                                     {listener} after a later one. Does every line go into every \
                                     queue from the broker's one thread, in the order the broker \
                                     handles events? (A thread per delivery lets lines overtake \
                                     each other.)"
                                ),
                            ));
                        }
                        return Err(unexpected_during_flood(flood, &notices, &text, &what));
                    }
                    Err(end) => {
                        let what = format!(
                            "{listener} receives {count} of {talker}'s lines, then {end} while \
                             {} {} nothing",
                            list(&slow),
                            if slow.len() == 1 { "reads" } else { "read" },
                        );
                        // A broker that waits for a full queue is stuck: nothing more goes
                        // anywhere. One that lost a line is still delivering. One more line from
                        // the talker tells them apart: does it reach anyone?
                        let probe = line(sent);
                        let still_delivering = self
                            .client(talker)
                            .stream
                            .write_all(format!("{sent} {filler}\n").as_bytes())
                            .is_ok()
                            && listeners.iter().any(|&reader| {
                                self.client(reader)
                                    .sees_within(probe.as_bytes(), PROBE_PATIENCE)
                            });
                        if still_delivering {
                            let lost = format!(
                                "The broker is still delivering (a line sent after it reached \
                                 another reader), so line {count} was lost on its way to \
                                 {listener}. Does the broadcast stop delivering a line when it \
                                 meets a full queue (a `break` or a `return`)? Every client but \
                                 the sender gets every line; a full queue only marks its own \
                                 client as too slow."
                            );
                            return Err(self.noted(what, &lost));
                        }
                        return Err(self.noted(what, flood.if_stuck));
                    }
                }
            }
        }
        self.note(format!(
            "{} {} every line, and along the way {}",
            list(listeners),
            if listeners.len() == 1 {
                "receives"
            } else {
                "receive"
            },
            notices
                .iter()
                .map(|notice| show(notice.as_bytes()))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
        for client in slow {
            self.clients.remove(&client);
        }
        // The talker hears the cut-offs too, in whichever order they happened.
        let mut unheard = notices.clone();
        while !unheard.is_empty() {
            match self.client(talker).read_line() {
                Ok(text) if unheard.contains(&text) => unheard.retain(|notice| *notice != text),
                Ok(text) => {
                    let what = format!(
                        "{talker} receives {} where {} was due",
                        show_short(text.as_bytes()),
                        show(unheard[0].as_bytes())
                    );
                    self.note(what.clone());
                    return Err(unexpected_during_flood(flood, &notices, &text, &what));
                }
                Err(end) => {
                    let what = format!(
                        "{talker} receives nothing more ({end}) where {} was due",
                        show(unheard[0].as_bytes())
                    );
                    return Err(self.noted(what, flood.if_never_cut_off));
                }
            }
        }
        self.note(format!(
            "{talker} receives the same {}",
            match notices.len() {
                1 => "notice",
                _ => "notices",
            }
        ));
        Ok(())
    }
}

/// What it likely means when a listener hears something else than the talker's next line.
fn unexpected_during_flood(flood: &Flood, notices: &[String], line: &str, what: &str) -> Surprise {
    let (_, name) = flood.talker;
    let first = capitalised(what);
    if line.starts_with("* ") || line.starts_with("! ") {
        return Surprise::new(
            format!("{first}."),
            &format!(
                "While {name} was talking and other clients read nothing, the room was told \
                 {line:?}, where the check expected {}: when you cut off a client because its \
                 queue is full, tell the room exactly that.",
                notices
                    .iter()
                    .map(|notice| format!("{notice:?}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        );
    }
    // A later line of the talker's, where an earlier one was due, and it did not come after: it
    // never came.
    if later_line_of(name, line) {
        return Surprise::new(
            format!("{first}: the line that was due never came."),
            &format!(
                "While {name} was talking and other clients read nothing, a line of theirs was \
                 lost on its way to someone who reads everything. Does the broadcast stop \
                 delivering a line when it meets a full queue (a `break` or a `return`)? Every \
                 client but the sender gets every line; a full queue only marks its own client \
                 as too slow."
            ),
        );
    }
    Surprise::new(
        format!("{first}."),
        &format!(
            "While {name} was talking, one of their lines arrived changed, or another line came \
             in between: every line must reach everyone else once, whole, in the order it was \
             sent."
        ),
    )
}

/// Whether `line` is one of `name`'s numbered lines (`NAME: N ...`), heard where an earlier one
/// was due.
fn later_line_of(name: &str, line: &str) -> bool {
    line.strip_prefix(&format!("{name}: "))
        .and_then(|rest| rest.split_once(' '))
        .is_some_and(|(number, _)| number.parse::<usize>().is_ok())
}

/// A transcript line as the first sentence of a verdict: `C receives...` → `Client C
/// receives...`, and `C and D receive...` → `Clients C and D receive...`.
pub(super) fn capitalised(line: &str) -> String {
    let mut chars = line.chars();
    match (chars.next(), chars.next()) {
        (Some(client), Some(' ' | ',')) if client.is_ascii_uppercase() => {
            let several = line
                .split_once(' ')
                .is_some_and(|(first, rest)| first.ends_with(',') || rest.starts_with("and "));
            format!("{} {line}", if several { "Clients" } else { "Client" })
        }
        _ => {
            let mut sentence = line.to_string();
            if let Some(first) = sentence.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            sentence
        }
    }
}

impl Run {
    /// Notes `line` in the transcript, and makes it the first sentence of the verdict.
    pub(super) fn noted(&mut self, line: String, likely: &str) -> Surprise {
        let first = capitalised(&line);
        self.note(line);
        Surprise::new(format!("{first}."), likely)
    }
}

/// The text of a talker's line number `number`, newline included.
fn line_text(name: &str, number: usize) -> String {
    format!("line {number} from {name}\n")
}

/// That line as everyone else hears it: `NAME: TEXT`, without the newline.
fn heard_as(name: &str, number: usize) -> String {
    format!("{name}: {}", line_text(name, number).trim_end())
}

#[cfg(test)]
mod tests {
    use super::capitalised;

    #[test]
    fn a_transcript_line_becomes_a_sentence_about_one_client_or_several() {
        assert_eq!(capitalised("C receives x"), "Client C receives x");
        assert_eq!(
            capitalised("C and D receive x"),
            "Clients C and D receive x"
        );
        assert_eq!(capitalised("F, G and H are x"), "Clients F, G and H are x");
        assert_eq!(capitalised("the room is told x"), "The room is told x");
    }
}
