//! Telnet's commands, taken out of a client's bytes before they are cut into lines.
//!
//! `telnet` is a fine chat client, because by default it sends what you type a line at a time,
//! ending each line with `\r\n`. But it speaks a protocol of its own alongside your text
//! (RFC 854, <https://www.rfc-editor.org/rfc/rfc854>): a byte 255, called IAC ("interpret as
//! command"), starts a command that is not text. Switch it to character mode (Ctrl-] then
//! `mode character`) and it sends `IAC DO SUPPRESS-GO-AHEAD IAC DO ECHO` (bytes `ff fd 03 ff fd
//! 01`) before your next line, and ends each line with `\r` and a NUL byte; a client that
//! negotiates its window size sends it as a subnegotiation, `IAC SB NAWS … IAC SE` (RFC 855,
//! <https://www.rfc-editor.org/rfc/rfc855>, and RFC 1073). Left in, those bytes turn a name into
//! "not UTF-8 text", and a line ended by `\r` NUL never ends at all.
//!
//! [`TelnetFilter`] removes the commands and turns `\r` NUL into `\r\n`. It answers nothing, and
//! telnet stays in its usual line mode, which is what a chat wants. (Switched to character mode,
//! Linux's telnet takes the silence for a yes and stops echoing what the user types.) A client that never sends byte 255 (nc, the course's own client,
//! any program that sends UTF-8 text, where 255 can never appear) loses nothing.

/// Where the filter is within Telnet's syntax. It keeps this between two reads, because a
/// command can arrive cut in two, like anything else sent over TCP.
#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// Ordinary bytes.
    Text,
    /// Just after a `\r`. RFC 854 makes CR NUL a carriage return on its own; telnet's character
    /// mode sends it for the Enter key, so here a NUL after `\r` ends the line.
    AfterCr,
    /// Just after IAC.
    Command,
    /// After IAC WILL, WONT, DO or DONT: the next byte names the option.
    Option,
    /// Inside IAC SB … IAC SE, having skipped this many bytes of it.
    Subnegotiation(usize),
    /// After an IAC inside a subnegotiation.
    SubnegotiationCommand(usize),
}

/// Interpret As Command: the byte that starts every Telnet command.
const IAC: u8 = 255;
/// The commands that take an option byte after them: WILL (251), WONT (252), DO (253), DONT (254).
const WILL_TO_DONT: std::ops::RangeInclusive<u8> = 251..=254;
/// Subnegotiation begins (SB) and ends (SE).
const SB: u8 = 250;
const SE: u8 = 240;
/// The most bytes skipped after `IAC SB` (an IAC that is the last of them still starts a command,
/// `IAC SE` or another). Real subnegotiations are a few bytes (a window size is four); a client
/// that starts one and never ends it gets its bytes back after this many, read as text is (a 255
/// still starts a command), instead of losing everything it sends from then on.
const MAX_SUBNEGOTIATION: usize = 1024;

/// Takes Telnet's commands out of a stream of bytes. Feed it each piece as it arrives.
#[derive(Debug)]
pub struct TelnetFilter {
    state: State,
}

impl Default for TelnetFilter {
    fn default() -> Self {
        TelnetFilter { state: State::Text }
    }
}

impl TelnetFilter {
    pub fn new() -> TelnetFilter {
        TelnetFilter::default()
    }

    /// Filters `bytes` where they lie, and returns how many of them are text: the first that
    /// many bytes of `bytes` are the result. (The result is never longer than the input: each
    /// command shrinks to nothing, `IAC IAC` to one byte 255, and `\r` NUL to `\r\n`.)
    pub fn filter_in_place(&mut self, bytes: &mut [u8]) -> usize {
        let mut kept = 0;
        for index in 0..bytes.len() {
            let byte = bytes[index];
            let (next, output) = step(self.state, byte);
            self.state = next;
            if let Some(output) = output {
                bytes[kept] = output;
                kept += 1;
            }
        }
        kept
    }
}

/// The next state, and the byte to keep (if any), for one byte of input in `state`.
fn step(state: State, byte: u8) -> (State, Option<u8>) {
    match state {
        State::Text | State::AfterCr => match byte {
            IAC => (State::Command, None),
            // Enter, in telnet's character mode; the line reader ends lines at `\n`.
            0 if state == State::AfterCr => (State::Text, Some(b'\n')),
            b'\r' => (State::AfterCr, Some(b'\r')),
            _ => (State::Text, Some(byte)),
        },
        State::Command => match byte {
            // IAC IAC is the byte 255 itself, sent as data.
            IAC => (State::Text, Some(IAC)),
            SB => (State::Subnegotiation(0), None),
            _ if WILL_TO_DONT.contains(&byte) => (State::Option, None),
            // Every other command (NOP, Go Ahead, Are You There, ...) is two bytes long.
            _ => (State::Text, None),
        },
        State::Option => (State::Text, None),
        // The longest subnegotiation is over: the byte is read as text is, so a 255 here
        // still starts a command.
        State::Subnegotiation(skipped) if skipped >= MAX_SUBNEGOTIATION => step(State::Text, byte),
        State::Subnegotiation(skipped) => match byte {
            IAC => (State::SubnegotiationCommand(skipped + 1), None),
            _ => (State::Subnegotiation(skipped + 1), None),
        },
        State::SubnegotiationCommand(skipped) => match byte {
            SE => (State::Text, None),
            // The IAC was the last byte the subnegotiation could take: it starts a command
            // as in text, and takes this byte with it.
            _ if skipped >= MAX_SUBNEGOTIATION => step(State::Command, byte),
            // IAC IAC inside a subnegotiation is a 255 of its data; anything else is not
            // Telnet, and is skipped with it.
            _ => (State::Subnegotiation(skipped + 1), None),
        },
    }
}

