//! The check for exercise 04: the chat's broker.
//!
//! Four people join (alice, bob, carol, dave), talk, talk all at once, and leave; then erin joins
//! and stops reading while alice floods the room. In that order, each classic broker mistake
//! fails at its own step: forgetting to announce a join, sending a message back to its sender,
//! losing or reordering messages sent at the same moment, forgetting to announce a leave, and
//! letting one slow reader stall the room.

use super::{Crossfire, Exercise, Flood, Script, Step};

pub const EXERCISE: Exercise = Exercise {
    id: "04_chat",
    title: "the chat's broker",
    chapter: "book/src/04-chat.md",
};

const ASK_NAME: &[u8] = b"* Welcome to the chat! What is your name?\n";

const NOT_ANNOUNCED: &str = "A newcomer joined, and someone already in the room was not told: \
                             announce each join to everyone else with `* NAME joined`.";

/// Steps for client `who` to connect and take the name `name`.
macro_rules! join {
    ($who:literal, $name:literal) => {
        [
            Step::Connect($who),
            Step::Receive {
                client: $who,
                text: ASK_NAME,
                if_wrong: "A new client should first be asked for its name (the given code in \
                           run_broker does that).",
                clues: &[],
            },
            Step::Send($who, concat!($name, "\n").as_bytes()),
            Step::Receive {
                client: $who,
                text: concat!("* Welcome, ", $name, "!\n").as_bytes(),
                if_wrong: "A client that sent its name should be welcomed by it (the given code \
                           in run_broker does that).",
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
        "* alice joined",
        "alice was told that she herself joined: `announce` must skip the client it is given \
         (the newcomer, or a message's sender).",
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

static FLOOD: Flood = Flood {
    talker: ('A', "alice"),
    slow: &[('E', "erin")],
    listeners: &['C'],
    cut_off_notice: "* NAME was disconnected: they stopped reading their messages",
    if_stuck: "While erin read nothing, alice kept talking, and carol stopped hearing her: is the \
               broker waiting for room in erin's full queue? `send` waits; use `try_send`, and \
               cut off a client whose queue is full.",
    if_never_cut_off: "erin read nothing at all, yet was never cut off: when a client's queue is \
                       full, cut it off with `leave` and tell the room `* erin was disconnected: \
                       they stopped reading their messages`.",
};

const fn steps() -> [Step; 44] {
    let [a1, a2, a3, a4] = join!('A', "alice");
    let [b1, b2, b3, b4] = join!('B', "bob");
    let [c1, c2, c3, c4] = join!('C', "carol");
    let [d1, d2, d3, d4] = join!('D', "dave");
    let [e1, e2, e3, e4] = join!('E', "erin");
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
        Step::Send('A', b"hello, everyone\n"),
        hears!(
            'B',
            "alice: hello, everyone\n",
            "alice sent a line, and bob did not receive it as `alice: hello, everyone`: does \
             the broker deliver each message to everyone else?"
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
        Step::Crossfire(&CROSSFIRE),
        Step::Close('B'),
        hears!(
            'A',
            "* bob left\n",
            "bob left, and alice was not told: when a client leaves, tell everyone still in the \
             room `* NAME left`."
        ),
        hears!('C', "* bob left\n", "bob left, and carol was not told."),
        hears!('D', "* bob left\n", "bob left, and dave was not told."),
        Step::Close('D'),
        hears!('A', "* dave left\n", "dave left, and alice was not told."),
        hears!('C', "* dave left\n", "dave left, and carol was not told."),
        e1,
        e2,
        e3,
        e4,
        hears!('A', "* erin joined\n", NOT_ANNOUNCED),
        hears!('C', "* erin joined\n", NOT_ANNOUNCED),
        Step::Flood(&FLOOD),
        hears!(
            'A',
            "* erin was disconnected: they stopped reading their messages\n",
            "erin was cut off, and alice was not told why."
        ),
        Step::Send('C', b"is it quiet now?\n"),
        hears!(
            'A',
            "carol: is it quiet now?\n",
            "After erin was cut off, the room should carry on as before."
        ),
    ]
}

static STEPS: [Step; 44] = steps();

pub const SCRIPT: Script = Script {
    exercise: EXERCISE,
    steps: &STEPS,
};
