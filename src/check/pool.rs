//! The check for exercise 07: a pool of worker threads with a bounded queue in front of it.
//!
//! The server runs with 2 workers and room for 4 waiting connections. Two clients take the
//! workers and stay; a third must wait (no echo yet); three more fill the queue; the seventh must
//! hear one line and see its connection closed. Then the first client leaves, and the third must
//! be served at last: a worker goes back to the queue. On Linux the check also counts the
//! server's threads while six clients are held; elsewhere the system does not show them.
//!
//! # The input space, and what covers it
//!
//! - Who connects: with [`WORKERS`] = 2 and [`MAX_WAITING`] = 4, two clients take the workers (A,
//!   B), one waits (C: no echo while both are busy), three more fill the queue (D, E, F), and one
//!   more (G) is one over the limit. The queue's boundary is tried at exactly the limit (F must
//!   wait, not be turned away) and one over it (G must hear one line, then the close).
//! - What they send: a line each; the echo of a waiting client must come once a worker is free
//!   (A leaves, C is served): a worker that serves one client and stops fails.
//! - When they leave: A closes gently, then B and C reset their connections in the middle of a
//!   line, one after the other: the worker's read or write fails, and it must serve the next in
//!   the queue (D, then E); a worker that stops at an error fails. Then F resets while it still
//!   waits in the queue, and D leaves: D's worker takes F's broken connection (its first read
//!   fails, and on Linux and macOS `peer_addr` too), and must still serve newcomer H while E
//!   holds the other worker.
//! - After the turn-away: G sends a line, as a client that has not noticed may; the given
//!   `turn_away` closes gently and takes it in silence, a stream dropped outright answers with a
//!   reset (which can erase the busy line), and fails.
//! - Idleness: after everyone has left, nobody connects for [`IDLE_SPELL`]; then client J must be
//!   served (a worker that ends after waiting in vain for up to 3 s fails).
//! - What fails in the APIs: a full queue (`try_send`'s `Full`) must turn the client away at once,
//!   never wait for room; the number of threads is counted on Linux (a thread per connection,
//!   waiting or not, fails); elsewhere that count is not covered.
//! - Not covered: a failing `accept`.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use super::live::{self, Clients, Ending, PATIENCE};
use super::{Check, Exercise, Failure, Played, Program, Transcript};

pub const EXERCISE: Exercise = Exercise {
    id: "07_thread_pool",
    title: "the thread pool that turns clients away politely",
    chapter: "book/src/07-thread-pool.md",
};

/// The pool's size in the check: small, so each limit is reached with a handful of clients.
pub const WORKERS: usize = 2;
/// How many connections may wait in the check's queue.
pub const MAX_WAITING: usize = 4;
/// How long a waiting client listens, to be sure it is not served.
const QUIET: Duration = Duration::from_millis(300);

/// How long turned-away client G watches for a reset after it sends a line past the close. Over
/// loopback a reset comes back within microseconds; the gentle close takes a second to give up.
const AFTER_THE_CLOSE: Duration = Duration::from_millis(300);

/// How long the pool sits with no client before the last one comes: a worker that gives up
/// after waiting in vain for up to 3 s (a `recv_timeout` whose Timeout ends its loop) is gone by
/// then. (Longer waits are not covered: each second here is a second of every run.)
pub const IDLE_SPELL: Duration = Duration::from_millis(3500);
/// Threads tolerated beyond the workers and the accept loop: when they are counted, the given
/// `turn_away` may still be closing G gently on a short-lived thread of its own (`close_gently`,
/// up to a second), and a server may keep one helper more (a thread that logs, say).
const THREAD_SLACK: usize = 2;

/// What the learner writes: serve on `listener` with `workers` threads and a queue of
/// `max_waiting`, normally for ever.
pub trait ServePool:
    FnOnce(TcpListener, usize, usize) -> anyhow::Result<()> + Send + 'static
{
}
impl<F: FnOnce(TcpListener, usize, usize) -> anyhow::Result<()> + Send + 'static> ServePool for F {}

/// Counts the server's threads, if this system can.
type ThreadCount<'a> = &'a dyn Fn() -> Option<usize>;

/// The check, for [`super::run`].
pub struct Pool;

/// Exercise 07's check.
pub const CHECK: Pool = Pool;

impl Check for Pool {
    fn exercise(&self) -> Exercise {
        EXERCISE
    }

    fn program_args(&self) -> Vec<String> {
        vec![WORKERS.to_string(), MAX_WAITING.to_string()]
    }

    fn play(&self, program: &mut Program) -> Played {
        let count = || program.threads();
        Played::from_steps(play(program.address(), &count))
    }
}

/// Serves the learner's pool as its program would, with the check's sizes.
pub fn serve_as_program(serve: impl ServePool) -> ! {
    super::serve_as_program(|listener| serve(listener, WORKERS, MAX_WAITING))
}

