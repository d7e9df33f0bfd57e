//! Lesson 13: HTTPS, by putting TLS in front of lesson 12's web server.
//!
//! This is how many sites get their `https://`: a program in front of the web server ends the
//! TLS connections (it "terminates" TLS), and talks plain HTTP to the server behind it, on the
//! same machine. nginx, HAProxy and cloud load balancers are often used this way. Here the server
//! behind is lesson 12's, unchanged: start it first, then this in front of it.
//!
//! Each client gets a thread that does the handshake, opens a connection to lesson 12, and then
//! carries bytes both ways: decrypted from the client to the server, encrypted from the server to
//! the client. The one TLS connection is shared by the two directions, behind a mutex, while each
//! direction waits for its bytes without holding it.
//!
//! Usage: `13_https [ADDRESS] [UPSTREAM] [--certs FOLDER]`: UPSTREAM is lesson 12's address,
//! `127.0.0.1:65443` by default.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};
use rustls::{ServerConfig, ServerConnection};
use tls_lessons::certificates;

/// How long a handshake may take, in all: a client that connects and says nothing, or sends a
/// byte now and then, keeps no thread long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one write to a client may wait for it to take any bytes, as lesson 12's writes do.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long reaching lesson 12's server may take: a machine that does not answer makes a plain
/// `connect` wait until the system gives up, minutes later.
const UPSTREAM_PATIENCE: Duration = Duration::from_secs(10);

fn main() -> course::cli::MainResult {
    let (folder, rest) = course::cli::take_option("--certs", course::cli::arguments()?)?;
    let folder = folder.map_or_else(certificates::default_folder, PathBuf::from);
    let args = match PROGRAM.parse(rest)? {
        course::cli::Parsed::Run(args) => args,
        course::cli::Parsed::Help => PROGRAM.print_help_and_exit(),
    };
    let upstream = match args.extra.first() {
        Some(text) => course::cli::parse_server_address(text)?,
        None => course::cli::parse_server_address(UPSTREAM)?,
    };

    let identity = certificates::load_or_make(&folder)?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![identity.certificate], identity.key)
        .context("the certificate and key do not fit together: delete the folder for new ones")?;
    let config = Arc::new(config);

    let listener = TcpListener::bind(args.address)
        .map_err(|error| course::explain::bind_error(args.address, error))?;
    let local = listener.local_addr()?;
    println!("listening on {local}");
    println!("certificate authority: {}", identity.authority.display());
    println!(
        "open https://localhost:{}/ (lesson 12 behind it, at {upstream})",
        local.port()
    );

    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        let client = match connection {
            Ok(client) => client,
            Err(error) => {
                failures.pause_after(error);
                continue;
            }
        };
        failures.over();
        let Ok(peer) = client.peer_addr() else {
            continue;
        };
        let config = Arc::clone(&config);
        thread::spawn(move || {
            if let Err(error) = serve(client, config, upstream) {
                eprintln!("{peer}: {error:#}");
            }
        });
    }
    Ok(())
}

// ANCHOR: serve
/// One client: the handshake, then bytes both ways until either side is done.
fn serve(
    mut client: TcpStream,
    config: Arc<ServerConfig>,
    upstream: SocketAddr,
) -> anyhow::Result<()> {
    let mut tls = ServerConnection::new(config)?;
    // A deadline for the whole handshake, not a timeout for each read: a client that sends a
    // byte now and then would put that off for ever. (`complete_io` reads until the handshake
    // is done, so the deadline goes into each read.)
    let mut until_deadline = UntilDeadline {
        stream: &client,
        deadline: Instant::now() + HANDSHAKE_TIMEOUT,
    };
    while tls.is_handshaking() {
        tls.complete_io(&mut until_deadline)
            .with_context(|| format!("the handshake (at most {HANDSHAKE_TIMEOUT:?})"))?;
    }
    client.set_read_timeout(None)?;
    // A client that stops reading must not keep a thread waiting in a write for ever (with the
    // lock held, which would stop the other direction too).
    client.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let server = TcpStream::connect_timeout(&upstream, UPSTREAM_PATIENCE)
        .with_context(|| format!("reaching lesson 12's server at {upstream}: is it running?"))?;

    let tls = Arc::new(Mutex::new(tls));
    // From lesson 12 to the client, on a thread of its own: plain bytes in, TLS records out.
    let to_client = {
        let (tls, mut server, mut client) =
            (Arc::clone(&tls), server.try_clone()?, client.try_clone()?);
        thread::spawn(move || -> std::io::Result<()> {
            let carried = carry_to_client(&tls, &mut server, &mut client);
            // However this direction ended (lesson 12 closed, or a write to the client moved
            // nothing for WRITE_TIMEOUT: after one to a few of them, since a write that got part
            // of its bytes out returns that part, and the next waits again), close the client's
            // connection both ways: nothing it sends now can
            // be answered, and closing the reading side too wakes the other thread's read (on
            // Linux and macOS), so a client that says nothing more keeps no thread here.
            let _ = client.shutdown(Shutdown::Both);
            carried
        })
    };
    // From the client to lesson 12, on this thread: TLS records in, plain bytes out.
    let mut server_writer = server;
    let carried = carry_to_lesson_12(&tls, &mut client, &mut server_writer);
    // The client is done sending: tell lesson 12, and let the other direction finish. After an
    // error, close both connections, so that the other direction ends too: its read wakes at
    // once on Linux and macOS, and elsewhere when lesson 12 closes in answer.
    if carried.is_err() {
        let _ = client.shutdown(Shutdown::Both);
        let _ = server_writer.shutdown(Shutdown::Both);
    } else {
        let _ = server_writer.shutdown(Shutdown::Write);
    }
    let _ = to_client.join();
    carried
}

