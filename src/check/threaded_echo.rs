//! The check for exercise 03: an echo server that serves many clients at once.
//!
//! The task promises four things, and the scripted clients try each:
//!
//! 1. **Every byte comes back, exactly.** Lines with `\r\n`, bytes that are not UTF-8, a NUL, a
//!    character whose bytes arrive in two reads, 64 KiB in one write, and last words without a
//!    newline before a half-close. (An echo that works on lines or text rather than bytes
//!    changes some of them.)
//! 2. **Every client is served at the same time.** Twenty clients are connected at once, one of
//!    them silent; each one still gets its echo at once.
//! 3. **A quiet client is never dropped.** Client C says nothing for 3 seconds, then talks.
//! 4. **One client's trouble stays its own.** Client A vanishes mid-line with a reply unread
//!    (its connection is reset), and F resets its connection as soon as it is open; everyone
//!    else carries on.
//!
//! The steps come in an order that makes each classic mistake fail at its own step, so the
//! verdict can name it: an echo that stops after one message fails first; then one that one
//! vanished client takes down; one that serves a single client at a time; one that treats each
//! read as a message; one that changes bytes; one that serves a few clients at a time; one that
//! drops quiet clients; and one that closes too early or too late after a half-close.
//!
//! Every write goes through the harness's shaper, which cuts it up or runs it together with the
//! next, as a network may (see [`super::shaper`]).
//!
//! # The input space, and what covers it
//!
//! - Who connects: up to twenty clients at once, over IPv4 loopback, one of them silent all along
//!   (C). IPv6 loopback: not covered (the program is started on `127.0.0.1:0`).
//! - What they send: text lines, `\r\n` endings, bytes that are not UTF-8 and a NUL (D), a
//!   two-byte character cut between two reads (D), 64 KiB in one write (past 1 KiB and 4 KiB, the
//!   usual buffer sizes), last words without a newline (P).
//! - How the bytes are cut and merged: every `Send` goes through the shaper (pieces down to one
//!   byte, or two writes run together); `SendInPieces` makes the cuts certain (E's three pieces).
//! - When and how clients leave: A vanishes mid-line with a reply unread (a reset), B and D close
//!   cleanly, P half-closes and must still get every byte back and then the close. F resets its
//!   connection before sending a byte, usually before the server has accepted it.
//! - What fails in the APIs: a read that fails (A's reset) must end only that client; the check
//!   names a server that returns, exits, panics or aborts on it.
//! - Promptly: every echo within `PATIENCE` (2 s) while others are connected; a quiet client is
//!   kept for [`QUIET_FOR`].

use std::time::Duration;

use super::{Advice, Exercise, NOTHING_ARRIVED, Script, Step};

pub const EXERCISE: Exercise = Exercise {
    id: "03_threaded_echo",
    title: "the threaded echo server",
    chapter: "book/src/03-threaded-echo.md",
};

/// How long client C stays quiet. A server must not drop a quiet client; the check can only
/// wait so long, and says so in the book.
pub const QUIET_FOR: Duration = Duration::from_secs(3);

/// The clients connected all at once, on top of quiet C: twenty in all, more threads than the
/// pools learners tend to reach for (4, 8, 16) hold.
const CROWD: &[char] = &[
    'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
];

/// One write of 64 KiB: lines of a counter, so a difference says where it is.
static BIG_WRITE: [u8; 64 * 1024] = big_write();

const fn big_write() -> [u8; 64 * 1024] {
    let mut bytes = [b'.'; 64 * 1024];
    let mut at = 0;
    while at < bytes.len() {
        // Every 64th byte ends a line; the two before it count the lines, a..z.
        if at % 64 == 63 {
            bytes[at] = b'\n';
            bytes[at - 1] = b'a' + ((at / 64) % 26) as u8;
            bytes[at - 2] = b'a' + ((at / 64 / 26) % 26) as u8;
        }
        at += 1;
    }
    bytes
}

const NO_ECHO: &str = "Does your server send back every byte it reads, as soon as it reads it? \
                       (One that waits for the client to finish first, with read_to_end, never \
                       answers a client that is still talking.)";

pub const SCRIPT: Script = Script {
    exercise: EXERCISE,
    steps: &STEPS,
    advice: Advice::SERVER,
};

/// The steps, as an array, so that exercise 10's check (the same promises, made by an async
/// server) can take them and change only what it says.
pub(super) const STEP_COUNT: usize = 38;