/// Runs the check against a server already running at `address` with [`WORKERS`] and
/// [`MAX_WAITING`], such as lesson 07's binary; `pid` lets it count the threads on Linux.
pub fn run_against(address: SocketAddr, pid: u32) -> Result<Transcript, Failure> {
    let mut program = Program::already_running(address, Some(pid));
    let played = CHECK.play(&mut program);
    super::verdict::judge(
        EXERCISE,
        &CHECK.advice(),
        played.stop,
        played.transcript,
        None,
        &mut program,
        false,
    )
}

const NO_ECHO: &str = "do your workers take connections from the queue and echo them? Each \
                       worker loops: take the next connection, echo until its client leaves, \
                       then take the next.";

fn play(
    address: SocketAddr,
    count_threads: ThreadCount<'_>,
) -> Result<Transcript, (String, Transcript)> {
    let mut clients = Clients::new(address);
    clients.note(format!(
        "the server has {WORKERS} workers and room for {MAX_WAITING} waiting connections"
    ));
    match steps(&mut clients, count_threads) {
        Ok(()) => Ok(clients.transcript),
        Err(surprise) => Err((surprise, clients.transcript)),
    }
}

fn steps(clients: &mut Clients, count_threads: ThreadCount<'_>) -> Result<(), String> {
    // Two clients take the two workers, and stay connected without a word.
    for name in ['A', 'B'] {
        clients.connect(name)?;
        let line = format!("hello from {name}\n");
        clients.send(name, &line)?;
        clients.receive(name, &line, NO_ECHO)?;
    }
    // The third is accepted, but no worker is free: it must wait.
    clients.connect('C')?;
    clients.send('C', "hello from C\n")?;
    if let Some((heard, ending)) = clients.hears_nothing_for('C', QUIET) {
        let what = live::describe_arrival(&heard, &ending);
        clients.note(format!("C {what}"));
        return Err(format!(
            "Client C {what} while A and B held both of the {WORKERS} workers, where it should \
             have waited for a free one: does your server start a thread for every connection? \
             A pool's workers are started once; a connection waits in the queue until one of \
             them is free."
        ));
    }
    clients.note(format!(
        "C receives nothing for {} ms: it waits, both workers are busy",
        QUIET.as_millis()
    ));
    // Three more fill the queue.
    for name in ['D', 'E', 'F'] {
        clients.connect(name)?;
    }
    // One more than the server can hold must be told so, and closed.
    clients.connect('G')?;
    let (heard, ending) = clients.read_to_close('G', PATIENCE);
    let what = live::describe_arrival(&heard, &ending);
    let one_line = heard.ends_with(b"\n") && heard.iter().filter(|&&b| b == b'\n').count() == 1;
    match ending {
        Ending::Closed if one_line => {
            clients.note("G receives one line, then the connection closes");
            // A client that has not noticed yet may still send. The given turn_away closes
            // gently and takes such bytes in silence; a socket dropped outright answers them
            // with a reset, which can erase the busy line before the client reads it.
            if clients.is_reset_after_sending('G', "are you there?\n", AFTER_THE_CLOSE) {
                clients.note("G sends \"are you there?\\n\" and its connection is reset");
                return Err(
                    "Client G heard the busy line and the close, then sent a line, as a client \
                     that has not noticed yet may, and its connection was reset: the server's \
                     socket was gone. A reset can erase the busy line before the client reads \
                     it. Did your accept loop drop the stream itself? Turn the client away \
                     with the given `turn_away`, which closes gently (course::close::gently)."
                        .to_string(),
                );
            }
            clients.note("G sends \"are you there?\\n\": no reset, the server takes it in silence");
        }
        Ending::Closed if heard.is_empty() => {
            clients.note(format!("G {what}"));
            return Err(format!(
                "Client G {what}, without a word: {WORKERS} clients were served and \
                 {MAX_WAITING} waiting, so G was one too many, which is right, but it should \
                 hear why. Write one line (such as BUSY) to the stream before you drop it."
            ));
        }
        Ending::Timeout if heard.is_empty() => {
            clients.note(format!("G {what}"));
            return Err(format!(
                "Client G {what}, where one line and then the close were expected: with \
                 {WORKERS} clients served and {MAX_WAITING} waiting, G is one too many. Is your \
                 accept loop waiting for room in the queue? `send` waits while the queue is \
                 full, and meanwhile nobody accepts; `try_send` hands the connection back at \
                 once (TrySendError::Full), so you can turn the client away."
            ));
        }
        Ending::Timeout if one_line => {
            clients.note(format!("G {what}"));
            return Err(format!(
                "Client G {what}, and its connection was still open {} s after it connected, \
                 where one line and then the close were expected at once: with {WORKERS} clients \
                 served and {MAX_WAITING} waiting, G is one too many. Does your server keep the \
                 stream after the line, or does its accept loop wait for room in the queue \
                 (send_timeout, a loop of tries) before it turns a client away? Turn it away at \
                 once (try_send), and drop the stream after the line.",
                PATIENCE.as_secs()
            ));
        }
        _ => {
            clients.note(format!("G {what}"));
            return Err(format!(
                "Client G {what}, where one line and then the close were expected: when the \
                 queue is full, write one line (such as BUSY) and drop the stream."
            ));
        }
    }
    // D, E and F fit in the queue: none of them may have been turned away meanwhile.
    for name in ['D', 'E', 'F'] {
        if let Some((heard, ending)) = clients.hears_nothing_for(name, Duration::from_millis(50)) {
            let what = live::describe_arrival(&heard, &ending);
            clients.note(format!("{name} {what}"));
            return Err(format!(
                "Client {name} {what}, where it should have waited its turn: C, D, E and F are \
                 {MAX_WAITING} waiting connections, and the queue may hold {MAX_WAITING}. Does \
                 your accept loop turn a client away before the queue is full (a test of its \
                 own, one short), or does your queue hold fewer than max_waiting \
                 (bounded(max_waiting))? Let try_send say when it is full."
            ));
        }
    }
    clients.note("D, E and F receive nothing: they wait in the queue".to_string());
    // The pool's promise: a fixed number of threads, however many clients are connected.
    if let Some(threads) = count_threads() {
        let allowed = WORKERS + 1 + THREAD_SLACK;
        if threads > allowed {
            clients.note(format!(
                "(the server runs {threads} threads while 6 clients are connected)"
            ));
            return Err(format!(
                "Your server runs {threads} threads while 2 clients are served and 4 wait, \
                 where a pool of {WORKERS} workers needs {WORKERS} plus the accept loop: does it \
                 start a thread for each connection, even one that waits? Start the workers \
                 once, before the accept loop, and let connections wait in the queue."
            ));
        }
    }
    // A leaves: its worker must take the next connection from the queue, C.
    clients.close('A');
    clients.receive(
        'C',
        "hello from C\n",
        "A left, so its worker was free, but C (first in the queue, its line sent long ago) \
         was not served. Does each worker go back to the queue after its client leaves? Loop \
         over the queue (`for stream in queue`), and never let one client's error end the loop.",
    )?;
    // B and C break off in the middle of a line, with a reset: their workers' reads or writes
    // fail. A worker that stops at its client's error is lost for good; each must take the next
    // connection from the queue, D and then E.
    for (leaving, next) in [('B', 'D'), ('C', 'E')] {
        clients.send(leaving, "half a li")?;
        clients.reset(leaving);
        let line = format!("hello from {next}\n");
        clients.send(next, &line)?;
        clients.receive(
            next,
            &line,
            &format!(
                "{leaving} reset its connection in the middle of a line, so its worker met an \
                 error (a read or a write failed), and {next}, next in the queue, was not \
                 served. Does a worker stop at its client's error (`?`, `unwrap`, a `return` or \
                 `break` in its loop)? Log the error and take the next connection: a worker that \
                 stops is a worker the pool has lost for good."
            ),
        )?;
    }
    // F, still waiting in the queue, gives up with a reset before any worker takes it. When D
    // leaves, D's worker takes F's connection, already broken (its first read fails, and on
    // Linux and macOS its peer_addr() too): a worker that stops there is lost, and with E still
    // served, H, a newcomer, would wait for ever.
    clients.reset('F');
    clients.close('D');
    clients.connect('H')?;
    clients.send('H', "hello from H\n")?;
    clients.receive(
        'H',
        "hello from H\n",
        "F reset its connection while it waited in the queue; then D left, so D's worker took \
         F's connection, already broken, and H, a newcomer, was not served though E held only \
         the other worker. Does a worker stop when a connection it takes is broken before it \
         is served (the first read fails, or peer_addr())? Log it and take the next: a worker \
         that stops is a worker the pool has lost for good.",
    )?;
    for name in ['E', 'H'] {
        clients.close(name);
    }
    clients.connect('I')?;
    clients.send('I', "hello from I\n")?;
    clients.receive(
        'I',
        "hello from I\n",
        "Everyone else had left, and a new client was not served: do your workers keep going?",
    )?;
    clients.close('I');
    // The pool sits idle, its workers waiting for the queue; then one more client comes.
    std::thread::sleep(IDLE_SPELL);
    clients.note(format!(
        "nobody connects for {} s",
        IDLE_SPELL.as_secs_f32()
    ));
    clients.connect('J')?;
    clients.send('J', "hello from J\n")?;
    clients.receive(
        'J',
        "hello from J\n",
        &format!(
            "After {} s without clients, a new client was not served: do your workers stop \
             when they have waited a while for a connection (recv_timeout, and a `break` on its \
             Timeout)? A worker serves one connection after another for as long as the server \
             runs: wait on the queue for as long as it takes (`for stream in queue`).",
            IDLE_SPELL.as_secs_f32()
        ),
    )?;
    clients.close('J');
    Ok(())
}
