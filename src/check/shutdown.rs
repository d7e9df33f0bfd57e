//! The check for exercise 08: a graceful shutdown, triggered in-process through the `shutdown`
//! channel the learner's `serve` is given, the way mini-redis passes its servers a shutdown
//! signal.
//!
//! Before the shutdown, client A has sent half a line, B is idle, and D has sent half a line it
//! will never finish. Then the check sends `()` on the channel and judges what each one hears: a
//! newcomer (C) must be refused; B must hear the goodbye; A, finishing its line, must get its
//! echo and then the goodbye; D must be cut off once the grace period is over; and `serve` must
//! return `Ok(())`, but only after every connection is closed.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::live::{self, Clients, Ending, PATIENCE, ServerEnd};
use super::peer::describe_error;
use super::{Exercise, Failure, Transcript, panics};

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
/// How soon after the shutdown a newcomer must be refused. A server that looks at the shutdown
/// every 50 ms, as lesson 08's does, refuses within 50 ms.
const REFUSED_WITHIN: Duration = Duration::from_millis(300);

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

/// Runs the check on the learner's `serve`: the transcript if all went as expected.
pub fn run(serve: impl ServeUntilShutdown) -> Result<Transcript, Failure> {
    run_as("08_shutdown.rs", serve)
}

/// Like [`run`], for an answer kept in another file than the exercise's (see `Script::run_as`).
pub fn run_as(answer_file: &str, serve: impl ServeUntilShutdown) -> Result<Transcript, Failure> {
    let panics = panics::Recording::start(answer_file);
    let listener = TcpListener::bind("127.0.0.1:0")
        .expect("the check needs a free loopback port: is the network stack usable?");
    let address = listener
        .local_addr()
        .expect("a bound listener has an address");
    let (signal, shutdown) = crossbeam_channel::bounded(1);
    let server_end =
        live::start_server("exercise server", move || serve(listener, shutdown, GRACE));
    let mut clients = Clients::new(address);
    let outcome = steps(&mut clients, address, &signal, &server_end);
    let panics = panics.panics();
    match outcome {
        Ok(()) if panics.is_empty() => Ok(clients.transcript),
        Ok(()) => Err(live::failure(
            EXERCISE,
            "Every client heard what it should, but the server did not stay healthy.".into(),
            clients.transcript,
            None,
            &panics,
        )),
        Err((surprise, end)) => {
            // After the shutdown, serve() is meant to return Ok(()): only say how it ended when
            // that is news (an error, a panic, or a return before the shutdown came).
            let shut_down = clients
                .transcript
                .lines()
                .iter()
                .any(|line| line.starts_with("the check sends () on the shutdown channel"));
            let end = end.or_else(|| {
                server_end
                    .recv_timeout(Duration::from_millis(100))
                    .ok()
                    .filter(|end| !(shut_down && matches!(end, ServerEnd::Returned(Ok(())))))
            });
            Err(live::failure(
                EXERCISE,
                surprise,
                clients.transcript,
                end,
                &panics,
            ))
        }
    }
}

/// Checks a learner's server, panicking with a readable failure. Never writes a file.
pub fn check_exercise(serve: impl ServeUntilShutdown) {
    super::announce_the_servers_log();
    if let Err(failure) = run(serve) {
        super::give_verdict(&failure);
    }
}

/// Checks the reference solution, and its transcript against the snapshot through insta.
pub fn check_solution(serve: impl ServeUntilShutdown) {
    match run(serve) {
        Ok(transcript) => super::assert_matches_snapshot(EXERCISE.id, &transcript),
        Err(failure) => panic!("\n\nthe reference solution fails its own check:\n{failure}\n"),
    }
}

type Surprise = (String, Option<ServerEnd>);

fn steps(
    clients: &mut Clients,
    address: SocketAddr,
    signal: &Sender<()>,
    server_end: &Receiver<ServerEnd>,
) -> Result<(), Surprise> {
    let plain = |surprise: String| (surprise, None);
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

    let _ = signal.send(());
    let shutdown_at = Instant::now();
    clients.note(format!(
        "the check sends () on the shutdown channel (grace {} ms)",
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
    thread::sleep((shutdown_at + GRACE / 2).saturating_duration_since(Instant::now()));
    clients.send('A', "line\n").map_err(plain)?;
    clients.note(format!(
        "(that was {} ms into the grace period)",
        (GRACE / 2).as_millis()
    ));
    let finished = format!("half a line\n{GOODBYE}");
    clients
        .receive(
            'A',
            &finished,
            "A had sent half a line when the shutdown came, and finished it within the grace \
             period: it should get its echo, and then the goodbye. Say goodbye only between two \
             lines, when nothing has been received of the next one.",
        )
        .map_err(plain)?;
    expect_close(clients, 'A').map_err(plain)?;

    // D is still connected, mid-line, until the deadline: serve() must not have returned.
    if let Ok(end) = server_end.try_recv() {
        clients.note("serve() has returned while D is still connected");
        return Err((
            "Your serve() returned while client D was still connected, waiting out the grace \
             period. In a program, returning from serve() ends main, and every thread with it, \
             mid-sentence: join every client thread before returning."
                .to_string(),
            Some(end),
        ));
    }

    let within = GRACE + PATIENCE / 2;
    let (heard, ending) = clients.read_to_close('D', within);
    let what = live::describe_arrival(&heard, &ending);
    if !(heard == CUT_OFF.as_bytes() && matches!(ending, Ending::Closed)) {
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
    if shutdown_at.elapsed() < GRACE {
        clients.note(format!("D {what}, before the grace period is over"));
        return Err(plain(format!(
            "Client D {what} only {} ms after the shutdown, before the grace period of {} ms \
             was over: give a line in flight the whole grace period to arrive.",
            shutdown_at.elapsed().as_millis(),
            GRACE.as_millis()
        )));
    }
    clients.note(format!("D {what}, once the grace period is over"));

    match server_end.recv_timeout(PATIENCE) {
        Ok(ServerEnd::Returned(Ok(()))) => {
            clients.note("serve() returns Ok(())");
            Ok(())
        }
        Ok(end) => {
            clients.note("serve() ends, but not with Ok(())");
            Err((
                "The shutdown went well, but serve() did not return Ok(()).".to_string(),
                Some(end),
            ))
        }
        Err(_) => {
            clients.note(format!(
                "serve() has not returned {} s after every client was closed",
                PATIENCE.as_secs()
            ));
            Err(plain(
                "Every client was closed, but serve() did not return: does it wait for \
                 something that never ends, such as a thread it did not tell to stop?"
                    .to_string(),
            ))
        }
    }
}

/// After the shutdown, a newcomer must be refused: the listener must be closed. The server may
/// take a moment to notice the shutdown, so the check tries for a while.
fn newcomer_is_refused(clients: &mut Clients, address: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + REFUSED_WITHIN;
    loop {
        match TcpStream::connect_timeout(&address, PATIENCE) {
            Err(error) => {
                clients.note(format!("C cannot connect: {}", describe_error(&error)));
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