pub(super) const STEPS: [Step; STEP_COUNT] = [
    Step::Connect('A'),
    Step::Send('A', b"hello from A\n"),
    Step::Receive {
        client: 'A',
        text: b"hello from A\n",
        if_wrong: NO_ECHO,
        clues: &[],
    },
    Step::Send('A', b"two lines\nat once\n"),
    Step::Receive {
        client: 'A',
        text: b"two lines\nat once\n",
        if_wrong: "Does your server stop serving a client after its first message? Keep reading until read() \
                       returns 0, which means the client closed its side.",
        clues: &[],
    },
    Step::Vanish {
        client: 'A',
        text: b"ping\ncut off mid-li",
        if_wrong: NO_ECHO,
    },
    Step::Connect('B'),
    Step::Send('B', b"hello from B\n"),
    Step::Receive {
        client: 'B',
        text: b"hello from B\n",
        if_wrong: "Client A had just vanished in the middle of a line: did one client's \
                       error stop the whole server? Handle each client's errors where that \
                       client is served (log them) and keep accepting.",
        clues: &[],
    },
    Step::Close('B'),
    // After B, so that a server that one vanished client stops is named at B, as ever; one that
    // only a client gone before it is accepted stops is named at C.
    Step::ConnectAndReset('F'),
    Step::Connect('C'),
    Step::Connect('D'),
    Step::Send('D', b"hello from D\n"),
    Step::Receive {
        client: 'D',
        text: b"hello from D\n",
        if_wrong: "Client C was connected (and silent) all the while: is your server \
                       handling one client at a time? Serve each client on a thread of its \
                       own, and do not wait for that thread (with join) before accepting the \
                       next client.",
        clues: &[],
    },
    Step::Connect('E'),
    Step::SendInPieces('E', &[b"sent i", b"n three pi", b"eces\n"]),
    Step::Receive {
        client: 'E',
        text: b"sent in three pieces\n",
        if_wrong: "Client E sent its line in three pieces: does your server treat one \
                       read() as one whole message? TCP is a stream of bytes; a read returns \
                       whatever has arrived, maybe a piece of a line. Echo exactly the bytes \
                       you read, and keep reading.",
        clues: &[(
            NOTHING_ARRIVED,
            "Not even the first piece came back, while C and D were still connected: is your \
             server serving only a few clients at a time (a pool of threads, all busy)? Every \
             client needs its echo at once, however many are connected.",
        )],
    },
    // Two writes in a row, which the shaper may run together: the bytes that come back are
    // the same either way.
    Step::Send('D', b"windows line endings\r\nend here\r\n"),
    Step::Send('D', b"caf\xe9 in latin-1, a NUL \0 and \xff\xfe\n"),
    Step::Receive {
        client: 'D',
        text: b"windows line endings\r\nend here\r\ncaf\xe9 in latin-1, a NUL \0 and \xff\xfe\n",
        if_wrong: "Some of those bytes are not UTF-8. Did reading them as text fail \
                       (read_line and read_to_string return an error on them), and end the \
                       connection? An echo sends back bytes, whatever they are.",
        clues: &[],
    },
    Step::SendInPieces('D', &[b"caf\xc3", b"\xa9 split in two\n"]),
    Step::Receive {
        client: 'D',
        text: "café split in two\n".as_bytes(),
        if_wrong: "The two bytes of \"é\" came in two reads. Does your server turn each \
                       read into text (String::from_utf8)? Half a character is not text yet: \
                       echo the bytes.",
        clues: &[],
    },
    Step::Send('D', &BIG_WRITE),
    Step::Receive {
        client: 'D',
        text: &BIG_WRITE,
        if_wrong: "Client D sent 64 KiB: does your server send back only part of what it \
                       reads (write instead of write_all), or only one read's worth?",
        clues: &[],
    },
    // D and E are done; C stays, quiet, while the crowd comes.
    Step::Close('D'),
    Step::Close('E'),
    Step::ConnectAll(CROWD),
    Step::EachEchoes {
        clients: CROWD,
        if_wrong: "Twenty clients were connected at once: does your server serve only a \
                       few clients at a time (a fixed number of threads)? Every client needs \
                       its echo at once, however many are connected.",
    },
    Step::StayQuiet {
        clients: &['C'],
        at_least: QUIET_FOR,
    },
    Step::Send('C', b"I was only quiet\n"),
    Step::Receive {
        client: 'C',
        text: b"I was only quiet\n",
        if_wrong: "Client C, connected all along but silent until now, got no echo.",
        clues: &[],
    },
    Step::Close('C'),
    Step::Connect('P'),
    Step::Send('P', b"last words, without a newline"),
    Step::HalfClose('P'),
    Step::Receive {
        client: 'P',
        text: b"last words, without a newline",
        if_wrong: "Client P sent its last words without a newline, then closed its sending \
                       side (a half-close). It can still receive, and should get every byte \
                       back before the server closes. Does your server wait for a newline that \
                       never comes?",
        clues: &[],
    },
    Step::ReceiveClose {
        client: 'P',
        if_wrong: "Client P closed its sending side, so your server's read() returned 0: \
                       that is the moment to close the connection, but P was still waiting for \
                       the close. Does your server go on after read() returns 0, or keep a \
                       clone of the stream somewhere (try_clone, an Arc in a list)? A \
                       connection closes only when every handle to it is dropped.",
    },
];
