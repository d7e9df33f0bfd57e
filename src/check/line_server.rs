//! The check for exercise 09: a line server that answers lines, not reads.
//!
//! The server answers each line a client sends with `line N: TEXT\n`, numbering each client's
//! lines from 1. The classic mistake takes one read to be one line; on loopback each write of a
//! client usually arrives as one read, so it seems to work. The check makes the network's cuts
//! and merges certain: each of its first steps is one write, or pieces written apart (with a
//! pause that lets the server read each piece on its own), never left to chance. So the same
//! answer gets the same verdict on every run. Only the last of A's steps goes through the
//! harness's seeded shaper (see [`super::shaper`]), as every check's writes do.
//!
//! # The input space, and what covers it
//!
//! - Who connects: A, then B while A is still connected (each numbers its lines from 1: a
//!   counter shared by all clients fails), then C, and P. Over IPv4 loopback; IPv6: not covered
//!   (the program is started on `127.0.0.1:0`).
//! - How the bytes are cut and merged: one line in one write (A's first); two lines in one write
//!   (A's second: one read holds both); a line in three pieces (A's third); a two-byte `é` cut
//!   between two writes (A's fourth: a server that makes text of each read shows `��`); a line
//!   of 100 KiB in one write, past 1 KiB, 4 KiB and 64 KiB (a fixed buffer cuts it); and lines
//!   cut and run together by the shaper.
//! - What they send: text, `\r\n` endings and an empty line (A's fifth: the `\r` is not text,
//!   the empty line is answered), spaces and a tab at a line's ends, and a `\r` in the middle
//!   of a line (Q: only the line's end is taken away), bytes that are not UTF-8 (A's sixth: shown as `�`, the
//!   connection goes on; `read_line` and `lines()` fail on them).
//! - A line and the start of the next in one read, the rest in the next read (D: what follows a
//!   `\n` in a read is kept).
//! - When and how clients leave: C sends a line and half of another, then vanishes without
//!   reading (its connection is reset mid-line): B is served after it. P sends its last words
//!   without a newline and half-closes: it must get them answered, then the close. Q ends its
//!   last line with its newline and half-closes: it must get only its lines' answers, then the
//!   close (an empty last line is not a line). A reset
//!   before the first byte, and before `accept`: not covered.
//! - What fails in the APIs: a read that fails (C's reset) ends only that client; the check
//!   names a server that returns, exits, panics or aborts.
//! - Promptly: every answer within `PATIENCE` (2 s).

use super::{Advice, Exercise, NOTHING_ARRIVED, Script, Step};

pub const EXERCISE: Exercise = Exercise {
    id: "09_line_server",
    title: "the line server that answers lines, not reads",
    chapter: "book/src/09-chaos-proxy.md",
};

/// How long A's long line is: past the usual buffer sizes (1 KiB, 4 KiB, 8 KiB, 64 KiB).
const LONG: usize = 100 * 1024;
/// `line 9: ` before the long line's text in the answer.
const LONG_PREFIX: &[u8] = b"line 9: ";

/// A's long line, newline included: letters that count through the alphabet, so that a
/// difference says where it is.
static LONG_LINE: [u8; LONG + 1] = long_line();
/// The answer to it.
static LONG_ANSWER: [u8; LONG_PREFIX.len() + LONG + 1] = long_answer();
/// The long line as the one piece a step sends. A static of its own: Rust 1.85, the oldest the
/// course supports, does not promote `&[&LONG_LINE]` written in place to a `'static` borrow.
static LONG_PIECES: [&[u8]; 1] = [&LONG_LINE];

const fn long_line() -> [u8; LONG + 1] {
    let mut bytes = [b'\n'; LONG + 1];
    let mut at = 0;
    while at < LONG {
        bytes[at] = b'a' + (at % 26) as u8;
        at += 1;
    }
    bytes
}

const fn long_answer() -> [u8; LONG_PREFIX.len() + LONG + 1] {
    let mut bytes = [b'\n'; LONG_PREFIX.len() + LONG + 1];
    let mut at = 0;
    while at < LONG_PREFIX.len() {
        bytes[at] = LONG_PREFIX[at];
        at += 1;
    }
    let line = long_line();
    while at < LONG_PREFIX.len() + LONG {
        bytes[at] = line[at - LONG_PREFIX.len()];
        at += 1;
    }
    bytes
}

/// What a reply that answered a read, not a line, looks like, and what that means.
const ONE_READ_ONE_LINE: &str = "Your server answered one read as if it were one line. TCP \
    delivers a stream of bytes: a read returns whatever has arrived, which may be part of a \
    line, or several lines. Keep reading until a `\\n` ends the line (a BufReader and \
    read_until do this), and answer only whole lines.";

