//! The check for exercise 08: a graceful shutdown, through the `shutdown` channel the learner's
//! `serve` is given, the way mini-redis passes its servers a shutdown signal. The check runs the
//! exercise's program and presses Ctrl-C for it; the program's handler sends `()` on the channel.
//!
//! Before the shutdown, client A has sent half a line, B is idle, and D has sent half a line it
//! will never finish. Then the check presses Ctrl-C and judges what each one hears: a
//! newcomer (C) must be refused; B must hear the goodbye; A, finishing its line, must get its
//! echo and then the goodbye; D must be cut off once the grace period is over; and `serve` must
//! return `Ok(())`, but only after every connection is closed.
//!
//! # The input space, and what covers it
//!
//! - Who is connected when the shutdown comes: an idle client (B), a client mid-line that finishes
//!   its line within the grace period (A), a client mid-line that never finishes (D), and a
//!   newcomer after it (C). Before it, a client (E) that leaves with last words that are not a
//!   whole line: only whole lines are echoed.
//! - How the shutdown comes: Ctrl-C (SIGINT) sent to the program, which the program turns into `()`
//!   on its shutdown channel (`course::signal::on_ctrl_c`). Only Unix can send it: elsewhere the
//!   check says it cannot.
//! - The grace period's boundaries: A's line, finished half-way through, must be echoed before the
//!   goodbye; D must be cut off only once the grace period is over, and not much later. (A run in
//!   which the check was held up until [`A_SENT_LATE`] before sending A's line, and A then
//!   failed, proves nothing from there on, and is played again, as for K below.)
//! - How the bytes come: A's and D's whole line and the start of the next in one write, before
//!   the shutdown; during it, A's end of line and the start of another in one write, so that the
//!   start of the next line sits in the reader's buffer, not yet in the line being read: a
//!   goodbye that looks only at the line fails.
//! - How the program ends: it must refuse C within 300 ms, say goodbye to every client between two
//!   lines, and end by returning `Ok(())` from `serve` once every client is closed; an exit (any
//!   status), an early return, or a program that never ends fails.
//! - The other way to stop: the program is started again, and this time Ctrl-C drops the
//!   shutdown channel's sender instead of sending `()` ([`SHUTDOWN_BY_VARIABLE`]): its client Z
//!   must hear the goodbye, and `serve` return. (Only where the check starts the program.)
//! - A client that keeps talking: K sends a whole line every [`CHAT_EVERY`] through the
//!   shutdown, so no read of its times out; it must be told goodbye between two lines (a server
//!   that looks at the shutdown only after a timeout fails). K measures the gaps between its
//!   writes: if the check's own thread was held up for [`HELD_UP`] or more (a very busy
//!   machine), a read could have timed out, the run proves nothing, and the check plays again
//!   with the program started afresh, [`PLAYS`] times in all at most.
//! - A client that trickles: T sends its line a byte every [`TRICKLE_EVERY`] and never ends it,
//!   so no read of its times out either; it must be cut off once the grace period is over (a
//!   thread that reads with `read_until`, which reads on until the `\n`, never looks at the
//!   deadline for it, and fails; T measures its gaps too, as K does).
//! - What the program logs: none of the clients above can make `accept` fail, so a log line that
//!   says it failed (the given `AcceptFailures`' words) is a false alarm, and fails: most likely
//!   `WouldBlock`, "nobody is waiting", was taken for a failure. A check reads a log only for a
//!   line that shows a mistake: what the program logs in its own words passes.
//! - When accept fails: the program is started again with at most [`OPEN_FILES`] files and
//!   sockets open (`ulimit -n`; Unix only, and only where the check starts the program), and as
//!   many clients connect and stay, so accept fails (`EMFILE`) while some wait. The log must say
//!   so (the error's text, or the given `AcceptFailures`' words), the program must keep running,
//!   and a newcomer must be served once the crowd has left.
//! - A client that reads slowly: the program is started again, and S sends a line far past every
//!   buffer between the two ends ([`SLOW_LINE`]), ends it once the shutdown has begun (an idle
//!   client I has heard its goodbye), and reads the echo a little at a time, so each write makes
//!   some progress and no write timeout runs out. The program must still end soon after its
//!   deadline (a plain `write_all` goes on for minutes). (Only where the check starts the
//!   program. A run in which the check was held up until S's line end went out after half the
//!   grace proves nothing, and is played again, [`PLAYS`] times at most.)
//! - Not covered: a second Ctrl-C, a client that resets during the grace period.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use super::live::{self, Clients, Ending, PATIENCE};
use super::peer::describe_error;
use super::program::{End, LOOPBACK};
use super::{Check, Exercise, Played, Program};
use crate::signal::SHUTDOWN_BY_VARIABLE;

pub const EXERCISE: Exercise = Exercise {
    id: "08_shutdown",
    title: "the server that shuts down gracefully",
    chapter: "book/src/08-shutdown.md",
};

/// What every connected client must hear when the server stops.
pub const GOODBYE: &str = "The server is shutting down. Goodbye!\n";
/// What a client still mid-line at the deadline must hear.
pub const CUT_OFF: &str = "The server has shut down; your unfinished line was dropped.\n";
/// The grace period the check gives `serve`: short, so a check that waits it out stays quick.
pub const GRACE: Duration = Duration::from_millis(600);
/// How often client K sends a whole line, from just before the shutdown on: far more often than
/// the given TURN (50 ms), so that no read of K's ever times out. (Only if the check's own thread
/// were held up for TURN would one: see [`HELD_UP`].)
const CHAT_EVERY: Duration = Duration::from_millis(5);
/// How long K talks at most, from the shutdown on: past the grace period, so a server that
/// never tells it goodbye is seen to keep echoing after the deadline.
const CHAT_FOR: Duration = Duration::from_millis(1200);
/// How long a program has to end once its last client is closed: joining threads that have all
/// ended, and returning, takes a moment, more on a busy machine.
const ENDS_WITHIN: Duration = Duration::from_secs(2);
/// How often client T sends one more byte of a line it never ends, from just before the shutdown
/// on: more often than TURN, so no read of its times out.
const TRICKLE_EVERY: Duration = Duration::from_millis(10);
/// How long T trickles at most: well past the grace period.
const TRICKLE_FOR: Duration = Duration::from_millis(1600);