/// Reads lesson 12's answers, and writes them to the client in TLS records, until lesson 12
/// closes: then says goodbye in TLS.
fn carry_to_client(
    tls: &Mutex<ServerConnection>,
    server: &mut TcpStream,
    client: &mut TcpStream,
) -> std::io::Result<()> {
    let mut buffer = [0; 16 * 1024];
    loop {
        let count = server.read(&mut buffer)?;
        let mut tls = lock(tls);
        if count == 0 {
            tls.send_close_notify();
            tls.write_tls(client)?;
            return Ok(());
        }
        tls.writer().write_all(&buffer[..count])?;
        while tls.wants_write() {
            tls.write_tls(client)?;
        }
    }
}

/// Reads the client's TLS records, and writes the plain text in them to lesson 12, until the
/// client says goodbye or closes.
fn carry_to_lesson_12(
    tls: &Mutex<ServerConnection>,
    client: &mut TcpStream,
    server: &mut TcpStream,
) -> anyhow::Result<()> {
    let mut records = [0; 16 * 1024];
    // The handshake may already have read the start of the first request: the first turn passes
    // on what the connection holds, before reading more.
    let mut count = 0;
    let mut plain = Vec::new();
    loop {
        let client_said_goodbye = {
            let mut tls = lock(tls);
            let mut goodbye = take_plain_text(&mut tls, &mut plain)?;
            // `read_tls` takes only part of what it is given (often 4 KiB), and says how much:
            // give it the rest until none is left. Taking the plain text out after each part
            // keeps rustls under its limit of plain text held (16 KiB), past which `read_tls`
            // refuses more.
            let mut received = &records[..count];
            while !received.is_empty() && !goodbye {
                // 0: rustls takes no more, because the client has said goodbye.
                let taken = tls.read_tls(&mut received)?;
                tls.process_new_packets()?;
                goodbye = take_plain_text(&mut tls, &mut plain)? || taken == 0;
            }
            // Anything TLS itself has to say back (a key update, an alert) goes now.
            while tls.wants_write() {
                tls.write_tls(client)?;
            }
            goodbye
        };
        // Written without the lock, so that lesson 12's answers reach the client meanwhile.
        server.write_all(&plain)?;
        plain.clear();
        if client_said_goodbye {
            return Ok(());
        }
        // Wait for the client's bytes without holding the lock, so the other direction can write.
        count = client.read(&mut records)?;
        if count == 0 {
            return Ok(());
        }
    }
}

/// Moves the plain text rustls has decrypted into `plain`. `true` once the client has said
/// goodbye in TLS (its `close_notify`): nothing more will come.
fn take_plain_text(tls: &mut ServerConnection, plain: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut piece = [0; 4096];
    loop {
        match tls.reader().read(&mut piece) {
            Ok(0) => return Ok(true),
            Ok(read) => plain.extend_from_slice(&piece[..read]),
            // Nothing more for now.
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return Ok(false),
            Err(error) => return Err(error),
        }
    }
}
// ANCHOR_END: serve

/// A connection whose reads wait only until `deadline`, as lesson 14's command loop reads.
struct UntilDeadline<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl Read for UntilDeadline<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buffer)
    }
}

impl Write for UntilDeadline<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.stream.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// The lock on a connection; a thread that panicked holding it leaves it still usable.
fn lock(tls: &Mutex<ServerConnection>) -> MutexGuard<'_, ServerConnection> {
    tls.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Lesson 12's default address.
const UPSTREAM: &str = "127.0.0.1:65443";

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "13_https",
    role: Role::Server,
    about: "Lesson 13: HTTPS in front of lesson 12's web server: ends TLS, and passes plain HTTP \
            to the server behind it (UPSTREAM, 127.0.0.1:65443 by default). Options: --certs \
            FOLDER, where the certificates are kept.",
    default_address: "127.0.0.1:65447",
    extra_usage: "[UPSTREAM] [--certs FOLDER]",
    max_extra_args: 1,
    try_it: "Start lesson 12 first, in another terminal:\n  cargo run --bin 12_http\n\
             Then fetch a file with curl, trusting the authority this program prints:\n  \
             curl --cacert CA_FILE https://localhost:65447/hello.txt\n\
             (Windows' own curl: add --ssl-revoke-best-effort; see chapter 13.)",
};
