//! From what arrived to what it likely means.
//!
//! A verdict starts with a fact: what the client received, against what it expected. Only then
//! does it guess at the mistake, and the guess is read off what arrived (other letters' case, a
//! lost `\r`, replacement characters, the reply at another client's door) before it falls back
//! on what the step itself suspects.

use super::peer::{End, contains, show_short};
use super::step::PATIENCE;

/// What one client got where the script expected something else.
pub(super) struct Arrival<'a> {
    pub client: char,
    pub expected: &'a [u8],
    pub received: &'a [u8],
    /// How the reading ended, if not with a complete (if wrong) reply.
    pub end: Option<End>,
    /// Other clients that had bytes waiting meanwhile, and those bytes.
    pub elsewhere: &'a [(char, Vec<u8>)],
    /// Everything this client has sent so far.
    pub sent_by_self: &'a [u8],
    /// Everything each other client has sent so far.
    pub sent_by_others: &'a [(char, Vec<u8>)],
}

impl Arrival<'_> {
    /// One sentence: what arrived, where what was expected.
    pub fn what_arrived(&self, shown: impl Fn(&[u8]) -> String) -> String {
        let client = self.client;
        let expected = shown(self.expected);
        let received = shown(self.received);
        let sentence = match (&self.end, self.received.is_empty()) {
            (None, _) => {
                format!("Client {client} received {received} where {expected} was expected")
            }
            (Some(End::Timeout), true) => format!(
                "Client {client} received nothing within {} s, where {expected} was expected",
                PATIENCE.as_secs()
            ),
            (Some(End::Closed), true) => format!(
                "Client {client}'s connection was closed by the server before anything arrived, \
                 where {expected} was expected"
            ),
            (Some(End::Failed(how)), true) => format!(
                "Client {client} received nothing before {how}, where {expected} was expected"
            ),
            (Some(end), false) => format!(
                "Client {client} received {received}, then {}, where {expected} was expected",
                end.after_something()
            ),
        };
        let difference = self.first_difference();
        if self.expected.len().max(self.received.len()) > 100 && !self.received.is_empty() {
            format!("{sentence} (they differ from byte {difference} on).")
        } else {
            format!("{sentence}.")
        }
    }

    fn first_difference(&self) -> usize {
        self.received
            .iter()
            .zip(self.expected)
            .take_while(|(got, want)| got == want)
            .count()
    }

    /// What the arrival itself suggests, if it suggests anything.
    pub fn likely_mistake(&self) -> Option<String> {
        let (expected, received) = (self.expected, self.received);
        // Only a reply to what this client itself sent (an echo) belongs to it alone; a line
        // for the whole room may well be waiting at the others too.
        let a_reply_of_its_own = !expected.is_empty() && contains(self.sent_by_self, expected);
        for (other, bytes) in self.elsewhere {
            if a_reply_of_its_own && !bytes.is_empty() && contains(bytes, expected) {
                return Some(format!(
                    "Meanwhile client {other} received {}: the reply meant for client {} went to \
                     another client. Does each client's thread write to that client's own \
                     stream?",
                    show_short(bytes),
                    self.client
                ));
            }
        }
        if !received.is_empty() {
            for (other, sent) in self.sent_by_others {
                if contains(sent, received) && !contains(expected, received) {
                    return Some(format!(
                        "That is what client {other} sent: a reply went to the wrong client. Does \
                         each client's thread write to that client's own stream?"
                    ));
                }
            }
        }
        if received.len() == expected.len()
            && received != expected
            && received.eq_ignore_ascii_case(expected)
        {
            return Some(
                "The same letters came back in another case: the bytes were changed on the way. \
                 Send back exactly the bytes you read."
                    .to_string(),
            );
        }
        if contains(received, "\u{fffd}".as_bytes()) && !contains(expected, "\u{fffd}".as_bytes()) {
            return Some(
                "Bytes that are not UTF-8 came back as \"\\xef\\xbf\\xbd\", the replacement \
                 character U+FFFD: the bytes were turned into text (String::from_utf8_lossy) on \
                 the way. A connection carries bytes, not text: send back the bytes themselves."
                    .to_string(),
            );
        }
        let without_cr: Vec<u8> = expected.iter().copied().filter(|&b| b != b'\r').collect();
        // Compared as far as the reply got: the line endings may go first, before the rest goes wrong.
        let lost_cr = !received.contains(&b'\r')
            && received.contains(&b'\n')
            && without_cr.starts_with(received)
            && expected[..expected.len().min(received.len() + 1)].contains(&b'\r');
        if lost_cr {
            return Some(
                "The \"\\r\" of a \"\\r\\n\" line ending was lost: was the line read as text and \
                 written back with a \"\\n\" of your own (lines(), trim())? Send back exactly \
                 the bytes you read."
                    .to_string(),
            );
        }
        if received.len() == expected.len() + 1
            && received.ends_with(b"\n")
            && received.starts_with(expected)
        {
            return Some(
                "A newline was added: the client sent its last bytes without one, and got them \
                 back with one. Send back exactly the bytes you read."
                    .to_string(),
            );
        }
        // Reads taken as lines tend to be trimmed too: compare without any white space.
        let text = |bytes: &[u8]| -> Vec<u8> {
            let mut text = bytes.to_vec();
            text.retain(|b| !b.is_ascii_whitespace());
            text
        };
        let newlines = |bytes: &[u8]| bytes.iter().filter(|&&b| b == b'\n').count();
        let (received_text, expected_text) = (text(received), text(expected));
        if newlines(received) > newlines(expected)
            && (received_text.starts_with(&expected_text)
                || expected_text.starts_with(&received_text))
        {
            return Some(
                "Newlines appeared where the bytes had come in pieces: does your server treat one \
                 read() as one whole message, and add a newline to each? TCP is a stream of \
                 bytes; a read returns whatever has arrived, maybe a piece of a line. Send back \
                 exactly the bytes you read."
                    .to_string(),
            );
        }
        if !received.is_empty() && received != expected && same_lines(received, expected) {
            return Some(
                "The right lines arrived, but in another order: lines must arrive in the order \
                 they were sent."
                    .to_string(),
            );
        }
        // Only the start of an echo of its own, then the close: the server read once and
        // stopped, however the client's bytes were cut on their way.
        if a_reply_of_its_own
            && !received.is_empty()
            && received.len() < expected.len()
            && expected.starts_with(received)
            && self.end == Some(End::Closed)
        {
            return Some(
                "Only the first part came back before the server closed the connection: does \
                 your server stop serving a client after its first message (its first read)? \
                 A read returns whatever has arrived, perhaps part of a line: keep reading until \
                 read() returns 0."
                    .to_string(),
            );
        }
        // Only the start of the reply, and then nothing or the end: the first sentence says
        // so, and the step knows best what that means there.
        None
    }
}