/// How soon after the shutdown a newcomer must be refused. A server that looks at the shutdown
/// every 50 ms, as lesson 08's does, refuses within 50 ms.
const REFUSED_WITHIN: Duration = Duration::from_millis(300);

/// Whether this check can run here: it presses Ctrl-C for the program with `kill -INT`, which
/// only Unix (Linux, macOS) has. Elsewhere it can only say so, for every answer alike; the
/// course's own tests of it skip, with [`CANNOT_RUN_HERE`].
pub const CAN_RUN_HERE: bool = cfg!(unix);

/// What a test of this check prints where it skips.
pub const CANNOT_RUN_HERE: &str = "skipped: exercise 08's check presses Ctrl-C for the program \
                                   with `kill -INT`, which only Linux and macOS have";

/// What the learner writes: serve on `listener` until `shutdown` receives (or its sender is
/// dropped), then shut down within `grace`.
pub trait ServeUntilShutdown:
    FnOnce(TcpListener, crossbeam_channel::Receiver<()>, Duration) -> anyhow::Result<()>
    + Send
    + 'static
{
}
impl<F> ServeUntilShutdown for F where
    F: FnOnce(TcpListener, crossbeam_channel::Receiver<()>, Duration) -> anyhow::Result<()>
        + Send
        + 'static
{
}

/// The check, for [`super::run`].
pub struct Shutdown;

/// Exercise 08's check.
pub const CHECK: Shutdown = Shutdown;

impl Check for Shutdown {
    fn exercise(&self) -> Exercise {
        EXERCISE
    }

    fn program_args(&self) -> Vec<String> {
        vec![GRACE.as_secs_f64().to_string()]
    }

    fn play(&self, program: &mut Program) -> Played {
        let mut run = play_once(program);
        // A run in which the check's own K or T was held up proves nothing of them: play again,
        // with the program started afresh, a few times at most. Even when a later step failed:
        // K's verdict, had K not been held up, would have come first.
        let mut held_up_failure = None;
        for _ in 1..PLAYS {
            if run.proven {
                break;
            }
            match program.restart() {
                Some(Ok(())) => {
                    let previous = std::mem::replace(&mut run, play_once(program));
                    if previous.stop.is_some() && held_up_failure.is_none() {
                        held_up_failure = Some(previous);
                    }
                }
                // Started once, a program that cannot start again is no news of its shutdown.
                _ => break,
            }
        }
        // Being held up only ever lets a server pass a step it should fail: a failure seen in a
        // held-up run is news, and stands if the runs after it passed.
        if run.stop.is_none() {
            if let Some(failed) = held_up_failure {
                run = failed;
            }
        }
        let Run {
            mut clients,
            end_judged,
            mut stop,
            ..
        } = run;
        // The other way to stop, played by a program of its own, once the first has passed.
        if stop.is_none() {
            stop = dropped_sender(program, &mut clients).err();
        }
        if stop.is_none() {
            stop = slow_reader(program, &mut clients).err();
        }
        if stop.is_none() {
            stop = false_alarm(program, &mut clients).err();
        }
        if stop.is_none() {
            clients.leave_quietly();
            stop = out_of_descriptors(program, &mut clients).err();
        }
        Played {
            transcript: clients.transcript,
            stop,
            seed: None,
            end_judged,
        }
    }
}

/// One run of [`steps`], and what came of it.
struct Run {
    clients: Clients,
    end_judged: bool,
    /// Whether K and T were never held up (see [`HELD_UP`]).
    proven: bool,
    stop: Option<String>,
}

fn play_once(program: &mut Program) -> Run {
    let mut clients = Clients::new(program.address());
    let mut end_judged = false;
    let mut proven = true;
    let mut stop = steps(&mut clients, program, &mut end_judged, &mut proven).err();
    // A program that ended after the shutdown began, while its clients were not yet done:
    // that is the news, and what the clients saw is its evidence. Unless a client heard
    // other words than it should: then the program's end came after the server's own
    // mistake, which is the news.
    // (Nested, not a let chain: those need Rust 1.88, and the course asks for 1.85.)
    if let Some(surprise) = &stop {
        if end_judged && !surprise.starts_with("Your ") && !clients.wrong_words {
            // (Not `Program::end_if_closing`: after the shutdown the listener is closed anyway.)
            if let Some(end) = program.wait_for_end(super::verdict::END_MAY_FOLLOW) {
                stop = Some(format!("{}\n{surprise}", ended_early(&mut clients, &end)));
            }
        }
    }
    Run {
        clients,
        end_judged,
        proven,
        stop,
    }
}

/// None of the check's clients can make `accept` fail (none leaves before it is accepted, and a
/// few connections leave the program plenty of file descriptors): a log that says it failed is a
/// false alarm, read off the given `AcceptFailures`' words. Most likely `WouldBlock`, which a
/// non-blocking listener's `accept` returns whenever nobody is waiting, was taken for a failure:
/// then the server also pauses [`crate::accept::PAUSE`] more at every turn.
fn false_alarm(program: &Program, clients: &mut Clients) -> Result<(), String> {
    let Some(line) = program.logged_line(crate::accept::FAILED) else {
        return Ok(());
    };
    clients.note(format!("the server's log says: {line}"));
    Err(format!(
        "Your server logged that accept failed (\"{line}\"), though none of the check's clients \
         could make it fail. Does WouldBlock go to failures.pause_after? A non-blocking \
         listener's accept returns WouldBlock whenever nobody is waiting: that is the turn to \
         wait for the shutdown, not a failure. Taken for one, it fills the log with a trouble \
         that is not there, and adds a {} ms pause to every turn.",
        crate::accept::PAUSE.as_millis()
    ))
}

