//! The check for exercise 01: a greeting that names the client's own address.
//!
//! # The input space, and what covers it
//!
//! - Who connects: two clients, one after the other, over IPv4 loopback (A and B). Each must be
//!   named by its own address, so a greeting built once, or from `local_addr()`, fails.
//! - Address families: then the program is started again, on `[::1]:0`, and client C connects
//!   over IPv6. An IPv6 address is written in brackets before its port (`[::1]:50000`, RFC 3986
//!   section 3.2.2, as `SocketAddr`'s `Display` writes it), so a greeting that glues `ip()` and
//!   `port()` together itself passes over IPv4 and fails here. Played where the check starts the
//!   program and the machine has IPv6 loopback; a server checked by `--address` or `--command`
//!   is checked over IPv4 only. This part is not in the transcript unless it fails, so the
//!   snapshot is the same on every machine.
//! - What they send: nothing; the greeting is the server's to send first.
//! - How they leave: each waits for the close after the greeting (`ReceiveClose`): a server that
//!   keeps the connection open fails.
//! - What fails: not covered here; the greeting's one write has no error a client can cause that
//!   the check could show on loopback.
//! - Promptly: each reply within `PATIENCE` (2 s).

use super::{
    Advice, Check, Exercise, LOOPBACK_IPV6, Played, Program, Script, Step, has_ipv6_loopback,
};

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
    advice: Advice::SERVER,
};

/// The whole check: [`SCRIPT`] over IPv4, then [`OVER_IPV6`] against the program started again
/// on IPv6 loopback.
pub const CHECK: Greeting = Greeting;

pub struct Greeting;

/// Client C, over IPv6, against the program started again on `[::1]:0`.
pub const OVER_IPV6: Script = Script {
    exercise: EXERCISE,
    steps: &[
        Step::Connect('C'),
        Step::Receive {
            client: 'C',
            text: b"Hello, <C's address>!\n",
            if_wrong: "Client C connected over IPv6 (your program was started again, on \
                       [::1]:0) and was not greeted with its address as \"[::1]:PORT\": an IPv6 \
                       address goes in brackets before its port, which is what a SocketAddr \
                       writes with `{}`. Does your greeting put `ip()` and `port()` together \
                       itself?",
            clues: CLUES,
        },
        Step::ReceiveClose {
            client: 'C',
            if_wrong: "After the greeting the server should close the connection.",
        },
    ],
    advice: Advice::SERVER,
};

impl Check for Greeting {
    fn exercise(&self) -> Exercise {
        EXERCISE
    }

    fn play(&self, program: &mut Program) -> Played {
        let over_ipv4 = SCRIPT.play(program);
        if over_ipv4.stop.is_some() || !has_ipv6_loopback() {
            return over_ipv4;
        }
        let Some(again) = program.start_again_at(LOOPBACK_IPV6) else {
            return over_ipv4;
        };
        let mut transcript = over_ipv4.transcript.clone();
        transcript.push(format!(
            "(the program is started again, on {LOOPBACK_IPV6}: IPv6 loopback)"
        ));
        let mut again = match again {
            Ok(again) => again,
            Err(problem) => {
                let stop = format!(
                    "Your program, started again with the address {LOOPBACK_IPV6} (IPv6 \
                     loopback), did not start: {}\nA server should listen wherever its \
                     argument says, IPv6 included: parse it as a SocketAddr and bind that.",
                    problem.sentence
                );
                return Played::from_steps(Err((stop, transcript)));
            }
        };
        let over_ipv6 = OVER_IPV6.play(&mut again);
        let Some(mut stop) = over_ipv6.stop else {
            // Passed: the transcript, and so the snapshot, is the IPv4 part's, the same on
            // every machine.
            return over_ipv4;
        };
        for line in over_ipv6.transcript.lines() {
            transcript.push(line.clone());
        }
        if let Some(panic) = again.panics().first() {
            stop.push_str(&format!("\nYour program panicked: {panic}."));
        }
        Played::from_steps(Err((stop, transcript)))
    }
}
