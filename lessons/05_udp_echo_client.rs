//! Lesson 05: the UDP echo client.
//!
//! With a message on the command line it sends that one datagram and prints the echo. Without
//! one it sends each line you type as a datagram of its own. UDP promises nothing, so the client
//! waits for each answer only so long, asks again a few times, and then gives up and says so.
//! Start `05_udp_echo` first (or don't, and see what happens).

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use course::cli::{Program, Role};

// ANCHOR: limits
/// How many datagrams to send before giving up: the first, and two more if no answer comes.
const ATTEMPTS: u32 = 3;
/// How long to wait for an answer to each one. On your own machine an answer comes back almost
/// at once; from the far side of the world, light in fibre alone takes about 0.2 s there and
/// back (some 20,000 km each way, at about 200,000 km a second).
const WAIT_FOR_ANSWER: Duration = Duration::from_secs(1);
// ANCHOR_END: limits

/// Room for the largest datagram there is (see `05_udp_echo`). This is also the bound on what
/// a server can make this client hold: one datagram, never more. A smaller buffer would cut a
/// long echo short (silently on Linux and macOS, with an error on Windows), and the cut echo
/// would not match the message, so it would be ignored as someone else's datagram: with this
/// size, no datagram is ever cut.
const BUFFER_BYTES: usize = 65_536;

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let server = args.address;
    // Port 0 names no server (sending to it fails). 0.0.0.0 names none either: on Linux the
    // datagram goes, but the echo comes from a real address of the server's machine, not from
    // the one we sent to, and would be ignored as a stranger's (see `wait_for_echo`).
    if let Some(advice) = course::explain::not_a_server_address(server) {
        return Err(anyhow!("cannot send to {server}: {advice}").into());
    }

    // ANCHOR: bind
    // A UDP client binds a socket too: replies need an address to come back to. Port 0 lets the
    // system pick a free one. There is no connect: nothing reaches the server until we send.
    let any_port = if server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(any_port).context("opening a UDP socket")?;
    let port = socket.local_addr()?.port();
    // ANCHOR_END: bind

    // ANCHOR: modes
    if let Some(message) = args.extra.first() {
        let answer = ask(&socket, server, message)?;
        println!("{answer}");
        return Ok(());
    }
    let end_of_input = if cfg!(windows) {
        "Ctrl-Z then Enter"
    } else {
        "Ctrl-D"
    };
    println!(
        "sending from port {port} to {server}; type lines, end with {end_of_input}; each line \
         is one datagram"
    );
    for line in std::io::stdin().lines() {
        let line = line.context("reading what you typed")?;
        let answer = ask(&socket, server, &line)?;
        println!("{answer}");
    }
    // ANCHOR_END: modes
    Ok(())
}

// ANCHOR: answer
/// An echo, and which of our datagrams got it.
struct Answer {
    reply: String,
    /// 1 for the first datagram sent, 2 for the second...
    attempt: u32,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Answer { reply, attempt } = self;
        write!(
            f,
            "received {reply:?} (answered on attempt {attempt} of {ATTEMPTS})"
        )
    }
}
// ANCHOR_END: answer

// ANCHOR: ask
/// Sends `message` to `server` as one datagram and waits for its echo, sending it again when
/// no echo comes in time, at most [`ATTEMPTS`] times in all.
fn ask(socket: &UdpSocket, server: SocketAddr, message: &str) -> anyhow::Result<Answer> {
    for attempt in 1..=ATTEMPTS {
        // A datagram bigger than the system allows fails here, at once: see `05_udp_sizes`.
        socket
            .send_to(message.as_bytes(), server)
            .with_context(|| format!("sending {} bytes to {server}", message.len()))?;
        match wait_for_echo(socket, server, message)? {
            Some(reply) => return Ok(Answer { reply, attempt }),
            // Silence. Our datagram may be lost, or the echo may be, or nobody is there:
            // UDP gives no way to tell these apart. All we can do is ask again.
            None => println!(
                "attempt {attempt} of {ATTEMPTS}: no answer within {} s",
                WAIT_FOR_ANSWER.as_secs()
            ),
        }
    }
    bail!(
        "no answer after {ATTEMPTS} tries: is the server running? UDP cannot tell you. (Asked \
         {server}, waiting {} s each time.)",
        WAIT_FOR_ANSWER.as_secs()
    )
}
// ANCHOR_END: ask

// ANCHOR: wait_for_echo
/// Waits up to [`WAIT_FOR_ANSWER`] for `server` to send `message` back. Anything else that
/// arrives meanwhile is shown and ignored. `None` means the time ran out.
fn wait_for_echo(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &str,
) -> anyhow::Result<Option<String>> {
    let deadline = Instant::now() + WAIT_FOR_ANSWER;
    let mut buffer = vec![0; BUFFER_BYTES];
    loop {
        // A stray datagram must not restart the clock: wait only for what is left of it.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket.set_read_timeout(Some(left))?;
        let (size, sender) = match socket.recv_from(&mut buffer) {
            Ok(received) => received,
            // Unix says WouldBlock, Windows TimedOut, when the time runs out.
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(None);
            }
            // Windows reports "nothing listened where your last datagram went" this way, on
            // the next receive. It is a hint, not a promise: the report is itself a packet,
            // which may be lost or filtered on the way. Keep waiting, as for any silence.
            Err(error) if error.kind() == ErrorKind::ConnectionReset => continue,
            Err(error) => return Err(error).context("waiting for the server's answer"),
        };
        let reply = String::from_utf8_lossy(&buffer[..size]);
        // Anyone who knows our port can send to it. Only the server's datagrams are answers.
        if sender != server {
            println!("ignored {size} bytes from {sender}: not the server");
            continue;
        }
        // The server answered, but perhaps to an earlier datagram whose echo was slow: an echo
        // of another line is not the answer to this one. (Protocols that care, such as DNS,
        // number each request and copy the number into the reply.)
        if reply != message {
            println!("ignored {reply:?} from the server: an echo of an earlier datagram");
            continue;
        }
        return Ok(Some(reply.into_owned()));
    }
}
// ANCHOR_END: wait_for_echo

const PROGRAM: Program = Program {
    name: "05_udp_echo_client",
    role: Role::Client,
    about: "Lesson 05: sends datagrams to the UDP echo server, asking again when none comes back.",
    default_address: "127.0.0.1:65436",
    extra_usage: "[MESSAGE]",
    max_extra_args: 1,
    try_it: "Start the server first, in another terminal:\n  cargo run --bin 05_udp_echo\n\
             Then send one message:\n  cargo run --bin 05_udp_echo_client -- 127.0.0.1:65436 \"Hello, UDP!\"\n\
             or leave out the message and type lines; end with Ctrl-D (on Windows, Ctrl-Z then\n\
             Enter). Without a server, it tells you so after 3 tries.",
};