/// The most files and sockets the program may have open when the check starts it again to run
/// it out of file descriptors (`ulimit -n`): its standard input, output and error, its listener,
/// and whatever else it opens (the Ctrl-C handler's pipe, say) leave room for a few clients.
/// (Descriptors the test process itself inherited without close-on-exec, such as a `make`
/// jobserver's two, pass on to the program and take room too: ten leaves space for them.)
pub const OPEN_FILES: u32 = 10;

/// How many clients connect to the program started with [`OPEN_FILES`], and stay: as many as it
/// may have files open, so some of them surely wait in the listener's queue while `accept` fails.
const CROWD: usize = OPEN_FILES as usize;

/// How long after the crowd came the log must say accept failed: the given loop says so at the
/// first failure, a turn after the last client it could take.
const SAYS_WITHIN: Duration = Duration::from_secs(2);

/// The error `accept` gives a process out of file descriptors: `EMFILE`, 24 on Linux and macOS
/// (the only systems this check runs on).
const EMFILE: i32 = 24;

/// The system's own words for [`EMFILE`], asked of the system when the check runs, never written
/// here: they differ between systems and C libraries, and the learner's program, built for the
/// same system, gets the same. (`std::io::Error` shows them with ` (os error 24)` after them.)
fn emfile_words() -> String {
    let error = std::io::Error::from_raw_os_error(EMFILE).to_string();
    match error.split_once(" (os error") {
        Some((words, _)) => words.to_string(),
        None => error,
    }
}

/// The program, started again with at most [`OPEN_FILES`] open, and more clients than it can
/// hold: its accept fails (`EMFILE`) while they wait. It must say so on stderr (a server that
/// runs out in silence leaves whoever runs it no clue why clients wait), keep running, and serve
/// a newcomer once the crowd has left. (Only on Unix, where `sh` sets the limit, and only where
/// the check starts the program.)
fn out_of_descriptors(program: &Program, clients: &mut Clients) -> Result<(), String> {
    let Some(again) = program.start_again_with_open_files(OPEN_FILES) else {
        return Ok(());
    };
    clients.note(format!(
        "(the program is started again, allowed at most {OPEN_FILES} open files: `ulimit -n \
         {OPEN_FILES}`)"
    ));
    let mut again = again.map_err(|problem| {
        format!(
            "Your program, started again with at most {OPEN_FILES} open files (`ulimit -n \
             {OPEN_FILES}`), did not start: {}",
            problem.sentence
        )
    })?;
    let mut newcomer = Clients::new(again.address());
    let played = (|| {
        let crowd = (0..CROWD)
            .map(|_| TcpStream::connect_timeout(&again.address(), PATIENCE))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| {
                format!(
                    "{CROWD} clients connect at once, and one of them could not ({}): is your \
                     server still accepting connections?",
                    describe_error(&error)
                )
            })?;
        newcomer.note(format!(
            "{CROWD} clients connect and stay: more than the program can hold, so accept fails \
             while some of them wait"
        ));
        // A line that says so names the error in the system's words (as `{error}` shows it), or
        // in the given `AcceptFailures`' words: any other line proves nothing of the failure.
        let emfile = emfile_words();
        let deadline = Instant::now() + SAYS_WITHIN;
        let said = loop {
            let words = [emfile.as_str(), crate::accept::FAILED];
            if again.logged_line_containing(&words).is_some() {
                break true;
            }
            if Instant::now() >= deadline || again.end_now().is_some() {
                break false;
            }
            thread::sleep(Duration::from_millis(10));
        };
        if !said {
            if again.end_now().is_some() {
                // The end is the news: see below.
                return Err(String::new());
            }
            return Err(format!(
                "Your server ran out of file descriptors and its log said nothing: {CROWD} \
                 clients connected to it, allowed at most {OPEN_FILES} open files (`ulimit -n \
                 {OPEN_FILES}`), so accept failed (EMFILE, \"{emfile}\") while some of them \
                 waited, and within {} s no line on stderr said so (none carried the error's \
                 words, or the given ones, \"{}\"). Does every error but WouldBlock still go to \
                 failures.pause_after, as in the given loop? A failure taken for \"nobody is \
                 waiting\" leaves whoever runs the server no clue why its clients wait.",
                SAYS_WITHIN.as_secs_f64(),
                crate::accept::FAILED
            ));
        }
        // The line itself is not shown: it holds the system's words, which differ between systems.
        newcomer.note("the server's log says accept failed");
        drop(crowd);
        newcomer.note(format!("the {CROWD} clients leave"));
        newcomer.connect('N')?;
        newcomer.send('N', "hello from N\n")?;
        newcomer.receive(
            'N',
            "hello from N\n",
            "Once the crowd left, the server had files to spare again, and should have taken \
             the newcomer from the queue at its next try, and served it. Does your accept loop \
             stop trying after a failure?",
        )
    })();
    for line in newcomer.transcript.lines() {
        clients.note(line.clone());
    }
    // A program that ended, out of file descriptors or once the crowd left: that is the news,
    // and what the newcomer saw its evidence.
    played.map_err(|surprise| {
        let Some(end) = again
            .end_now()
            .or_else(|| again.wait_for_end(super::verdict::END_MAY_FOLLOW))
        else {
            return surprise;
        };
        format!(
            "{}\nIt ended once it ran out of file descriptors: {CROWD} clients connected to it, \
             allowed at most {OPEN_FILES} open files, so accept failed while some of them waited. \
             A failed accept is no reason to stop serving: keep the given `Err(error) => \
             failures.pause_after(error)` arm (no `?` on accept, no return), and the clients \
             who come once others have left are served.{}",
            end.sentence(),
            if surprise.is_empty() {
                String::new()
            } else {
                format!("\n{surprise}")
            }
        )
    })
}

/// Serves the learner's server as its program would: Ctrl-C (SIGINT) or SIGTERM sends `()` on
/// its shutdown channel, and the grace period is the check's.
pub fn serve_as_program(serve: impl ServeUntilShutdown) -> ! {
    super::serve_as_program(|listener| {
        let shutdown = crate::signal::on_ctrl_c()?;
        serve(listener, shutdown, GRACE)
    })
}

