//! The words a check's script is written in: what a scripted client does, and what it expects.
//!
//! This module only describes; [`super::script`] plays the steps and [`super::crowd`] plays the
//! ones where many things happen at once.

use std::time::Duration;

/// How long a scripted client waits for anything. A correct server answers in milliseconds; a
/// wrong one makes the check fail after this long, never hang.
pub const PATIENCE: Duration = Duration::from_secs(2);

/// How long [`Step::SendInPieces`] waits between pieces for an answer. A server that answers as
/// soon as it reads (an echo) ends the wait at once; one that waits for the end of the line
/// costs this much per piece.
pub const PIECE_PAUSE: Duration = Duration::from_millis(300);

/// A [`Step::Receive`] clue that matches when nothing at all arrived.
pub const NOTHING_ARRIVED: &str = "\u{0}nothing arrived";

/// One thing a scripted client does, or expects. Clients are named by letters: `'A'`, `'B'`...
///
/// In the bytes a client expects, `<A's address>` stands for client A's own address as the
/// server sees it (the same for B, C...), and `<server's address>` for the server's: the
/// transcript shows these names instead of numbers, so it reads the same on every run.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// The client opens a connection to the server.
    Connect(char),
    /// The client opens a connection and resets it at once, before sending a byte: the server
    /// may meet it only after the reset, in `accept` or in its first read or `peer_addr`.
    ConnectAndReset(char),
    /// Several clients open a connection each, one after the other, and stay connected.
    ConnectAll(&'static [char]),
    /// The client sends these bytes. On their way they may be cut into pieces of a few bytes, or
    /// run together with the client's next `Send`, as a real network may do (see
    /// [`super::shaper`]): a server must not care.
    Send(char, &'static [u8]),
    /// The client sends these pieces of one message, one write each. After each piece but the
    /// last it waits briefly (at most [`PIECE_PAUSE`]) for the server to answer, so the server
    /// surely reads the pieces apart. Whatever arrives meanwhile is kept for the next `Receive`.
    /// A single piece is one write as it is, which the shaper never cuts: on loopback, one read.
    SendInPieces(char, &'static [&'static [u8]]),
    /// The client must receive exactly these bytes within [`PATIENCE`].
    Receive {
        client: char,
        text: &'static [u8],
        /// What it likely means when the text does not come, and nothing that arrived says
        /// better: shown to the learner after the sentence saying what did arrive.
        if_wrong: &'static str,
        /// Pairs of (something the wrong reply contains, what that likely means), tried in
        /// order before the harness's own reading of what arrived, and before `if_wrong`.
        /// [`NOTHING_ARRIVED`] as the clue matches a reply of no bytes at all.
        clues: &'static [(&'static str, &'static str)],
    },
    /// Each of these clients sends one line, `hello from X\n`, all before any reply is read;
    /// then each must receive its own line back.
    EachEchoes {
        clients: &'static [char],
        if_wrong: &'static str,
    },
    /// The clients have now been silent for at least this long since they connected or last
    /// sent something: the check waits out whatever is left of that time. A server must not
    /// drop a client just because it is quiet.
    StayQuiet {
        clients: &'static [char],
        at_least: Duration,
    },
    /// The client must receive nothing more for a short while (a fraction of [`PATIENCE`]):
    /// nothing was meant for it.
    ReceiveNothing {
        client: char,
        if_wrong: &'static str,
    },
    /// The server must close the client's connection (the client reads the end of the stream).
    ReceiveClose {
        client: char,
        if_wrong: &'static str,
    },
    /// The client shuts down its sending side: the server reads the end of the stream, but can
    /// still send.
    HalfClose(char),
    /// The client closes its connection.
    Close(char),
    /// The client closes its connection while bytes it has not read are waiting for it, with a
    /// reset: Linux and macOS make such a close a reset by themselves, and the check's zero
    /// linger makes it one everywhere. The server's next read or write fails.
    Reset(char),
    /// Several clients send many chat lines at the same moment: see [`Crossfire`].
    Crossfire(&'static Crossfire),
    /// One client floods the room while others read nothing: see [`Flood`].
    Flood(&'static Flood),
    /// Clients join one after the other, and each leaves at once with `/quit`: see [`Quitters`].
    Quitters(&'static Quitters),
    /// The client sends these bytes, waits for the reply to start arriving, then disappears
    /// without reading it, closing with a reset (as for [`Step::Reset`]): the server sees an
    /// error instead of a clean end.
    Vanish {
        client: char,
        text: &'static [u8],
        if_wrong: &'static str,
    },
}

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

/// Clients join the chat one after the other, and each types `/quit` as soon as it is welcome:
/// each must receive its goodbye and then the close, and the watchers must hear each join and
/// each leave. The goodbye is queued just before the broker takes the client out of the room, so
/// a broker that also shuts the connection down races its own writer for it: one quitter may
/// win that race by luck, several in a row hardly ever do.
#[derive(Debug)]
pub struct Quitters {
    /// The clients that join and quit, with their chat names.
    pub quitters: &'static [(char, &'static str)],
    /// Clients already in the room, which must hear of each join and each leave.
    pub watchers: &'static [char],
    /// What it likely means when a quitter's goodbye does not come before the close.
    pub if_no_goodbye: &'static str,
}

/// One client (the talker) sends 1 KB lines, while others (the slow ones) read nothing and the
/// listeners read everything. The server must cut every slow one off and say so, and each
/// listener must receive every line without ever waiting long for the next.
#[derive(Debug)]
pub struct Flood {
    pub talker: (char, &'static str),
    /// The clients that read nothing, with their chat names.
    pub slow: &'static [(char, &'static str)],
    pub listeners: &'static [char],
    /// The line the room must receive when a slow client is cut off, with `NAME` for its name.
    pub cut_off_notice: &'static str,
    /// What it likely means when a listener waits in vain while the slow clients read nothing.
    pub if_stuck: &'static str,
    /// What it likely means when a slow client is never cut off.
    pub if_never_cut_off: &'static str,
}
