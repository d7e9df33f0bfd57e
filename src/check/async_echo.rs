//! The check for exercise 10: lesson 10's async echo server, a tokio task per client.
//!
//! The same scenario as exercise 03's check, so the two designs are judged alike, with the
//! explanations an async server needs: the classic mistakes here are an accept loop that
//! `.await`s each client before it accepts the next, and a task that blocks its thread. The
//! exercise runs on tokio's single-threaded runtime, so both show up the same way: a silent
//! client keeps everyone else waiting.

use super::{Exercise, Script, Step};

pub const EXERCISE: Exercise = Exercise {
    id: "10_async_echo",
    title: "the async echo server",
    chapter: "book/src/10-async.md",
};

const NO_ECHO: &str = "Client A got no echo of its first line: does your server send back \
                       every byte it reads?";

pub const SCRIPT: Script = Script {
    exercise: EXERCISE,
    steps: &[
        Step::Connect('A'),
        Step::Send('A', "hello from A\n"),
        Step::Receive {
            client: 'A',
            text: "hello from A\n",
            if_wrong: NO_ECHO,
            clues: &[],
        },
        Step::Send('A', "two lines\nat once\n"),
        Step::Receive {
            client: 'A',
            text: "two lines\nat once\n",
            if_wrong: "Client A's second message got no echo: does your server stop after the \
                       first message? Keep reading until read() returns 0, which means the client \
                       closed its side.",
            clues: &[],
        },
        Step::Vanish {
            client: 'A',
            text: "ping\ncut off mid-li",
            if_wrong: "Client A sent a line and got no echo within 2 s.",
        },
        Step::Connect('B'),
        Step::Send('B', "hello from B\n"),
        Step::Receive {
            client: 'B',
            text: "hello from B\n",
            if_wrong: "After client A vanished in the middle of a line, client B got no reply: \
                       did one client's error stop the whole server? Handle each client's errors \
                       in that client's task (log them), and keep accepting.",
            clues: &[],
        },
        Step::Close('B'),
        Step::Connect('C'),
        Step::Connect('D'),
        Step::Send('D', "hello from D\n"),
        Step::Receive {
            client: 'D',
            text: "hello from D\n",
            if_wrong: "Client D got no reply within 2 s while client C was still connected \
                       (and silent): is your accept loop waiting for each client (an `.await` \
                       on its echo) before it accepts the next? Give each client a task of its \
                       own with tokio::spawn. Or does a task block its thread (a std::net read, \
                       std::thread::sleep)? This server runs every task on one thread, so a \
                       task that blocks stops every client.",
            clues: &[],
        },
        Step::Send('C', "I was only quiet\n"),
        Step::Receive {
            client: 'C',
            text: "I was only quiet\n",
            if_wrong: "Client C, connected all along but silent until now, got no echo.",
            clues: &[],
        },
        Step::Close('C'),
        Step::Close('D'),
        Step::Connect('E'),
        Step::SendInPieces('E', &["sent i", "n three pi", "eces\n"]),
        Step::Receive {
            client: 'E',
            text: "sent in three pieces\n",
            if_wrong: "Client E sent its line in three pieces and did not get the same bytes \
                       back: does your server treat one read() as one whole message? TCP is a \
                       stream of bytes; a read returns whatever has arrived, maybe a piece of a \
                       line. Echo exactly the bytes you read, and keep reading.",
            clues: &[],
        },
        Step::Connect('F'),
        Step::Send('F', "last words\n"),
        Step::HalfClose('F'),
        Step::Receive {
            client: 'F',
            text: "last words\n",
            if_wrong: "Client F sent a line and then closed its sending side (a half-close): it \
                       can still receive, and should get its echo before the server closes.",
            clues: &[],
        },
        Step::ReceiveClose {
            client: 'F',
            if_wrong: "Client F closed its sending side, so your server's read() returned 0: \
                       that is the moment to close the connection, but F was still waiting for \
                       the close.",
        },
        Step::Close('E'),
    ],
};
