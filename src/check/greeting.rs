//! The check for exercise 01: a greeting that names the client's own address.
//!
//! # The input space, and what covers it
//!
//! - Who connects: two clients, one after the other, over IPv4 loopback (A and B). Each must be
//!   named by its own address, so a greeting built once, or from `local_addr()`, fails. IPv6: not
//!   covered (the program is started on `127.0.0.1:0`).
//! - What they send: nothing; the greeting is the server's to send first.
//! - How they leave: each waits for the close after the greeting (`ReceiveClose`): a server that
//!   keeps the connection open fails.
//! - What fails: not covered here; the greeting's one write has no error a client can cause that
//!   the check could show on loopback.
//! - Promptly: each reply within `PATIENCE` (2 s).

use super::{Exercise, Script, Step};

pub const EXERCISE: Exercise = Exercise {
    id: "01_greeting",
    title: "the greeting that names its client",
    chapter: "book/src/01-greeting.md",
};

const CLUES: &[(&str, &str)] = &[
    (
        "<server's address>",
        "The greeting named the server's own address. The client's address is the other end \
         of the connection: `stream.peer_addr()`, not `local_addr()`.",
    ),
    (
        "Hello, client!",
        "The greeting is still the fixed \"Hello, client!\": greet each client by its own \
         address instead, as in \"Hello, 127.0.0.1:50000!\".",
    ),
];

pub const SCRIPT: Script = Script {
    exercise: EXERCISE,
    steps: &[
        Step::Connect('A'),
        Step::Receive {
            client: 'A',
            text: b"Hello, <A's address>!\n",
            if_wrong: "Client A expected \"Hello, ADDRESS!\" and a newline, where ADDRESS is the \
                       client's address as your server sees it (IP:port).",
            clues: CLUES,
        },
        Step::ReceiveClose {
            client: 'A',
            if_wrong: "After the greeting the server should close the connection: the client \
                       reads until the end, so it waits for the close.",
        },
        Step::Connect('B'),
        Step::Receive {
            client: 'B',
            text: b"Hello, <B's address>!\n",
            if_wrong: "The second client, B, was not greeted with its own address: does your \
                       server keep accepting after the first client, and greet each one by its \
                       own address?",
            clues: CLUES,
        },
        Step::ReceiveClose {
            client: 'B',
            if_wrong: "After the greeting the server should close the connection.",
        },
    ],
};