/// How a client that talks through the shutdown talks: what it sends each time, how often, and
/// for how long at most.
struct Talk {
    name: char,
    every: Duration,
    piece: fn(usize) -> Vec<u8>,
    for_at_most: Duration,
}

/// What a talking client received after its first echo, and when its connection closed.
struct Talked {
    received: Vec<u8>,
    closed_at: Option<Instant>,
    /// The longest time between two of its writes before its last words came: from
    /// [`HELD_UP`] on, a read of the server's could have timed out.
    longest_gap: Duration,
}

/// A gap between two writes of K or T from which on the check's run proves nothing of them: a
/// server's read that waits one TURN (50 ms) could have timed out in it, and a server that looks
/// at the shutdown only then would have passed. Below TURN, for the time between a write and its
/// arrival.
const HELD_UP: Duration = Duration::from_millis(40);

/// How late into the grace period A's line may go out for the run to prove something of A: the
/// check sends it at half the grace, and only a check held up (a very busy machine) sends it
/// this late, when a right server's deadline may pass before the line is read.
const A_SENT_LATE: Duration = Duration::from_millis(450);

/// How many times in all the check plays, at most, while its own clients are held up (a very
/// busy machine): each time a fresh program, and the last run's verdict stands.
const PLAYS: usize = 3;

/// A client that talks all through the shutdown: connects, and is served a first line (so the
/// server surely knows it); then, on a thread of its own, sends `talk.piece(N)` every
/// `talk.every` and reads what comes back, until the server has said its last words (the
/// goodbye or the cut-off) and closed, or `talk.for_at_most` has passed (it starts just before
/// the shutdown).
fn talk_through_the_shutdown(
    address: SocketAddr,
    talk: Talk,
) -> std::io::Result<thread::JoinHandle<Talked>> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect_timeout(&address, PATIENCE)?;
    stream.set_read_timeout(Some(PATIENCE))?;
    let hello = format!("hello from {}\n", talk.name);
    // The first piece goes in the same write as the hello, so the read that brings the hello
    // brings it too: once the hello is echoed, the server surely holds the first piece, and a
    // client that never ends its line is mid-line when the shutdown comes, not idle.
    let mut first_write = hello.clone().into_bytes();
    first_write.extend_from_slice(&(talk.piece)(0));
    stream.write_all(&first_write)?;
    let mut first = vec![0; hello.len()];
    stream.read_exact(&mut first)?;
    if first != hello.as_bytes() {
        return Err(std::io::Error::other("the first line was not echoed"));
    }
    Ok(thread::spawn(move || {
        let until = Instant::now() + talk.for_at_most;
        let mut received = Vec::new();
        let mut last_write = Instant::now();
        let mut longest_gap = Duration::ZERO;
        let mut buffer = [0; 4096];
        let last_words = |received: &[u8]| {
            [GOODBYE, CUT_OFF].iter().any(|words| {
                received
                    .windows(words.len())
                    .any(|window| window == words.as_bytes())
            })
        };
        for number in 1.. {
            if last_words(&received) {
                break;
            }
            if Instant::now() >= until {
                // No last words while it talked: what a server says once the client falls
                // silent is another matter. Leaving closes the connection.
                return Talked {
                    received,
                    closed_at: None,
                    longest_gap,
                };
            }
            longest_gap = longest_gap.max(last_write.elapsed());
            last_write = Instant::now();
            // After the last words the server may be gone: a failed write is no news here.
            let _ = stream.write_all(&(talk.piece)(number));
            let next = Instant::now() + talk.every;
            while let Some(left) = next.checked_duration_since(Instant::now()) {
                if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
                    break;
                }
                match stream.read(&mut buffer) {
                    Ok(0) => {
                        return Talked {
                            received,
                            closed_at: Some(Instant::now()),
                            longest_gap,
                        };
                    }
                    Ok(count) => received.extend_from_slice(&buffer[..count]),
                    Err(error) if error.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        // The close that follows the last words.
        let _ = stream.set_read_timeout(Some(PATIENCE));
        while let Ok(count) = stream.read(&mut buffer) {
            if count == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..count]);
        }
        Talked {
            received,
            closed_at: Some(Instant::now()),
            longest_gap,
        }
    }))
}

