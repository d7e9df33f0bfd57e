//! The check for exercise 13: a TLS client that checks who it talks to.
//!
//! Here the learner writes the client's `connect`, so the check plays the servers: TLS echo
//! servers on loopback, each showing a certificate made for the check, and one server that
//! says nothing. `connect` must hand back a working connection to the server it was told to trust, and
//! an error for every other: that is the whole point of a certificate. (This check lives beside
//! lesson 13 rather than in the course library, which never compiles the TLS crates.)
//!
//! # The input space, and what covers it
//!
//! - Whom the client reaches: a server whose certificate the given authority signed, by name
//!   (`localhost`) and by address (`127.0.0.1`); then one signed by another authority with the
//!   same names, one for another name, one for the address only reached by the name (a client
//!   that checks the address it connected to, not the name, accepts it), one that expired in
//!   2020: each must be refused.
//! - The connection returned: its socket must keep a read and a write timeout (no round can make
//!   a write wait, so the check asks the socket).
//! - Silence: a server that accepts and never answers, and one whose queue of waiting
//!   connections is full, so the connection is never made (on Linux and macOS; Windows refuses
//!   it, after about 2 s of its client's tries, so there the round cannot tell: see
//!   `course::check::full_queue`): `connect` must give up after `timeout`, in both.
//! - What the connection carries: a line sent through it must come back (the handshake really
//!   happened, in TLS).
//! - A function that panics, exits or aborts: named (it runs in a child process of the check).
//! - Not covered: an authority file that does not exist, revoked certificates, TLS versions.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use course::check::full_queue::FullQueue;
use course::check::{Exercise, Failure, Outcome, Transcript};
use rustls::{ClientConnection, ServerConfig, ServerConnection, StreamOwned};

use crate::certificates::{self, Validity};

pub const EXERCISE: Exercise = Exercise {
    id: "13_tls_client",
    title: "the TLS client that checks who it talks to",
    chapter: "book/src/13-tls.md",
};

/// The `timeout` `connect` is given.
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// How long one call of `connect` may take before the check gives up on it.
const CALL_LIMIT: Duration = Duration::from_secs(2);

/// What the learner's `connect` returns.
pub type Connection = StreamOwned<ClientConnection, TcpStream>;

/// What the learner writes: `connect(server, name, authority, timeout)`.
pub trait Connect:
    Fn(SocketAddr, &str, &Path, Duration) -> anyhow::Result<Connection> + Send + Sync + 'static
{
}
impl<F> Connect for F where
    F: Fn(SocketAddr, &str, &Path, Duration) -> anyhow::Result<Connection> + Send + Sync + 'static
{
}

/// One round: a server, how the client is told to reach it, and whether it must be reached.
struct Round {
    /// What the transcript says the server is.
    server: &'static str,
    /// The folder whose server certificate the server shows; `None` for a server that says
    /// nothing at all.
    shows: Option<PathBuf>,
    /// Whether the server's queue of waiting connections is full, so that the connection is
    /// never made at all ([`course::check::full_queue`]).
    queue_full: bool,
    /// The folder whose authority the client is told to trust.
    trusts: PathBuf,
    name: &'static str,
    /// Whether `connect` must succeed.
    reachable: bool,
    /// What it likely means when `connect` does the other thing.
    if_wrong: &'static str,
}

/// Checks a learner's `connect` in a child process (see `course::check::check_client_exercise`).
pub fn check_exercise(connect: impl Connect) {
    course::check::check_client_exercise(EXERCISE, || run(connect));
}

/// Checks the reference solution in a child process, and its transcript against the snapshot.
pub fn check_solution(connect: impl Connect) {
    course::check::check_client_solution(EXERCISE, || run(connect));
}