pub const SCRIPT: Script = Script {
    exercise: EXERCISE,
    steps: &[
        Step::Connect('A'),
        Step::SendInPieces('A', &[b"hello\n"]),
        Step::Receive {
            client: 'A',
            text: b"line 1: hello\n",
            if_wrong: "Client A sent one line, `hello`, in one write, and expected its answer, \
                       `line 1: hello`.",
            clues: &[],
        },
        Step::SendInPieces('A', &[b"two\nlines\n"]),
        Step::Receive {
            client: 'A',
            text: b"line 2: two\nline 3: lines\n",
            if_wrong: "Client A sent two lines in one write, so one read can hold both: each \
                       needs its own answer, numbered 2 and 3.",
            clues: &[
                ("line 2: two\nlines", ONE_READ_ONE_LINE),
                (
                    "line 1:",
                    "Each line's number goes on from the last one's (A's first line was 1): \
                     count the lines of a connection, not the reads, and not from 1 again.",
                ),
            ],
        },
        Step::SendInPieces('A', &[b"cut in", b" three", b" pieces\n"]),
        Step::Receive {
            client: 'A',
            text: b"line 4: cut in three pieces\n",
            if_wrong: "Client A sent one line in three pieces, one write each, with a pause \
                       between them: the server reads them apart, and must wait for the `\\n` \
                       before it answers.",
            clues: &[("line 4: cut in\n", ONE_READ_ONE_LINE)],
        },
        Step::SendInPieces('A', &[b"caf\xc3", b"\xa9 au lait\n"]),
        Step::Receive {
            client: 'A',
            text: "line 5: café au lait\n".as_bytes(),
            if_wrong: "The two bytes of `é` came in two reads.",
            clues: &[
                (
                    "\u{fffd}",
                    "The two bytes of `é` came in two reads, and each half became `�`: does \
                     your server turn each read into text? Half a character is not text yet: \
                     keep the line's bytes until the `\\n`, then make text of the whole line.",
                ),
                ("line 5: caf\n", ONE_READ_ONE_LINE),
            ],
        },
        Step::SendInPieces('A', &[b"windows line\r\n\n"]),
        Step::Receive {
            client: 'A',
            text: b"line 6: windows line\nline 7: \n",
            if_wrong: "Client A sent a line ending with `\\r\\n`, then an empty line, in one \
                       write: the `\\r` is not part of the text, and an empty line is a line \
                       too (line 7, with no text).",
            clues: &[(
                "line 6: windows line\r",
                "The `\\r` before the `\\n` is part of the \
                       line's end, not of its text: drop it, as the given code does.",
            )],
        },
        Step::Connect('B'),
        Step::SendInPieces('B', &[b"first from B\n"]),
        Step::Receive {
            client: 'B',
            text: b"line 1: first from B\n",
            if_wrong: "Client B, connected while A still was, sent its first line: its lines \
                       are numbered from 1, its own.",
            clues: &[
                (
                    "line 8:",
                    "B's first line was numbered as if it went on from A's: is the count \
                     shared by every client? Each connection counts its own lines.",
                ),
                (
                    NOTHING_ARRIVED,
                    "Client A was still connected: is your server serving one client at a \
                     time? Each client needs a thread of its own (the given serve() has one).",
                ),
            ],
        },
        Step::SendInPieces('A', &[b"not UTF-8: \xff\xfe\n"]),
        Step::Receive {
            client: 'A',
            text: "line 8: not UTF-8: \u{fffd}\u{fffd}\n".as_bytes(),
            if_wrong: "Client A sent a line with two bytes that are not UTF-8: each is shown as \
                       `�` (String::from_utf8_lossy), and the connection goes on. Did reading \
                       it as text (read_line or lines(), which fail on such bytes) end the \
                       connection? Read bytes (read_until), then make text of them.",
            clues: &[],
        },
        Step::SendInPieces('A', &LONG_PIECES),
        Step::Receive {
            client: 'A',
            text: &LONG_ANSWER,
            if_wrong: "Client A sent a line of 100 KiB in one write: it arrives in many reads, \
                       and is still one line. Does your server read into a buffer of fixed \
                       size and take a full buffer for a line? Keep reading until the `\\n`.",
            clues: &[(
                "line 10:",
                "The 100 KiB line was answered as several lines: does your server take one \
                 read, or a full buffer, for a line? A line ends at its `\\n`, however many \
                 reads that takes.",
            )],
        },
        // A line and the start of the next in one read, the rest of it in the next: what follows
        // a `\n` in a read must be kept. Written apart, so no seed lets a server that drops it
        // pass.
        Step::Connect('D'),
        Step::SendInPieces('D', &[b"one\ntw", b"o\n"]),
        Step::Receive {
            client: 'D',
            text: b"line 1: one\nline 2: two\n",
            if_wrong: "Client D sent a line and the start of the next in one write, then the \
                       rest of it: what follows a line's `\\n` in a read is the beginning of the \
                       next line.",
            clues: &[(
                "line 2: o\n",
                "The `tw` that came after D's first `\\n`, in the same read, was lost: does your \
                 server throw away what follows the last `\\n` of a read? Keep it: it is the \
                 start of the next line.",
            )],
        },
        Step::Close('D'),
        // The only writes left to the shaper: cut and run together at random, the same lines
        // must come back however the seed cut them.
        Step::Send('A', b"shaped one\nshaped two\n"),
        Step::Send('A', b"shaped three\n"),
        Step::Receive {
            client: 'A',
            text: b"line 10: shaped one\nline 11: shaped two\nline 12: shaped three\n",
            if_wrong: "Those writes were cut into pieces and run together on their way, as a \
                       network may: the lines must be answered however they arrive.",
            clues: &[],
        },
        Step::Connect('C'),
        Step::Vanish {
            client: 'C',
            text: b"a whole line\nand half of anoth",
            if_wrong: "Client C sent a whole line and half of another: the whole one needs its \
                       answer at once, before the rest of the other arrives.",
        },
        Step::SendInPieces('B', &[b"still here\n"]),
        Step::Receive {
            client: 'B',
            text: b"line 2: still here\n",
            if_wrong: "Client C had just vanished in the middle of a line (its connection was \
                       reset): did its error stop the whole server? Handle each client's \
                       errors on its own thread (log them) and carry on.",
            clues: &[],
        },
        Step::Close('B'),
        Step::Close('A'),
        Step::Connect('P'),
        Step::SendInPieces('P', &[b"last words, without a newline"]),
        Step::HalfClose('P'),
        Step::Receive {
            client: 'P',
            text: b"line 1: last words, without a newline\n",
            if_wrong: "Client P sent its last words without a newline, then closed its sending \
                       side: the stream's end ends the last line too. Does your server drop \
                       what it holds when read() returns 0? Answer it, then close.",
            clues: &[],
        },
        Step::ReceiveClose {
            client: 'P',
            if_wrong: "Client P closed its sending side, so your server's read returned 0: \
                       that is the moment to answer what is left and close the connection, but \
                       P was still waiting for the close.",
        },
        // Q's text keeps what only the line's end may lose: spaces and a tab at its ends, a `\r`
        // in the middle, and the first of two `\r`s before a `\n`. Its last line ends with its
        // `\n`, and then Q
        // closes its side: nothing is left to answer.
        Step::Connect('Q'),
        Step::SendInPieces(
            'Q',
            &[b"  spaces and a tab\t\r\na \r inside\r\ntwo at the end\r\r\nbye\n"],
        ),
        Step::HalfClose('Q'),
        Step::Receive {
            client: 'Q',
            text: b"line 1:   spaces and a tab\t\nline 2: a \r inside\nline 3: two at the end\r\n\
                    line 4: bye\n",
            if_wrong: "Client Q sent four lines: a line's text is everything before its `\\n`, \
                       less a `\\r` just before it, and nothing else is taken away.",
            clues: &[
                (
                    "line 1: spaces",
                    "The spaces and the tab at the ends of Q's first line are its text: does \
                     your server trim() the line? Take off only the line's end, the `\\n` and \
                     a `\\r` just before it, as the given code does.",
                ),
                (
                    "line 3: two at the end\n",
                    "Q's third line ended with two `\\r`s before its `\\n`: only the last one \
                     belongs to the line's end, and the first is text. Does your server take off \
                     every `\\r` at the end (trim_end_matches)? Take off the `\\n`, then one \
                     `\\r` if one is there.",
                ),
                (
                    "a  inside",
                    "The `\\r` in the middle of Q's second line is its text: only a `\\r` \
                     just before the `\\n` belongs to the line's end. Does your server remove \
                     every `\\r`?",
                ),
            ],
        },
        Step::ReceiveClose {
            client: 'Q',
            if_wrong: "Client Q's last line ended with its `\\n`, and then Q closed its \
                       sending side: nothing was left to answer, so only the close was due. \
                       Does your server answer an empty rest when read() returns 0? Answer what \
                       is left only if something is.",
        },
    ],
    advice: Advice::SERVER,
};