/// The check's run, once. `proven` is cleared where K's goodbye or T's cut-off came after the
/// check's own client was held up (see [`HELD_UP`]): then the run proves nothing of them.
fn steps(
    clients: &mut Clients,
    program: &mut Program,
    end_judged: &mut bool,
    proven: &mut bool,
) -> Result<(), String> {
    let address = program.address();
    let plain = |surprise: String| surprise;
    // Three clients, each served before the shutdown, so the server surely knows them.
    for name in ['A', 'B', 'D'] {
        clients.connect(name).map_err(plain)?;
        let line = format!("hello from {name}\n");
        clients.send(name, &line).map_err(plain)?;
        clients
            .receive(
                name,
                &line,
                "before any shutdown, the server should echo every line, as lesson 08's does.",
            )
            .map_err(plain)?;
    }
    // A and D each send a whole line and the start of the next in one write, and wait for the
    // whole line's echo: by then the server has surely read the start of the next line too (it
    // came in the same read), so A and D are mid-line when the shutdown comes, not idle.
    for (name, half) in [('A', "half a "), ('D', "never fin")] {
        clients
            .send(name, &format!("one more\n{half}"))
            .map_err(plain)?;
        clients
            .receive(
                name,
                "one more\n",
                "before any shutdown, the server should echo every line, as lesson 08's does.",
            )
            .map_err(plain)?;
    }

    // E sends a whole line and then last words with no line end, and closes its side. This
    // server echoes whole lines (the given echo_lines): the last words never became one.
    clients.connect('E').map_err(plain)?;
    clients.send('E', "whole line\nlast words").map_err(plain)?;
    clients.half_close('E');
    clients
        .receive(
            'E',
            "whole line\n",
            "before any shutdown, the server should echo every line, as lesson 08's does.",
        )
        .map_err(plain)?;
    let (heard, ending) = clients.read_to_close('E', PATIENCE);
    if !heard.is_empty() || !matches!(ending, Ending::Closed) {
        let what = live::describe_arrival(&heard, &ending);
        clients.note(format!("E {what}"));
        return Err(format!(
            "Client E sent \"whole line\\nlast words\" and closed its sending side, and after \
             the echo of its line {what}, where only the close was expected. This server echoes \
             whole lines (the given echo_lines): \"last words\" never became one, so it is \
             dropped when the client leaves."
        ));
    }
    clients.note("E sees the server close the connection");

    if let Some(end) = program.end_now() {
        // Before the shutdown, the program's end is the generic verdict's to name.
        let _ = end;
        return Err("The program ended before the check asked it to shut down.".to_string());
    }
    // K talks all through the shutdown, a whole line every CHAT_EVERY: it is between two lines
    // after each echo, where it must be told goodbye, though no read of its ever times out.
    let not_served = |name: char| {
        move |error: std::io::Error| {
            format!(
                "Client {name} connected and sent \"hello from {name}\\n\", and did not get its \
                 echo ({}): before any shutdown, the server should echo every line, as lesson \
                 08's does.",
                describe_error(&error)
            )
        }
    };
    let chatting = talk_through_the_shutdown(
        address,
        Talk {
            name: 'K',
            every: CHAT_EVERY,
            piece: |number| format!("chat {number}\n").into_bytes(),
            for_at_most: CHAT_FOR,
        },
    )
    .map_err(not_served('K'))?;
    clients.note(format!(
        "K connects, sends \"hello from K\\nchat 0\\n\", is echoed \"hello from K\\n\", and \
         sends a line every {} ms from now on",
        CHAT_EVERY.as_millis()
    ));
    // T sends a line a byte at a time and never ends it: no read of its times out either, and it
    // must be cut off once the grace period is over, like D.
    let trickling = talk_through_the_shutdown(
        address,
        Talk {
            name: 'T',
            every: TRICKLE_EVERY,
            piece: |_| b"x".to_vec(),
            for_at_most: TRICKLE_FOR,
        },
    )
    .map_err(not_served('T'))?;
    clients.note(format!(
        "T connects, sends \"hello from T\\nx\", is echoed \"hello from T\\n\", and from now on \
         sends one more byte of that line every {} ms, never ending it",
        TRICKLE_EVERY.as_millis()
    ));
    // D's cut-off is timed as it arrives, on a thread of its own: read only when the check gets
    // to D, after A and K, it would be timed by the check's own pace, and come late enough to
    // pass when it came early.
    let d_within = GRACE + PATIENCE;
    let mut d = clients.take('D');
    let watching_d = thread::spawn(move || {
        let (heard, ending) = d.read_at_most(usize::MAX, d_within);
        (heard, ending, Instant::now())
    });
    // The moment before Ctrl-C: no server can start its grace period earlier. Taken after it,
    // a check held up for a moment would find a right server's cut-off early.
    let shutdown_at = Instant::now();
    program.interrupt().map_err(|problem| {
        format!("The check could not ask your program to shut down: {problem}.")
    })?;
    *end_judged = true;
    clients.note(format!(
        "the check presses Ctrl-C: the shutdown channel receives () (grace {} ms)",
        GRACE.as_millis()
    ));

    newcomer_is_refused(clients, address).map_err(plain)?;
    clients
        .receive(
            'B',
            GOODBYE,
            "B was connected and idle when the shutdown came. Do your client threads look at \
             the shutdown between reads? An idle client never sends the byte that would wake a \
             blocked read: read with a timeout (one TURN), and look at the Stop each time it \
             expires.",
        )
        .map_err(plain)?;
    expect_close(clients, 'B').map_err(plain)?;

    // Half-way through the grace period: long enough for any server to have noticed the
    // shutdown (and, if it is wrong, said goodbye mid-line), and well within the deadline.
    // A finishes its line and, in the same write, starts the next: that start is in flight too.
    thread::sleep((shutdown_at + GRACE / 2).saturating_duration_since(Instant::now()));
    clients.send('A', "line\nsecond hal").map_err(plain)?;
    let a_sent_after = shutdown_at.elapsed();
    clients.note(format!(
        "(that was {} ms into the grace period)",
        (GRACE / 2).as_millis()
    ));
    let a_finishes = |clients: &mut Clients| -> Result<(), String> {
        clients
            .receive(
                'A',
                "half a line\n",
                "A had sent half a line when the shutdown came, and finished it within the grace \
                 period: it should get its echo, and then the goodbye. Say goodbye only between two \
                 lines, when nothing has been received of the next one.",
            )
            .map_err(plain)?;
        clients.send('A', "f line\n").map_err(plain)?;
        let finished = format!("second half line\n{GOODBYE}");
        clients
            .receive(
                'A',
                &finished,
                "A's last write finished its line and started the next (\"line\\nsecond hal\"), \
                 and one read brought both: the start of the next line was in flight too, though \
                 not yet in your line, but still in the reader's buffer (BufReader::buffer()). Say \
                 goodbye only when nothing of the next line has come, in either place.",
            )
            .map_err(plain)?;
        expect_close(clients, 'A').map_err(plain)
    };
    match a_finishes(clients) {
        Ok(()) => {}
        // The check's own thread was held up (a very busy machine), and A's line went out so
        // late that a right server's deadline may have passed before it came. The check is then
        // behind the server's grace period, so what it reads from here on proves nothing
        // either: the run ends here, and the check plays again, as when K or T is held up.
        Err(_) if a_sent_after >= A_SENT_LATE => {
            *proven = false;
            clients.note(format!(
                "(A's line went out {} ms into the grace period, held up: this run proves \
                 nothing from here on)",
                a_sent_after.as_millis()
            ));
            return Ok(());
        }
        Err(surprise) => return Err(surprise),
    }

    // K, talking all along, must have been told goodbye between two of its lines.
    let (chatted, chat_gap) = chatting
        .join()
        .map(|talked| (talked.received, talked.longest_gap))
        .unwrap_or_default();
    let goodbye_at = chatted
        .windows(GOODBYE.len())
        .position(|w| w == GOODBYE.as_bytes());
    let echoes_only = |bytes: &[u8]| {
        bytes
            .split_inclusive(|&byte| byte == b'\n')
            .all(|line| line.starts_with(b"chat ") && line.ends_with(b"\n"))
    };
    match goodbye_at {
        Some(at) if echoes_only(&chatted[..at]) && chatted.len() == at + GOODBYE.len() => {
            *proven &= chat_gap < HELD_UP;
            clients.note(format!(
                "K receives the echoes of its lines, then {}, then the close",
                super::peer::show(GOODBYE.as_bytes())
            ));
        }
        Some(_) => {
            clients.note(format!("K receives {}", super::peer::show_short(&chatted)));
            return Err(format!(
                "Client K, which sent a whole line every {} ms, received something other than \
                 the echoes of its lines and then {} once: say goodbye once, between two lines, \
                 and close.",
                CHAT_EVERY.as_millis(),
                super::peer::show(GOODBYE.as_bytes())
            ));
        }
        None if !chatted.is_empty() && echoes_only(&chatted) => {
            clients.note(format!(
                "K, talking all along, hears only its echoes: no goodbye within {} ms",
                CHAT_FOR.as_millis()
            ));
            // K's news is what it did not hear; the program's end that may follow is not.
            clients.wrong_words = true;
            return Err(format!(
                "Client K sent a whole line every {} ms all through the shutdown, and got their \
                 echoes, but no goodbye within {} ms, though it was between two lines after each \
                 one: do your client threads look at the shutdown only when a read times out? \
                 A client that keeps talking never lets a read time out: look at the Stop after \
                 every line as well.",
                CHAT_EVERY.as_millis(),
                CHAT_FOR.as_millis()
            ));
        }
        None => {
            clients.note(format!("K receives {}", super::peer::show_short(&chatted)));
            return Err(format!(
                "Client K, served before the shutdown, sent a whole line every {} ms through it, \
                 and received {} where the echoes of its lines and then {} were expected.",
                CHAT_EVERY.as_millis(),
                super::peer::show_short(&chatted),
                super::peer::show(GOODBYE.as_bytes())
            ));
        }
    }

    // D is still connected, mid-line, until the deadline: the program must not have ended.
    if let Some(end) = program.end_now() {
        return Err(format!(
            "{}\nClient D was still connected, mid-line, waiting out the grace period.",
            ended_early(clients, &end)
        ));
    }

    let within = d_within;
    let (heard, ending, ended_at) = watching_d
        .join()
        .expect("D's watch ends by itself, within its time");
    let what = live::describe_arrival(&heard, &ending);
    if !(heard == CUT_OFF.as_bytes() && matches!(ending, Ending::Closed)) {
        clients.remember_arrival(&heard, CUT_OFF.as_bytes());
        clients.note(format!("D {what}"));
        return Err(plain(format!(
            "Client D {what} where {} and then the close were expected within {} ms of the \
             shutdown: D sent half a line and nothing more. Once the deadline (now + grace) \
             has passed, a client still mid-line is told CUT_OFF and closed, or the shutdown \
             would wait for it for ever.",
            super::peer::show(CUT_OFF.as_bytes()),
            within.as_millis()
        )));
    }
    if ended_at < shutdown_at + GRACE {
        clients.note(format!("D {what}, before the grace period is over"));
        // The server cut D off itself: that is the news, not the program's end that follows.
        clients.wrong_words = true;
        // (How early is left out: on a busy machine that figure varies from run to run.)
        return Err(plain(format!(
            "Client D {what} before the grace period of {} ms after the shutdown was over: \
             give a line in flight the whole grace period to arrive.",
            GRACE.as_millis()
        )));
    }
    clients.note(format!("D {what}, once the grace period is over"));

    // T, whose line never ended though its bytes kept coming, must have been cut off too.
    let trickled = trickling.join().unwrap_or(Talked {
        received: Vec::new(),
        closed_at: None,
        longest_gap: Duration::ZERO,
    });
    match trickled.closed_at {
        Some(at) if trickled.received == CUT_OFF.as_bytes() && at >= shutdown_at + GRACE => {
            *proven &= trickled.longest_gap < HELD_UP;
            clients.note(format!(
                "T receives {}, then the connection closes, once the grace period is over",
                super::peer::show(CUT_OFF.as_bytes())
            ));
        }
        Some(_) if trickled.received == CUT_OFF.as_bytes() => {
            clients.note("T is cut off before the grace period is over");
            // As for D: the early cut-off is the news, not the program's end after it.
            clients.wrong_words = true;
            return Err(format!(
                "Client T, mid-line, was cut off before the grace period of {} ms after the \
                 shutdown was over: give a line in flight the whole grace period.",
                GRACE.as_millis()
            ));
        }
        None if trickled.received.is_empty() => {
            clients.note(format!(
                "T, sending a byte every {} ms, hears nothing and is not cut off within {} ms",
                TRICKLE_EVERY.as_millis(),
                TRICKLE_FOR.as_millis()
            ));
            clients.wrong_words = true;
            return Err(format!(
                "Client T sent its line a byte every {} ms and never ended it, so no read of its \
                 ever waited a whole TURN, and it was not cut off within {} ms, though the grace \
                 period was {} ms: does your thread look at the deadline only when a line ends or \
                 a read times out (read_until reads on until the `\\n`)? Read once per turn \
                 (read_line_piece), and look at the deadline after every read.",
                TRICKLE_EVERY.as_millis(),
                TRICKLE_FOR.as_millis(),
                GRACE.as_millis()
            ));
        }
        _ => {
            clients.note(format!(
                "T receives {}",
                super::peer::show_short(&trickled.received)
            ));
            return Err(format!(
                "Client T, mid-line when the shutdown came, received {} where {} and then the \
                 close were expected once the grace period was over.",
                super::peer::show_short(&trickled.received),
                super::peer::show(CUT_OFF.as_bytes())
            ));
        }
    }

    match program.wait_for_end(ENDS_WITHIN).map(clean_end) {
        Some(Ok(how)) => {
            clients.note(format!("the program ends: {how}"));
            Ok(())
        }
        Some(Err(end)) => {
            clients.note("the program ends, but serve() did not return Ok(())");
            Err(format!(
                "{}\nThe shutdown went well, but serve() did not return Ok(()).\n{}",
                end.sentence(),
                end.advice()
            ))
        }
        None => {
            clients.note(format!(
                "the program has not ended {} s after every client was closed",
                ENDS_WITHIN.as_secs()
            ));
            // What the program did not do is the news, not an end that may come later.
            clients.wrong_words = true;
            Err(
                "Every client was closed, but serve() did not return: does it wait for \
                 something that never ends, such as a thread it did not tell to stop?"
                    .to_string(),
            )
        }
    }
}