/// Runs the check: the transcript if `connect` trusted exactly what it should.
pub fn run(connect: impl Connect) -> Outcome {
    let folder = std::env::temp_dir().join(format!(
        "exercise-13-check-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    let rounds = match make_rounds(&folder) {
        Ok(rounds) => rounds,
        Err(error) => panic!("the check could not make its certificates: {error:#}"),
    };
    let connect = Arc::new(connect);
    let mut transcript = Transcript::default();
    let mut outcome = Ok(());
    // A wait without a limit on a connection `connect` returned: judged once every round has
    // passed, since whom the client trusts is the first thing to get right.
    let mut unlimited = None;
    for (number, round) in rounds.iter().enumerate() {
        transcript.push(format!("round {}: {}", number + 1, round.server));
        if let Err(reason) = play(round, Arc::clone(&connect), &mut transcript, &mut unlimited) {
            transcript.push("(the check stops here)");
            outcome = Err(reason);
            break;
        }
    }
    if let (Ok(()), Some(wait)) = (&outcome, unlimited) {
        transcript.push(format!(
            "the connections connect returned have no {wait} timeout on their socket"
        ));
        outcome = Err(format!(
            "connect returned connections whose socket has no {wait} timeout ({wait}_timeout() is \
             None): every {wait} through them can wait for ever, on a server that stops \
             answering.\nGive every wait a limit of `timeout`, the reads and the writes after the \
             handshake too (set_read_timeout, set_write_timeout), and keep them set."
        ));
    }
    let _ = std::fs::remove_dir_all(&folder);
    match outcome {
        Ok(()) => Ok(transcript),
        Err(reason) => Err(Failure {
            exercise: EXERCISE,
            reason,
            transcript,
            seed: None,
        }),
    }
}

fn make_rounds(folder: &Path) -> anyhow::Result<Vec<Round>> {
    let trusted = folder.join("trusted");
    let stranger = folder.join("stranger");
    let other_name = folder.join("other-name");
    let address_only = folder.join("address-only");
    let expired = folder.join("expired");
    certificates::make(&trusted, certificates::NAMES, Validity::Now)?;
    certificates::make(&stranger, certificates::NAMES, Validity::Now)?;
    certificates::make(&other_name, &["example.test"], Validity::Now)?;
    certificates::make(&address_only, &["127.0.0.1"], Validity::Now)?;
    certificates::make(&expired, certificates::NAMES, Validity::Expired)?;
    Ok(vec![
        Round {
            server: "a server whose certificate, for localhost, the given authority signed",
            shows: Some(trusted.clone()),
            queue_full: false,
            trusts: trusted.clone(),
            name: "localhost",
            reachable: true,
            if_wrong: "The server's certificate was signed by the authority connect was given, \
                       for the name it was given: connect should have returned a connection. Does \
                       it trust that authority (a RootCertStore holding its certificate)?",
        },
        Round {
            server: "a server with the same certificate, reached by its address, 127.0.0.1",
            shows: Some(trusted.clone()),
            queue_full: false,
            trusts: trusted.clone(),
            name: "127.0.0.1",
            reachable: true,
            if_wrong: "The certificate is for 127.0.0.1 too: connect should accept it when told \
                       that name.",
        },
        Round {
            server: "a server whose certificate another authority signed, for the same names",
            shows: Some(stranger),
            queue_full: false,
            trusts: trusted.clone(),
            name: "localhost",
            reachable: false,
            if_wrong: "Your connect accepted a certificate from an authority it was not told to \
                       trust: anyone on the path could have made it. Does your client check \
                       certificates at all? A verifier that accepts everything (dangerous()) is \
                       the classic mistake: trust the given authority, and let rustls check.",
        },
        Round {
            server: "a server whose certificate the given authority signed, for example.test",
            shows: Some(other_name.clone()),
            queue_full: false,
            trusts: other_name,
            name: "localhost",
            reachable: false,
            if_wrong: "Your connect accepted a certificate for example.test when it was told to \
                       reach localhost: a certificate proves a name, and a client that ignores \
                       the name accepts any server the authority ever vouched for.",
        },
        Round {
            server: "a server whose certificate the given authority signed, for 127.0.0.1 only, \
                     reached as localhost",
            shows: Some(address_only.clone()),
            queue_full: false,
            trusts: address_only,
            name: "localhost",
            reachable: false,
            if_wrong: "Your connect accepted a certificate for 127.0.0.1 when it was told to reach \
                       localhost: does it check the certificate against the address it connects \
                       to, rather than the name it was given? The name is whom the client means \
                       to reach; the address is only where it looked.",
        },
        Round {
            server: "a server whose certificate, signed by the given authority, expired in 2020",
            shows: Some(expired.clone()),
            queue_full: false,
            trusts: expired,
            name: "localhost",
            reachable: false,
            if_wrong: "Your connect accepted a certificate that expired in 2020: an old \
                       certificate's key may have been stolen long ago. Let rustls check the \
                       dates (its verifier does, against the system's clock).",
        },
        Round {
            server: "a server that accepts the connection and never says a word",
            shows: None,
            trusts: trusted,
            name: "localhost",
            reachable: false,
            if_wrong: "The server never answered the handshake: connect should fail once \
                       `timeout` has passed.",
            queue_full: false,
        },
        Round {
            server: "a server whose queue of waiting connections is full, so that the \
                     connection is never made",
            shows: None,
            trusts: folder.join("trusted"),
            name: "localhost",
            reachable: false,
            if_wrong: "The connection itself was never made: TcpStream::connect waits for it a \
                       minute or two. Does connect use TcpStream::connect_timeout(&server, \
                       timeout)? Read and write timeouts start only once connected.",
            queue_full: true,
        },
    ])
}

/// Plays one round: the server on its thread, the learner's `connect` on another.
fn play(
    round: &Round,
    connect: Arc<impl Connect>,
    transcript: &mut Transcript,
    unlimited: &mut Option<&'static str>,
) -> Result<(), String> {
    let full_queue;
    let serving;
    let address = if round.queue_full {
        full_queue = Some(FullQueue::new().expect("the check needs a listener with a full queue"));
        serving = None;
        full_queue
            .as_ref()
            .map(|full| full.address)
            .expect("just made")
    } else {
        full_queue = None;
        let listener = TcpListener::bind("127.0.0.1:0").expect("the check needs a loopback port");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let config = round.shows.as_deref().map(server_config);
        serving = Some(thread::spawn(move || serve_one(listener, config)));
        address
    };

    let (returned_sender, returned) = mpsc::channel();
    let (name, authority) = (round.name, round.trusts.join(certificates::AUTHORITY_FILE));
    thread::spawn(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            connect(address, name, &authority, TIMEOUT)
        }));
        let _ = returned_sender.send(result);
    });
    let call = format!("connect(server, {name:?}, its authority, timeout 500 ms)");
    let started = Instant::now();
    let result = match returned.recv_timeout(CALL_LIMIT) {
        Ok(Ok(result)) => result,
        Ok(Err(payload)) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_default();
            transcript.push(format!("{call} panicked"));
            if message.starts_with("not yet implemented") {
                return Err(format!(
                    "Exercise not finished: connect reached a `todo!()`: {message}.\nReplace it \
                     with your code; the `// TODO:` comments say what goes there."
                ));
            }
            return Err(format!("connect panicked: {message}.\n{}", round.if_wrong));
        }
        Err(_) => {
            transcript.push(format!(
                "{call} did not return within {} s",
                CALL_LIMIT.as_secs()
            ));
            return Err(format!(
                "connect did not return within {} s, against {}, with a timeout of 500 ms.\n{}\n\
                 Every wait needs a limit of `timeout` (connect_timeout, set_read_timeout, \
                 set_write_timeout): a server that never answers must not keep the client for \
                 ever.",
                CALL_LIMIT.as_secs(),
                round.server,
                round.if_wrong
            ));
        }
    };
    let took = started.elapsed();
    let handshaking = matches!(&result, Ok(connection) if connection.conn.is_handshaking());
    if handshaking {
        transcript.push(format!("{call} returned before the handshake"));
        return Err(format!(
            "connect returned before the TLS handshake was done, against {}: the server's \
             certificate had not been checked yet, so connect could not say whether to trust \
             it.\nFinish the handshake inside connect (complete_io until is_handshaking() is \
             false), so that a certificate refused is connect's error.",
            round.server
        ));
    }
    let outcome = match (result, round.reachable) {
        (Ok(mut connection), true) => {
            transcript.push(format!("{call} returned a connection"));
            if unlimited.is_none() {
                *unlimited = wait_without_a_limit(&connection);
            }
            match echo_through(&mut connection) {
                Ok(()) => {
                    transcript.push("a line sent through it came back");
                    Ok(())
                }
                Err(why) => {
                    transcript.push(format!("a line sent through it did not come back: {why}"));
                    Err(format!(
                        "connect returned a connection, but a line sent through it did not come \
                         back ({why}).\nIs the handshake done, and is it the TLS stream (not the \
                         TCP socket under it) that you return?"
                    ))
                }
            }
        }
        (Err(error), true) => {
            transcript.push(format!("{call} returned an error"));
            Err(format!(
                "connect returned an error against {}: {error:#}.\n{}",
                round.server, round.if_wrong
            ))
        }
        (Ok(_), false) => {
            transcript.push(format!("{call} returned a connection"));
            Err(format!(
                "connect returned a connection to {}.\n{}",
                round.server, round.if_wrong
            ))
        }
        (Err(_), false) if round.shows.is_none() && took > TIMEOUT * 4 => {
            transcript.push(format!("{call} returned an error, late"));
            Err(format!(
                "connect gave up on the silent server only after {took:?}, with a timeout of \
                 {TIMEOUT:?}.\nGive every wait a limit of `timeout`."
            ))
        }
        (Err(_), false) => {
            transcript.push(format!("{call} returned an error"));
            Ok(())
        }
    };
    drop((serving, full_queue));
    outcome
}

