//! The check for exercise 04: the chat's broker, its two rules `broadcast_to_others` and
//! `remove`.
//!
//! People join, talk, talk all at once, and leave in every way a client can: a clean close, a
//! reset with lines still unread, a hang-up in the middle of a line, and `/quit`. One connection
//! never picks a name, and must hear nothing and never be announced. Then two people stop
//! reading while alice floods the room. In that order, each classic broker mistake fails at its
//! own step: forgetting to announce a join, sending a message back to its sender, telling a
//! client that has not joined yet, losing or reordering messages sent at the same moment,
//! forgetting or misnaming a leave, and letting slow readers stall the room.
//!
//! What it cannot see: whether `remove` shuts down a cut-off client's connection. Without the
//! shutdown the client is still dropped, only later; the book says so.
//!
//! # The input space, and what covers it
//!
//! - Who connects: named clients, one that never names itself, readers that stop reading.
//! - How they leave: a clean close, a reset with lines unread, a hang-up mid-line, `/quit`, and
//!   being cut off as too slow; each must be announced with its own words, the nameless never.
//!   After `/quit` the goodbye must come before the close: hal, then six more quitters in a row
//!   (a `remove` that shuts down every leaver's connection races its writer for the goodbye, and
//!   seldom wins seven times running).
//! - Order and loss: two talkers send 50 lines each at the same moment; every listener must hear
//!   every line, in one order.
//! - The queue's limit: the flood fills the slow clients' queues; the room must carry on. The
//!   boundary (a queue exactly full, one under) is not covered: the check cannot see the queue.

use super::{Advice, Crossfire, Exercise, Flood, Quitters, Script, Step};

pub const EXERCISE: Exercise = Exercise {
    id: "04_chat",
    title: "the chat's broker",
    chapter: "book/src/04-chat.md",
};

const ASK_NAME: &[u8] = b"* Welcome to the chat! What is your name?\n";

const NOT_ANNOUNCED: &str = "A newcomer joined, and someone already in the room was not told: \
                             broadcast each join to everyone else, `* NAME joined`.";

const LOST: &str = "A client whose connection broke (a reset, or a hang-up in the middle of a \
                    line) is announced as `* NAME left (connection lost)`: `remove` tells \
                    `Leaving::Lost` apart from a clean goodbye.";

/// What it likely means when a client that typed `/quit` does not get its goodbye.
const NO_GOODBYE: &str = "The given `hear` queues the goodbye, then calls `remove`: does `remove` \
                          shut down the connection of a client that leaves by itself? The \
                          goodbye is then lost whenever the shutdown comes before the client's \
                          writer has sent it. Only a client cut off as too slow needs the \
                          shutdown (its writer may be stuck in a write); for any other, dropping \
                          its `Client` lets the writer send what is queued, the goodbye \
                          included, and then close the connection.";

/// Steps for client `who` to connect and take the name `name`.
macro_rules! join {
    ($who:literal, $name:literal) => {
        [
            Step::Connect($who),
            Step::Receive {
                client: $who,
                text: ASK_NAME,
                if_wrong: "A new client should first be asked for its name (the given code in \
                           `arrive` does that).",
                clues: &[],
            },
            Step::Send($who, concat!($name, "\n").as_bytes()),
            Step::Receive {
                client: $who,
                text: concat!("* Welcome, ", $name, "!\n").as_bytes(),
                if_wrong: "A client that sent its name should be welcomed by it (the given code \
                           in `hear` does that).",
                clues: &[],
            },
        ]
    };
}

/// Step: client `who` must hear `text`.
macro_rules! hears {
    ($who:literal, $text:expr, $if_wrong:expr) => {
        Step::Receive {
            client: $who,
            text: $text.as_bytes(),
            if_wrong: $if_wrong,
            clues: CLUES,
        }
    };
}

const CLUES: &[(&str, &str)] = &[
    (
        "carol: \n",
        "carol's empty line reached the room as a message: the given code in `hear` ignores an \
         empty line.",
    ),
    (
        "carol: /who",
        "carol's \"/who\" reached the room as a message: a line that starts with / is a \
         command (the given code in `hear` answers it with an error line).",
    ),
    (
        "* alice joined",
        "alice was told that she herself joined: `broadcast_to_others` must skip the client it \
         is given (the newcomer, or a message's sender).",
    ),
    (
        "alice: hello, everyone",
        "alice received her own message back: deliver each message to everyone *except* its \
         sender.",
    ),
    (
        "bob: hi alice",
        "bob received his own message back: deliver each message to everyone *except* its \
         sender.",
    ),
    (
        "* someone",
        "A connection that never picked a name was announced: it never joined, so `remove` \
         says nothing when it leaves.",
    ),
    (
        "* dave left\n",
        "dave's connection broke (it was reset, with lines unread). A client whose connection \
         broke is announced as `* NAME left (connection lost)`.",
    ),
    (
        "* erin left\n",
        "erin hung up in the middle of a line. A client whose connection broke is announced as \
         `* NAME left (connection lost)`.",
    ),
];