/// Whether the two hold the same lines, in any order.
fn same_lines(a: &[u8], b: &[u8]) -> bool {
    let sorted = |bytes: &[u8]| {
        let mut lines: Vec<Vec<u8>> = bytes
            .split_inclusive(|&byte| byte == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        lines.sort();
        lines
    };
    a.contains(&b'\n') && sorted(a) == sorted(b)
}

#[cfg(test)]
mod tests {
    use super::{Arrival, End};
    use crate::check::peer::show;

    fn arrival<'a>(expected: &'a [u8], received: &'a [u8], end: Option<End>) -> Arrival<'a> {
        Arrival {
            client: 'D',
            expected,
            received,
            end,
            elsewhere: &[],
            sent_by_self: b"",
            sent_by_others: &[],
        }
    }

    #[test]
    fn the_first_sentence_says_what_arrived() {
        let upper = arrival(b"hello from D\n", b"HELLO FROM D\n", None);
        assert_eq!(
            upper.what_arrived(show),
            "Client D received \"HELLO FROM D\\n\" where \"hello from D\\n\" was expected."
        );
        assert!(upper.likely_mistake().unwrap().contains("another case"));

        let nothing = arrival(b"hi\n", b"", Some(End::Timeout));
        assert_eq!(
            nothing.what_arrived(show),
            "Client D received nothing within 2 s, where \"hi\\n\" was expected."
        );
        assert_eq!(nothing.likely_mistake(), None);
    }

    #[test]
    fn the_guess_is_read_off_what_arrived() {
        let guess = |expected: &[u8], received: &[u8], end| {
            arrival(expected, received, end).likely_mistake().unwrap()
        };
        assert!(guess(b"a\r\n", b"a\n", None).contains("\\r"));
        assert!(guess(b"caf\xe9\n", "caf\u{fffd}\n".as_bytes(), None).contains("U+FFFD"));
        assert!(guess(b"one\ntwo\n", b"two\none\n", None).contains("another order"));
        assert!(guess(b"last", b"last\n", None).contains("newline was added"));
        assert!(guess(b"two lines\n", b"tw\no li\nnes\n", None).contains("one whole message"));
        let cut_short = arrival(b"0123456789", b"0123", Some(End::Closed));
        assert_eq!(
            cut_short.likely_mistake(),
            None,
            "the step's own guess is better"
        );

        let elsewhere = [('C', b"hello from D\n".to_vec())];
        let misdelivered = Arrival {
            elsewhere: &elsewhere,
            sent_by_self: b"hello from D\n",
            ..arrival(b"hello from D\n", b"", Some(End::Timeout))
        };
        assert!(
            misdelivered
                .likely_mistake()
                .unwrap()
                .contains("client C received")
        );
    }
}