/// A reader that hands on what `input` sends, with Telnet's commands taken out.
pub struct TelnetReader<R> {
    input: R,
    filter: TelnetFilter,
}

impl<R> TelnetReader<R> {
    pub fn new(input: R) -> TelnetReader<R> {
        TelnetReader {
            input,
            filter: TelnetFilter::new(),
        }
    }
}

impl<R: std::io::Read> std::io::Read for TelnetReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let received = self.input.read(buffer)?;
            if received == 0 {
                return Ok(0); // the end of the stream
            }
            let text = self.filter.filter_in_place(&mut buffer[..received]);
            // A read that held only commands gave no text; returning 0 would say the stream had
            // ended, so read again.
            if text > 0 {
                return Ok(text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered(pieces: &[&[u8]]) -> Vec<u8> {
        let mut filter = TelnetFilter::new();
        let mut all = Vec::new();
        for piece in pieces {
            let mut piece = piece.to_vec();
            let kept = filter.filter_in_place(&mut piece);
            all.extend_from_slice(&piece[..kept]);
        }
        all
    }

    #[test]
    fn text_without_commands_is_untouched() {
        let text = "dave\r\nhéllo\n\r\tx".as_bytes();
        assert_eq!(filtered(&[text]), text);
    }

    #[test]
    fn what_linux_telnet_sends_in_character_mode_becomes_lines() {
        // Captured from inetutils telnet 2.4: `dave` Enter, then Ctrl-] `mode character`, then
        // `hi` Enter and `yo` Enter.
        let sent = b"dave\r\n\xff\xfd\x03\xff\xfd\x01hi\r\x00yo\r\x00";
        assert_eq!(filtered(&[sent]), b"dave\r\nhi\r\nyo\r\n");
    }

    #[test]
    fn negotiation_and_a_window_size_are_removed_wherever_they_are_cut() {
        // IAC WILL NAWS, IAC WILL TTYPE, IAC SB NAWS 0 80 0 24 IAC SE, then a name.
        let sent: &[u8] = b"\xff\xfb\x1f\xff\xfb\x18\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0dave\r\n";
        for cut in 0..=sent.len() {
            assert_eq!(
                filtered(&[&sent[..cut], &sent[cut..]]),
                b"dave\r\n",
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_escaped_255_is_kept_and_other_commands_dropped() {
        // IAC IAC is a data byte 255; IAC NOP and IAC AYT are commands of two bytes.
        assert_eq!(filtered(&[b"a\xff\xffb\xff\xf1c\xff\xf6d"]), b"a\xffbcd");
    }

    #[test]
    fn a_subnegotiation_that_never_ends_gives_the_text_back() {
        let mut sent = b"\xff\xfa".to_vec();
        sent.extend(std::iter::repeat_n(b'x', MAX_SUBNEGOTIATION));
        sent.extend_from_slice(b"hello\n");
        assert_eq!(filtered(&[&sent]), b"hello\n");
    }

    /// Where the subnegotiation's limit falls just before, on, or just after a lone 255, that
    /// 255 still takes the byte after it, and nothing past the limit is lost.
    #[test]
    fn a_255_at_the_limit_of_a_subnegotiation_still_starts_a_command() {
        for filler in [
            MAX_SUBNEGOTIATION - 2,
            MAX_SUBNEGOTIATION - 1,
            MAX_SUBNEGOTIATION,
        ] {
            let mut sent = b"\xff\xfa".to_vec();
            sent.extend(std::iter::repeat_n(b'x', filler));
            sent.extend_from_slice(b"\xffabc\n");
            assert_eq!(filtered(&[&sent]), b"bc\n", "{filler} bytes before the 255");
        }
        // At the limit, IAC SE still ends it, and IAC IAC is a byte 255 of text.
        for (end, wanted) in [
            (&b"\xff\xf0hi\n"[..], &b"hi\n"[..]),
            (b"\xff\xffhi\n", b"\xffhi\n"),
        ] {
            let mut sent = b"\xff\xfa".to_vec();
            sent.extend(std::iter::repeat_n(b'x', MAX_SUBNEGOTIATION - 1));
            sent.extend_from_slice(end);
            assert_eq!(filtered(&[&sent]), wanted, "{end:?}");
        }
    }

    #[test]
    fn a_read_of_only_commands_is_not_the_end_of_the_stream() {
        use std::io::Read;
        let sent: &[u8] = b"\xff\xfd\x03";
        let rest: &[u8] = b"hi\n";
        let mut reader = TelnetReader::new(sent.chain(rest));
        let mut all = Vec::new();
        reader.read_to_end(&mut all).expect("reading from memory");
        assert_eq!(all, b"hi\n");
    }
}
