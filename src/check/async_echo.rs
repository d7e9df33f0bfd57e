//! The check for exercise 10: lesson 10's async echo server, a tokio task per client.
//!
//! An async echo makes exercise 03's promises, so it plays exercise 03's scripted clients, step
//! for step (see [`super::threaded_echo`]). Only what two steps say when they go wrong changes:
//! the classic mistakes here are an accept loop that `.await`s each client before it accepts the
//! next, and a task that blocks its thread. The exercise runs on tokio's single-threaded runtime,
//! so both show up the same way: a silent client keeps everyone else waiting.

use super::threaded_echo::{STEP_COUNT, STEPS};
use super::{Advice, Exercise, Script, Step};

pub const EXERCISE: Exercise = Exercise {
    id: "10_async_echo",
    title: "the async echo server",
    chapter: "book/src/10-async.md",
};

const ONE_AT_A_TIME: &str = "Client C was connected (and silent) all the while: is your accept \
                             loop waiting for each client (an `.await` on its echo) before it \
                             accepts the next? Give each client a task of its own with \
                             tokio::spawn. Or does a task block its thread (a std::net read, \
                             std::thread::sleep)? This server runs every task on one thread, so \
                             a task that blocks stops every client.";

const A_FEW_AT_A_TIME: &str = "Twenty clients were connected at once: does your server serve only \
                               a few clients at a time? Every client needs its echo at once, \
                               however many are connected: a task each costs little.";

pub const SCRIPT: Script = Script {
    exercise: EXERCISE,
    steps: &ASYNC_STEPS,
    // The panic was a task's: tokio caught it on the thread that ran it, and the others went on.
    advice: Advice {
        on_panic: "That was a task's panic: tokio caught it, and the other clients went on, but \
                   a client that hangs up is no bug. Handle its error (log it with eprintln!) \
                   instead of unwrapping it.",
    },
};

static ASYNC_STEPS: [Step; STEP_COUNT] = async_steps();

/// Exercise 03's steps, with the async words where they differ: D's first reply, which comes
/// while C is connected and silent, and the crowd's.
const fn async_steps() -> [Step; STEP_COUNT] {
    let mut steps = STEPS;
    let mut at = 0;
    let mut first_reply_to_d = true;
    while at < STEP_COUNT {
        match steps[at] {
            Step::Receive {
                client: 'D',
                text,
                clues,
                ..
            } if first_reply_to_d => {
                first_reply_to_d = false;
                steps[at] = Step::Receive {
                    client: 'D',
                    text,
                    if_wrong: ONE_AT_A_TIME,
                    clues,
                };
            }
            Step::EachEchoes { clients, .. } => {
                steps[at] = Step::EachEchoes {
                    clients,
                    if_wrong: A_FEW_AT_A_TIME,
                };
            }
            _ => {}
        }
        at += 1;
    }
    steps
}