/// How a program that stopped as asked ended, for the transcript, or the end itself if it did
/// not: the exercise's `serve` returned `Ok(())`, or a program in another language, started with
/// `--command`, exited with status 0, which is how such a program says the same.
fn clean_end(end: End) -> Result<&'static str, End> {
    match end {
        End::Returned => Ok("serve() returned Ok(())"),
        End::Ended(0) => Ok("it exited with status 0"),
        other => Err(other),
    }
}

/// The other way to say stop: the program started again, and this time Ctrl-C drops the shutdown
/// channel's sender instead of sending `()`. `recv` then says the channel is disconnected, and
/// the task says that means stop too. (Only where the check starts the program itself.)
fn dropped_sender(program: &Program, clients: &mut Clients) -> Result<(), String> {
    let why = "so that Ctrl-C drops the shutdown channel's sender instead of sending ()";
    play_again(
        program,
        clients,
        &[(SHUTDOWN_BY_VARIABLE, "drop")],
        why,
        dropped_sender_once,
    )
    .map(|_| ())
}

/// [`dropped_sender`]'s client Z, against the program started for it.
fn dropped_sender_once(again: &mut Program, z: &mut Clients) -> Result<(), String> {
    z.connect('Z')?;
    z.send('Z', "hello from Z\n")?;
    z.receive(
        'Z',
        "hello from Z\n",
        "before any shutdown, the server should echo every line, as lesson 08's does.",
    )?;
    again.interrupt().map_err(|problem| {
        format!("The check could not ask your program to shut down: {problem}.")
    })?;
    z.note("the check presses Ctrl-C: the shutdown channel's sender is dropped");
    z.receive(
        'Z',
        GOODBYE,
        "The shutdown channel's sender was dropped, and that means stop too (\"or its \
         sender is dropped\"): recv_timeout then says RecvTimeoutError::Disconnected, at \
         once and every time after. Does your accept loop take only Ok(()) for a stop? A \
         loop that goes on after Disconnected never stops, and spins.",
    )?;
    expect_close(z, 'Z')?;
    match again.wait_for_end(PATIENCE).map(clean_end) {
        Some(Ok(how)) => {
            z.note(format!("the program ends: {how}"));
            Ok(())
        }
        Some(Err(end)) => Err(format!(
            "{}\nStopped by a dropped sender, serve() did not return Ok(()).\n{}",
            end.sentence(),
            end.advice()
        )),
        None => Err(
            "Stopped by a dropped sender, the server said goodbye to its client, but serve() \
             did not return: a dropped sender means stop, as () does."
                .to_string(),
        ),
    }
}