static CROSSFIRE: Crossfire = Crossfire {
    talkers: &[('A', "alice"), ('B', "bob")],
    listeners: &['C', 'D'],
    lines_each: 50,
    if_lost: "alice and bob each sent 50 lines at the same moment, and not every line reached \
              everyone else: does the broker deliver every line of every client, each one once, \
              as `NAME: TEXT`?",
    if_reordered: "alice and bob each sent 50 lines at the same moment, and carol and dave heard \
                   them in different orders: does every line go into every queue from the \
                   broker's one thread, in the order the broker handles events? (A thread per \
                   delivery lets lines overtake each other.)",
    if_echoed: "alice or bob heard their own lines back: deliver each message to everyone \
                *except* its sender.",
};

static QUITTERS: Quitters = Quitters {
    quitters: &[
        ('K', "kim"),
        ('L', "lee"),
        ('M', "mia"),
        ('N', "ned"),
        ('O', "oli"),
        ('P', "pat"),
    ],
    watchers: &['A', 'C'],
    if_no_goodbye: NO_GOODBYE,
};

static FLOOD: Flood = Flood {
    talker: ('A', "alice"),
    slow: &[('F', "frank"), ('G', "gina")],
    // The room keeps clients in the order they joined: carol, then frank and gina, then ivan
    // and judy. A broadcast that stops at the first full queue misses whoever comes after it,
    // and whichever way it runs through the room, a reader does.
    listeners: &['C', 'I', 'J'],
    cut_off_notice: "* NAME was disconnected: they stopped reading their messages",
    if_stuck: "While frank and gina read nothing, alice kept talking, and a client who was \
               reading stopped hearing her: is the broker waiting for room in a full queue? \
               `send` waits; `offer` (which uses `try_send`) does not: a client whose queue is \
               full goes on `too_slow`.",
    if_never_cut_off: "frank and gina read nothing at all, yet were not both cut off: when \
                       `offer` finds a client's queue full, put the client on `too_slow`; \
                       `remove` then tells the room `* NAME was disconnected: they stopped \
                       reading their messages`.",
};