fn server_config(folder: &Path) -> Arc<ServerConfig> {
    let identity = certificates::load(folder).expect("the check's own certificates load");
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![identity.certificate], identity.key)
        .expect("the check's own certificate and key fit");
    Arc::new(config)
}

/// Accepts one connection, and echoes lines over TLS (or, without a configuration, says
/// nothing), until the client leaves or the round's time is up.
fn serve_one(listener: TcpListener, config: Option<Arc<ServerConfig>>) {
    let _ = listener.set_nonblocking(true);
    let deadline = Instant::now() + CALL_LIMIT;
    let tcp = loop {
        match listener.accept() {
            Ok((tcp, _)) => break tcp,
            Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
            Err(_) => return,
        }
    };
    let _ = tcp.set_nonblocking(false);
    // Twice the check's own limit: a client without a timeout is still waiting, certainly, when
    // the check stops waiting for it (and not released by this end just then).
    let _ = tcp.set_read_timeout(Some(CALL_LIMIT * 2));
    let Some(config) = config else {
        // Silent: read and drop whatever comes, until the client gives up.
        let _ = (&tcp).read_to_end(&mut Vec::new());
        return;
    };
    let Ok(connection) = ServerConnection::new(config) else {
        return;
    };
    let tls = StreamOwned::new(connection, tcp);
    let mut reader = BufReader::new(tls);
    let mut line = Vec::new();
    while let Ok(count) = reader.read_until(b'\n', &mut line) {
        if count == 0 || reader.get_mut().write_all(&line).is_err() {
            return;
        }
        line.clear();
    }
}

/// `read` or `write`, if the connection's socket waits without a limit for it.
fn wait_without_a_limit(connection: &Connection) -> Option<&'static str> {
    if !matches!(connection.sock.read_timeout(), Ok(Some(_))) {
        return Some("read");
    }
    if !matches!(connection.sock.write_timeout(), Ok(Some(_))) {
        return Some("write");
    }
    None
}

/// Sends a line through the learner's connection, and reads it back.
fn echo_through(connection: &mut Connection) -> Result<(), String> {
    let line = b"hello over TLS\n";
    connection
        .sock
        .set_read_timeout(Some(CALL_LIMIT))
        .map_err(|error| error.to_string())?;
    connection
        .write_all(line)
        .map_err(|error| error.to_string())?;
    let mut echo = vec![0; line.len()];
    connection
        .read_exact(&mut echo)
        .map_err(|error| error.to_string())?;
    if echo != line {
        return Err(format!("{:?} came back", String::from_utf8_lossy(&echo)));
    }
    Ok(())
}