/// How long client S's line is: far past every buffer between the two ends (a few MiB on
/// loopback), so that its echo, read slowly, is still being written long after the deadline.
const SLOW_LINE: usize = 16 << 20;
/// How much of its echo S reads at a time, and how often: about 160 KB a second, at which the
/// echo of [`SLOW_LINE`] would take well over a minute.
const SLOW_PIECE: usize = 16 << 10;
const SLOW_EVERY: Duration = Duration::from_millis(100);

/// A client that reads its echo slowly: the program started again, S sends a line of
/// [`SLOW_LINE`] bytes without its end; Ctrl-C; S ends the line and reads the echo a little at a
/// time. Each of the server's writes then makes a little progress, so no write timeout ever runs
/// out: a `write_all` goes on for as long as S reads, and the server must still end soon after
/// its deadline. (Only where the check starts the program.)
fn slow_reader(program: &Program, clients: &mut Clients) -> Result<(), String> {
    // A run in which the check was held up (a very busy machine) until S's line end went out
    // late in the grace period proves nothing: even a plain write_all would then hardly begin
    // the echo before the deadline. Play again, with the program started afresh, a few times.
    for _ in 0..PLAYS {
        let held_up = play_again(
            program,
            clients,
            &[],
            "for clients I and S",
            slow_reader_once,
        )?;
        if held_up != Some(true) {
            break;
        }
    }
    Ok(())
}