const fn steps() -> [Step; 100] {
    let [a1, a2, a3, a4] = join!('A', "alice");
    let [b1, b2, b3, b4] = join!('B', "bob");
    let [c1, c2, c3, c4] = join!('C', "carol");
    let [d1, d2, d3, d4] = join!('D', "dave");
    let [e1, e2, e3, e4] = join!('E', "erin");
    let [h1, h2, h3, h4] = join!('H', "hal");
    let [f1, f2, f3, f4] = join!('F', "frank");
    let [g1, g2, g3, g4] = join!('G', "gina");
    let [i1, i2, i3, i4] = join!('I', "ivan");
    let [j1, j2, j3, j4] = join!('J', "judy");
    [
        a1,
        a2,
        a3,
        a4,
        b1,
        b2,
        b3,
        b4,
        hears!('A', "* bob joined\n", NOT_ANNOUNCED),
        // U connects and never picks a name: it is not in the room yet.
        Step::Connect('U'),
        Step::Receive {
            client: 'U',
            text: ASK_NAME,
            if_wrong: "A new client should first be asked for its name (the given code in \
                       `arrive` does that).",
            clues: &[],
        },
        Step::Send('A', b"hello, everyone\n"),
        hears!(
            'B',
            "alice: hello, everyone\n",
            "alice sent a line, and bob did not receive it as `alice: hello, everyone`: does \
             `broadcast_to_others` queue each message for everyone else?"
        ),
        Step::Send('B', b"hi alice\n"),
        hears!(
            'A',
            "bob: hi alice\n",
            "bob sent a line, and alice did not receive it as `bob: hi alice`."
        ),
        c1,
        c2,
        c3,
        c4,
        hears!('A', "* carol joined\n", NOT_ANNOUNCED),
        hears!('B', "* carol joined\n", NOT_ANNOUNCED),
        d1,
        d2,
        d3,
        d4,
        hears!('A', "* dave joined\n", NOT_ANNOUNCED),
        hears!('B', "* dave joined\n", NOT_ANNOUNCED),
        hears!('C', "* dave joined\n", NOT_ANNOUNCED),
        Step::ReceiveNothing {
            client: 'U',
            if_wrong: "U has not picked a name yet, so it is not in the room: \
                       `broadcast_to_others` skips clients whose name is still `None`.",
        },
        Step::Crossfire(&CROSSFIRE),
        // Leaving, in every way a client can.
        Step::Close('B'),
        hears!(
            'A',
            "* bob left\n",
            "bob closed his connection, and alice was not told: `remove` tells everyone still \
             in the room `* NAME left`."
        ),
        hears!('C', "* bob left\n", "bob left, and carol was not told."),
        hears!('D', "* bob left\n", "bob left, and dave was not told."),
        Step::Send('C', b"bye, dave\n"),
        hears!(
            'A',
            "carol: bye, dave\n",
            "carol sent a line, and alice did not hear it."
        ),
        Step::Reset('D'),
        hears!('A', "* dave left (connection lost)\n", LOST),
        hears!('C', "* dave left (connection lost)\n", LOST),
        e1,
        e2,
        e3,
        e4,
        hears!('A', "* erin joined\n", NOT_ANNOUNCED),
        hears!('C', "* erin joined\n", NOT_ANNOUNCED),
        Step::Send('E', b"half a li"),
        Step::Close('E'),
        hears!('A', "* erin left (connection lost)\n", LOST),
        hears!('C', "* erin left (connection lost)\n", LOST),
        h1,
        h2,
        h3,
        h4,
        hears!('A', "* hal joined\n", NOT_ANNOUNCED),
        hears!('C', "* hal joined\n", NOT_ANNOUNCED),
        Step::Send('H', b"/quit\n"),
        Step::Receive {
            client: 'H',
            text: b"* Goodbye, hal!\n",
            if_wrong: NO_GOODBYE,
            clues: &[],
        },
        Step::ReceiveClose {
            client: 'H',
            if_wrong: "After /quit, `remove` takes hal out of the room: dropping its client \
                       drops its queue, and its writer closes the connection.",
        },
        hears!(
            'A',
            "* hal left\n",
            "hal typed /quit, and alice was not told: announce it as `* NAME left`."
        ),
        hears!(
            'C',
            "* hal left\n",
            "hal left with /quit, and carol was not told."
        ),
        Step::Quitters(&QUITTERS),
        // U, who never joined, has heard nothing of all that; it leaves, and nobody may hear of
        // it.
        Step::ReceiveNothing {
            client: 'U',
            if_wrong: "U never picked a name, so it is not in the room: it hears neither messages \
                       nor who joined or left. Does `remove` tell everyone, named or not?",
        },
        // It only half-closes: the server must still take it out of the room, and so close its
        // connection, though it never had a name.
        Step::HalfClose('U'),
        Step::ReceiveClose {
            client: 'U',
            if_wrong: "U closed its side, and its connection stayed open: `remove` must take every \
                       client out of `self.clients`, named or not. Dropping its `Client` drops \
                       its queue, which ends its writer and closes the connection; a client left \
                       in the room keeps both for ever.",
        },
        // An empty line is no message, and a line that starts with / is a command: neither
        // reaches the room (the given `hear`), so alice's next line is carol's next message.
        Step::Send('C', b"\n"),
        Step::Send('C', b"/who\n"),
        hears!(
            'C',
            "! the only command here is /quit\n",
            "carol sent \"/who\", a command this chat does not have, and was not told so: the \
             given code in `hear` answers `! the only command here is /quit`."
        ),
        Step::Send('C', b"still here?\n"),
        hears!(
            'A',
            "carol: still here?\n",
            "carol sent a line, and alice did not hear it."
        ),
        f1,
        f2,
        f3,
        f4,
        hears!('A', "* frank joined\n", NOT_ANNOUNCED),
        hears!('C', "* frank joined\n", NOT_ANNOUNCED),
        g1,
        g2,
        g3,
        g4,
        hears!('A', "* gina joined\n", NOT_ANNOUNCED),
        hears!('C', "* gina joined\n", NOT_ANNOUNCED),
        i1,
        i2,
        i3,
        i4,
        hears!('A', "* ivan joined\n", NOT_ANNOUNCED),
        hears!('C', "* ivan joined\n", NOT_ANNOUNCED),
        j1,
        j2,
        // An empty name is no name: the given `hear` asks again.
        Step::Send('J', b"\n"),
        hears!(
            'J',
            "* What is your name?\n",
            "judy sent an empty line for her name and was not asked again: an empty name is no \
             name (the given code in `hear` asks \"What is your name?\" again)."
        ),
        j3,
        j4,
        hears!('A', "* judy joined\n", NOT_ANNOUNCED),
        hears!('C', "* judy joined\n", NOT_ANNOUNCED),
        hears!('I', "* judy joined\n", NOT_ANNOUNCED),
        Step::Flood(&FLOOD),
        Step::Send('C', b"is it quiet now?\n"),
        hears!(
            'A',
            "carol: is it quiet now?\n",
            "After frank and gina were cut off, the room should carry on as before."
        ),
        Step::ReceiveNothing {
            client: 'A',
            if_wrong: "Nothing more was due to alice. Was someone announced who never joined?",
        },
    ]
}

static STEPS: [Step; 100] = steps();

pub const SCRIPT: Script = Script {
    exercise: EXERCISE,
    steps: &STEPS,
    advice: Advice::SERVER,
};