/// One run of [`slow_reader`]: whether the check was held up, so that it proves nothing.
fn slow_reader_once(again: &mut Program, these: &mut Clients) -> Result<bool, String> {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    let before = "before any shutdown, the server should echo every line, as lesson 08's does.";
    // I is idle: its goodbye shows that the server has begun its shutdown, deadline set.
    for name in ['I', 'S'] {
        these.connect(name)?;
        let hello = format!("hello from {name}\n");
        these.send(name, &hello)?;
        these.receive(name, &hello, before)?;
    }
    let mut stream = these.take('S').stream;
    stream.write_all(&vec![b'x'; SLOW_LINE]).map_err(|error| {
        format!(
            "Client S sent a line of {} MiB without its end, and could not ({}): before any \
             shutdown, the server should read every byte, as lesson 08's does.",
            SLOW_LINE >> 20,
            describe_error(&error)
        )
    })?;
    these.note(format!(
        "S sends a line of {} MiB without its end",
        SLOW_LINE >> 20
    ));
    let shutdown_at = Instant::now();
    again.interrupt().map_err(|problem| {
        format!("The check could not ask your program to shut down: {problem}.")
    })?;
    these.note("the check presses Ctrl-C");
    these.receive(
        'I',
        GOODBYE,
        "I was connected and idle when the shutdown came, as B was.",
    )?;
    expect_close(these, 'I')?;
    // Only now does S end its line: the server's shutdown has begun, so the whole echo is
    // written after its deadline was set.
    let _ = stream.write_all(b"\n");
    let held_up = shutdown_at.elapsed() >= GRACE / 2;
    these.note(format!(
        "S ends its line and reads its echo, {} KiB every {} ms",
        SLOW_PIECE >> 10,
        SLOW_EVERY.as_millis()
    ));
    let reading = AtomicBool::new(true);
    let ends_by = GRACE + ENDS_WITHIN;
    let end = thread::scope(|scope| {
        scope.spawn(|| {
            let mut piece = vec![0; SLOW_PIECE];
            while reading.load(Ordering::Relaxed) && shutdown_at.elapsed() < ends_by + PATIENCE {
                if !matches!(stream.read(&mut piece), Ok(count) if count > 0) {
                    break;
                }
                thread::sleep(SLOW_EVERY);
            }
        });
        let end = again.wait_for_end(ends_by.saturating_sub(shutdown_at.elapsed()));
        reading.store(false, Ordering::Relaxed);
        end
    });
    match end.map(clean_end) {
        Some(Ok(_)) if held_up => {
            these.note(
                "(S's line end went out late in the grace period, held up: this run proves \
                 nothing of a slow reader, and is played again)",
            );
            Ok(true)
        }
        Some(Ok(how)) => {
            these.note(format!(
                "the program ends soon after the grace period: {how}"
            ));
            Ok(false)
        }
        Some(Err(end)) => Err(format!(
            "{}\nWith client S reading its echo slowly, serve() did not return Ok(()).\n{}",
            end.sentence(),
            end.advice()
        )),
        None => {
            these.note(format!(
                "S reads its echo all along, and the program has not ended {} s after the \
                 shutdown",
                ends_by.as_secs_f64()
            ));
            Err(format!(
                "Client S sent a line of {} MiB, ended it once the shutdown had begun, and read \
                 its echo {} KiB every {} ms: {} s after the shutdown, with a grace period of {} \
                 ms, serve() had not returned. Is the echo a plain write_all? A client that \
                 reads slowly lets every write make a little progress, so no write timeout runs \
                 out, and write_all goes on for as long as the client reads: keep the given \
                 BeforeDeadline, which gives each write only the time left.",
                SLOW_LINE >> 20,
                SLOW_PIECE >> 10,
                SLOW_EVERY.as_millis(),
                ends_by.as_secs_f64(),
                GRACE.as_millis()
            ))
        }
    }
}

/// Plays `steps`, with clients of their own, against the program started again with `env` (only
/// where the check started it, else `None`; `why` says what for): their transcript goes into
/// `clients`, and a program that ended while they waited is named before the surprise.
fn play_again<T>(
    program: &Program,
    clients: &mut Clients,
    env: &[(&str, &str)],
    why: &str,
    steps: impl FnOnce(&mut Program, &mut Clients) -> Result<T, String>,
) -> Result<Option<T>, String> {
    let Some(again) = program.start_again_with(LOOPBACK, env) else {
        return Ok(None);
    };
    clients.note(format!("(the program is started again, {why})"));
    let mut again = again.map_err(|problem| {
        format!(
            "Your program, started again {why}, did not start: {}",
            problem.sentence
        )
    })?;
    let mut these = Clients::new(again.address());
    let played = steps(&mut again, &mut these);
    for line in these.transcript.lines() {
        clients.note(line.clone());
    }
    played.map(Some).map_err(|surprise| match again.end_now() {
        Some(end) if !surprise.contains("serve() did not return") => {
            format!("{}\n{surprise}", end.sentence())
        }
        _ => surprise,
    })
}

/// The first sentence and advice on a program that ended before its clients were done.
fn ended_early(clients: &mut Clients, end: &End) -> String {
    clients.note("the program has ended, before every client was done");
    let how = match end {
        End::Returned => "Your serve() returned before every client was done: the program \
                          ended, and every thread with it."
            .to_string(),
        other => other.sentence(),
    };
    format!(
        "{how}\nEnding the program (returning from serve(), or std::process::exit) ends every \
         client's thread with it, mid-sentence: join every client thread, then return from \
         serve()."
    )
}

/// After the shutdown, a newcomer must be refused: the listener must be closed. The server may
/// take a moment to notice the shutdown, so the check tries for a while.
fn newcomer_is_refused(clients: &mut Clients, address: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + REFUSED_WITHIN;
    loop {
        match TcpStream::connect_timeout(&address, PATIENCE) {
            Err(error) => {
                // A closed listener: the system refuses the attempt, or resets one that was on
                // its way in as the listener closed. Both say "nobody listens here", and the
                // transcript says it the same way, whichever came.
                let how = match error.kind() {
                    ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset => {
                        "the connection is refused".to_string()
                    }
                    _ => describe_error(&error),
                };
                clients.note(format!("C cannot connect: {how}"));
                return Ok(());
            }
            Ok(_accepted) if Instant::now() > deadline => {
                let within = REFUSED_WITHIN.as_millis();
                clients.note(format!(
                    "C can still connect {within} ms after the shutdown"
                ));
                return Err(format!(
                    "Client C could still connect {within} ms after the shutdown, where it \
                     should be refused: does your accept loop stop when `shutdown` receives, \
                     and close the listener (drop it) at once? Until it is closed, the system \
                     keeps accepting connections for you, into the backlog."
                ));
            }
            Ok(_accepted) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn expect_close(clients: &mut Clients, name: char) -> Result<(), String> {
    let (heard, ending) = clients.read_to_close(name, PATIENCE);
    match (heard.is_empty(), &ending) {
        (true, Ending::Closed) => {
            clients.note(format!("{name} sees the server close the connection"));
            Ok(())
        }
        _ => {
            let what = live::describe_arrival(&heard, &ending);
            clients.note(format!("{name} {what}"));
            Err(format!(
                "Client {name} {what}, where the server should close the connection after the \
                 goodbye."
            ))
        }
    }
}
