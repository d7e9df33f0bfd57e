//! Lesson 14: an FTP server that Python's ftplib and curl use.
//!
//! FTP (RFC 959, 1985) is older than the web and still in use. It teaches what HTTP hides:
//! two connections. The *control connection* carries commands (`RETR hello.txt`) and numbered
//! replies (`226 Transfer complete.`), one line each, for the whole session. Every file and
//! every listing travels on a *data connection* of its own, opened for that one transfer and
//! closed at its end: the close is how the client knows the file is complete. In *passive
//! mode*, the only one offered here, the server opens a port, announces it in a reply (PASV,
//! or EPSV from RFC 2428), and the client connects to it.
//!
//! This file is the control connection: logging in, and one command after another. Beside it:
//! `reply.rs` (replies on the wire), `sandbox.rs` (which paths lead inside the served folder),
//! `passive.rs` (data connections), `listing.rs` (what LIST sends), `site.rs` (the limits).

mod listing;
mod passive;
mod reply;
mod sandbox;
mod site;

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};

use passive::{DataListener, NoDataConnection};
use reply::{Control, Reply, quoted};
use sandbox::{Refusal, resolve};
use site::{MAX_COMMAND_BYTES, Site};

fn main() -> course::cli::MainResult {
    let args = PROGRAM.args()?;
    let site = Site::from_command_line(&args.extra)?;
    let address = args.address;
    let listener =
        TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);
    println!("serving {} ({})", site.root.display(), site.access());
    accept_clients(&listener, &Arc::new(site));
    Ok(())
}

// ANCHOR: accept_loop
/// A thread per client, as in lesson 03, and a polite `421` when every seat is taken.
fn accept_clients(listener: &TcpListener, site: &Arc<Site>) {
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        let mut stream = match connection {
            Ok(stream) => stream,
            Err(error) => {
                failures.pause_after(error);
                continue;
            }
        };
        failures.over();
        let Ok(peer) = stream.peer_addr().map(as_an_ipv4_client_knows_it) else {
            continue; // It left before we could ask who it was.
        };
        let seats = site.max_clients;
        if site.clients.fetch_add(1, Ordering::SeqCst) >= seats {
            site.clients.fetch_sub(1, Ordering::SeqCst);
            println!("{peer} turned away: all {seats} seats taken");
            // A new connection's send buffer is empty: this write cannot block for long.
            let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
            let text = format!("Too many clients ({seats} at once): try again later.");
            let _ = Reply::new(421, text).send(&mut stream);
            continue;
        }
        let seat = Seat(Arc::clone(site));
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .spawn(move || serve_client(stream, peer, seat));
        if let Err(error) = spawned {
            // The closure, and the seat in it, were dropped: the seat is free again.
            eprintln!("cannot start a thread for {peer}: {error}");
        }
    }
}
// ANCHOR_END: accept_loop

/// A seat, held by a client's thread for as long as it runs, and given back however it ends.
struct Seat(Arc<Site>);

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs on the client's own thread: serves its commands, then logs how it left.
fn serve_client(stream: TcpStream, peer: SocketAddr, seat: Seat) {
    println!("{peer} connected");
    let ended = serve_commands(stream, peer, &seat.0);
    drop(seat); // Before the log line, so that a test that reads it finds the seat free.
    match ended {
        Ok(ending) => println!("{peer} disconnected: {ending}"),
        Err(error) => println!("{peer} disconnected abruptly: {error:#}"),
    }
}

// ANCHOR: command_loop
/// The control connection, from greeting to goodbye: read a command, answer it, repeat.
fn serve_commands(stream: TcpStream, peer: SocketAddr, site: &Site) -> anyhow::Result<String> {
    stream.set_write_timeout(Some(site.idle_timeout))?;
    // A second handle for reading needs a file descriptor. When the process has none left
    // (clients that just left may still hold theirs), say so, rather than close without a word.
    let reader = match stream.try_clone() {
        Ok(reader) => reader,
        Err(error) => {
            let text = "The server cannot take another client just now: try again later.";
            let _ = Reply::new(421, text).send(&mut &stream);
            return Err(error).context("a second handle on the connection, for reading");
        }
    };
    let mut commands = BufReader::new(UntilDeadline {
        stream: reader,
        deadline: Instant::now(),
    });
    let mut session = Session {
        local: as_an_ipv4_client_knows_it(stream.local_addr()?),
        control: Control { stream, peer },
        site,
        user_given: false,
        logged_in: false,
        cwd: "/".to_string(),
        data: None,
        epsv_only: false,
    };
    session
        .control
        .reply(220, "Anonymous FTP, passive mode only.")?;
    loop {
        // The idle limit is for a whole command: a client that sends a byte now and then must
        // still finish its command in time, or it could hold its seat for ever.
        commands.get_mut().deadline = Instant::now() + site.idle_timeout;
        let line = match read_command(&mut commands) {
            Ok(Some(line)) => line,
            Ok(None) => return Ok("it closed the connection".into()),
            Err(error) if is_timeout(&error) => {
                let text = format!("Idle for {:?}: closing the connection.", site.idle_timeout);
                session.control.reply(421, text)?;
                return Ok("idle for too long".into());
            }
            Err(error) if error.kind() == ErrorKind::InvalidData => {
                session.control.reply(500, error.to_string())?;
                return Ok("its command was too long".into());
            }
            Err(error) => return Err(error).context("reading a command"),
        };
        let (verb, argument) = line.split_once(' ').unwrap_or((&line, ""));
        let verb = verb.to_ascii_uppercase();
        // The password is the one thing the log leaves out (the network, sadly, does not).
        let shown = if verb == "PASS" { "****" } else { argument };
        let shown = format!("{verb} {shown}").replace(char::is_control, "\u{fffd}");
        println!("{peer} > {}", shown.trim_end());
        if line.contains(|c: char| c.is_control()) {
            session
                .control
                .reply(501, "Control characters are not allowed.")?;
            continue;
        }
        if let Flow::Quit = session.run(&verb, argument)? {
            return Ok("it said QUIT".into());
        }
    }
}

/// Reads one command line, without its line end. `None` when the client closed the connection.
/// A line that is not UTF-8 is read and returned lossily, `�` in place of what is not text.
fn read_command(commands: &mut impl BufRead) -> io::Result<Option<String>> {
    let too_long = || {
        let why = format!("Command line over {MAX_COMMAND_BYTES} bytes: closing.");
        io::Error::new(ErrorKind::InvalidData, why)
    };
    // The limit is on the command, not on its line end. Read one byte past the longest command:
    // unless it is the line end, or the `\r` before it, the line is too long, and the client
    // hears so at once rather than after sending more.
    let mut line = Vec::new();
    commands
        .take(MAX_COMMAND_BYTES + 1)
        .read_until(b'\n', &mut line)?;
    if line.len() as u64 == MAX_COMMAND_BYTES + 1 && line.ends_with(b"\r") {
        commands.take(1).read_until(b'\n', &mut line)?;
    }
    let Some(command) = line.strip_suffix(b"\n") else {
        let command = line.strip_suffix(b"\r").unwrap_or(&line);
        if command.len() as u64 > MAX_COMMAND_BYTES {
            return Err(too_long());
        }
        return Ok(None); // Closed, perhaps in the middle of a line: nothing to answer.
    };
    let command = command.strip_suffix(b"\r").unwrap_or(command);
    if command.len() as u64 > MAX_COMMAND_BYTES {
        return Err(too_long());
    }
    Ok(Some(String::from_utf8_lossy(command).into()))
}

/// The control connection's reading half, which gives up at a deadline: each read waits only
/// for the time left, so bytes that trickle in do not put the deadline off.
struct UntilDeadline {
    stream: TcpStream,
    deadline: Instant,
}

impl Read for UntilDeadline {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buffer)
    }
}
// ANCHOR_END: command_loop

/// One client's state between commands.
struct Session<'a> {
    control: Control,
    /// Our end of the control connection: the address data ports are opened on.
    local: SocketAddr,
    site: &'a Site,
    /// USER named the anonymous user; PASS may follow.
    user_given: bool,
    logged_in: bool,
    /// The current folder as the client sees it: `/` is the served folder.
    cwd: String,
    /// The port opened by the last PASV or EPSV, for the next transfer.
    data: Option<DataListener>,
    /// After `EPSV ALL`, RFC 2428 says PASV must be refused: a NAT in between may rely on it.
    epsv_only: bool,
}

/// Whether to read another command.
enum Flow {
    Next,
    Quit,
}

impl Session<'_> {
    // ANCHOR: dispatch
    /// Answers one command. Before login only a few commands work; the ones that change files
    /// work only with `--writable`; active mode (PORT, EPRT) never does.
    fn run(&mut self, verb: &str, argument: &str) -> io::Result<Flow> {
        let reply = match verb {
            "USER" => self.user(argument),
            "PASS" => self.pass(),
            "QUIT" => {
                self.control.reply(221, "Goodbye.")?;
                return Ok(Flow::Quit);
            }
            "SYST" => Reply::new(215, "UNIX Type: L8"),
            "FEAT" => Reply::new(211, "Features:\nEPSV\nMDTM\nPASV\nSIZE\nUTF8\nEnd"),
            "NOOP" => Reply::new(200, "Still here."),
            "PORT" | "EPRT" => Reply::new(502, "Active mode is not offered: use PASV or EPSV."),
            _ if !self.logged_in => Reply::new(530, "Log in first: USER anonymous, then PASS."),
            "PWD" => Reply::new(257, format!("{} is the current folder.", quoted(&self.cwd))),
            "CWD" => self.change_folder(argument),
            "CDUP" => self.change_folder(".."),
            "TYPE" => type_reply(argument),
            "PASV" | "EPSV" => self.open_data_port(verb, argument),
            "STOR" | "DELE" | "MKD" | "RMD" if !self.site.writable => Reply::new(
                550,
                "Permission denied: this server is read-only (start it with --writable).",
            ),
            "SIZE" | "MDTM" | "RETR" | "STOR" | "DELE" | "MKD" | "RMD" if argument.is_empty() => {
                Reply::new(501, format!("{verb} needs a path: {verb} NAME"))
            }
            "SIZE" | "MDTM" => self.file_facts(verb, argument),
            "LIST" | "NLST" => self.list(verb, argument)?,
            "RETR" => self.retrieve(argument)?,
            "STOR" => self.store(argument)?,
            "DELE" | "MKD" | "RMD" => self.change_files(verb, argument),
            _ => Reply::new(502, format!("{verb} is not a command this server offers.")),
        };
        self.control.send(reply)?;
        Ok(Flow::Next)
    }
    // ANCHOR_END: dispatch

    /// Anonymous only: the user name says who you are not, and the password, by custom your
    /// e-mail address, is not checked. Any other user is refused before a password is sent.
    fn user(&mut self, name: &str) -> Reply {
        self.logged_in = false;
        self.user_given =
            name.eq_ignore_ascii_case("anonymous") || name.eq_ignore_ascii_case("ftp");
        match self.user_given {
            true => Reply::new(331, "Anonymous login: send any password."),
            false => Reply::new(530, "Only anonymous login here: USER anonymous."),
        }
    }

    fn pass(&mut self) -> Reply {
        if !self.user_given {
            return Reply::new(503, "Send USER anonymous first.");
        }
        self.logged_in = true;
        Reply::new(
            230,
            format!("Logged in. The folder is {}.", self.site.access()),
        )
    }

    /// Where a path leads, or the reply that says why it leads nowhere.
    fn resolve(&self, requested: &str) -> Result<PathBuf, Reply> {
        resolve(&self.site.root, &self.cwd, requested)
            .map_err(|refusal| refused(requested, refusal))
    }

    fn change_folder(&mut self, requested: &str) -> Reply {
        match self.resolve(requested) {
            Ok(real) if real.is_dir() => {
                self.cwd = self.site.client_view(&real);
                Reply::new(250, format!("The current folder is {}.", quoted(&self.cwd)))
            }
            Ok(_) => Reply::new(550, format!("{requested}: no such folder.")),
            Err(reply) => reply,
        }
    }

    /// SIZE (bytes, RFC 3659) and MDTM (last changed, UTC) of a file.
    fn file_facts(&self, verb: &str, requested: &str) -> Reply {
        let metadata = match self.resolve(requested).map(fs::metadata) {
            Ok(Ok(metadata)) if metadata.is_file() => metadata,
            Ok(_) => return Reply::new(550, format!("{requested}: no such file.")),
            Err(reply) => return reply,
        };
        match (verb, metadata.modified()) {
            ("SIZE", _) => Reply::new(213, metadata.len().to_string()),
            (_, Ok(time)) => Reply::new(213, listing::mdtm_text(time)),
            (_, Err(_)) => Reply::new(550, "This system does not record when files change."),
        }
    }

    // ANCHOR: open_data_port
    /// PASV and EPSV: opens a port for the next transfer, and says where it is.
    fn open_data_port(&mut self, verb: &str, argument: &str) -> Reply {
        if verb == "EPSV" && argument.eq_ignore_ascii_case("ALL") {
            self.epsv_only = true;
            return Reply::new(200, "From now on, EPSV only.");
        }
        if verb == "PASV" && self.epsv_only {
            return Reply::new(503, "After EPSV ALL, only EPSV.");
        }
        let family = if self.local.is_ipv4() { "1" } else { "2" };
        if verb == "EPSV" && !argument.is_empty() && argument != family {
            let text = format!("Network protocol not supported, use ({family})");
            return Reply::new(522, text);
        }
        // Replacing an earlier port closes it: only the newest one is announced.
        self.data = None;
        let listener = match DataListener::open(self.local) {
            Ok(listener) => listener,
            Err(error) => return Reply::new(425, format!("Cannot open a data port: {error}.")),
        };
        let announced = match listener.address() {
            Ok(address) if verb == "EPSV" => Reply::new(229, passive::epsv_text(address)),
            Ok(address) => match passive::pasv_text(address) {
                Some(text) => Reply::new(227, text),
                None => return Reply::new(502, "PASV cannot announce IPv6: use EPSV."),
            },
            Err(error) => return Reply::new(425, format!("Cannot open a data port: {error}.")),
        };
        self.data = Some(listener);
        announced
    }
    // ANCHOR_END: open_data_port

    // ANCHOR: transfer
    /// One transfer: `150` to say it starts, the client's data connection (from its own
    /// address, in time), `work` on it, then the data connection closed and the reply `work`
    /// chose. The port from PASV or EPSV is used once: the next transfer needs a new one.
    fn transfer(
        &mut self,
        data: Option<DataListener>,
        starting: String,
        work: impl FnOnce(&mut TcpStream) -> io::Result<Reply>,
    ) -> io::Result<Reply> {
        let Some(listener) = data else {
            return Ok(Reply::new(425, "Use PASV or EPSV first."));
        };
        self.control.reply(150, starting)?;
        let client = self.control.peer.ip();
        let mut connection = match listener.accept_from(client, self.site.data_patience) {
            Ok(connection) => connection,
            Err(NoDataConnection::TimedOut(waited)) => {
                let text = format!("No data connection from {client} within {waited:?}.");
                return Ok(Reply::new(425, text));
            }
            Err(NoDataConnection::Failed(error)) => {
                return Ok(Reply::new(425, format!("The data port failed: {error}.")));
            }
        };
        connection.set_read_timeout(Some(self.site.idle_timeout))?;
        connection.set_write_timeout(Some(self.site.idle_timeout))?;
        let idle = self.site.idle_timeout;
        let last = work(&mut connection).unwrap_or_else(|error| match error.kind() {
            // One of the two timeouts above (Unix says WouldBlock, Windows TimedOut).
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                Reply::new(426, format!("Data connection idle for {idle:?}: aborted."))
            }
            _ => Reply::new(426, format!("Data connection lost ({error}): aborted.")),
        });
        // Closing it is what tells the client the file or listing is complete. Only then
        // the final reply: a client may wait for both.
        drop(connection);
        Ok(last)
    }
    // ANCHOR_END: transfer

    /// LIST (lines like `ls -l`) and NLST (names only) of a folder, or of one file.
    fn list(&mut self, verb: &str, argument: &str) -> io::Result<Reply> {
        let data = self.data.take();
        // Many clients send `ls` options (`LIST -la`); this server has one format only.
        let requested = argument.split(' ').filter(|word| !word.starts_with('-'));
        let requested = requested.collect::<Vec<_>>().join(" ");
        let real = match self.resolve(&requested) {
            Ok(real) => real,
            Err(reply) => return Ok(reply),
        };
        let long = verb == "LIST";
        let Ok((text, count)) = listing::text(&self.site.root, &real, long, self.site.writable)
        else {
            return Ok(refused(&requested, Refusal::NotFound));
        };
        self.transfer(data, "Here comes the listing.".into(), |connection| {
            connection.write_all(text.as_bytes())?;
            Ok(Reply::new(226, format!("Listed {count} entries.")))
        })
    }

    /// RETR: a file, byte for byte, whatever TYPE said (see the chapter).
    fn retrieve(&mut self, requested: &str) -> io::Result<Reply> {
        let data = self.data.take();
        let opened = self.resolve(requested).and_then(|real| {
            let file = File::open(&real).map_err(|_| refused(requested, Refusal::NotFound))?;
            match file.metadata() {
                Ok(metadata) if metadata.is_file() => Ok((file, metadata.len())),
                _ => Err(Reply::new(550, format!("{requested}: not a file."))),
            }
        });
        let (file, length) = match opened {
            Ok(opened) => opened,
            Err(reply) => return Ok(reply),
        };
        let starting = format!("Sending {requested} ({length} bytes).");
        self.transfer(data, starting, |connection| {
            // If the file shrank since we measured it, say so rather than pretend it is whole.
            if io::copy(&mut file.take(length), connection)? < length {
                return Err(io::Error::new(ErrorKind::UnexpectedEof, "the file shrank"));
            }
            Ok(Reply::new(226, "Transfer complete."))
        })
    }

    /// STOR (with `--writable`): a file from the client, kept only if it arrived whole and
    /// within [`MAX_UPLOAD_BYTES`].
    fn store(&mut self, requested: &str) -> io::Result<Reply> {
        let data = self.data.take();
        let real = match self.resolve(requested) {
            Ok(real) if real.is_dir() => return Ok(Reply::new(550, "That is a folder.")),
            Ok(real) => real,
            Err(reply) => return Ok(reply),
        };
        // The bytes go to a new file beside the target, which takes the target's name only once
        // all of them have arrived: an upload that fails leaves the old file as it was, and
        // nobody finds half a file under the name it asked for. The name is this process's and this upload's own,
        // so two clients storing the same name at once do not write into one file; it leaves the
        // target's name out, so that a name as long as the system allows can be stored too.
        static UPLOADS: AtomicU64 = AtomicU64::new(0);
        let upload = UPLOADS.fetch_add(1, Ordering::Relaxed);
        let partial = real.with_file_name(format!(".upload-{}-{upload}.part", std::process::id()));
        let mut file = match File::create_new(&partial) {
            Ok(file) => file,
            Err(error) => return Ok(Reply::new(550, format!("Cannot create it: {error}."))),
        };
        let limit = self.site.max_upload_bytes;
        let stored = self.transfer(data, format!("Send {requested}."), |connection| {
            let received = io::copy(&mut connection.take(limit + 1), &mut file)?;
            if received > limit {
                let text = format!("Over {limit} bytes, the limit here: not kept.");
                return Ok(Reply::new(552, text));
            }
            Ok(Reply::new(226, format!("Stored {received} bytes.")))
        });
        drop(file);
        let stored = match stored {
            Ok(stored) if stored.code == 226 => match fs::rename(&partial, &real) {
                Ok(()) => return Ok(stored),
                Err(error) => Ok(Reply::new(550, format!("Cannot replace it: {error}."))),
            },
            other => other,
        };
        let _ = fs::remove_file(&partial); // Half a file is worse than none.
        stored
    }

    /// DELE a file, MKD a folder, RMD an empty folder (with `--writable`).
    fn change_files(&mut self, verb: &str, requested: &str) -> Reply {
        let real = match self.resolve(requested) {
            Ok(real) if real == self.site.root => return Reply::new(550, "The root stays."),
            Ok(real) => real,
            Err(reply) => return reply,
        };
        let done = match verb {
            "DELE" if real.is_file() => fs::remove_file(&real),
            "MKD" => fs::create_dir(&real),
            "RMD" if real.is_dir() => fs::remove_dir(&real),
            _ => return refused(requested, Refusal::NotFound),
        };
        match done {
            Ok(()) if verb == "MKD" => {
                let created = self.site.client_view(&real);
                Reply::new(257, format!("{} created.", quoted(&created)))
            }
            Ok(()) => Reply::new(250, "Done."),
            Err(error) => Reply::new(550, format!("{requested}: {error}.")),
        }
    }
}

/// The reply to a path that leads nowhere the server will go: 550, "file unavailable".
fn refused(requested: &str, refusal: Refusal) -> Reply {
    Reply::new(550, format!("{requested}: {refusal}."))
}

/// TYPE: `A` (text) or `I` (image: bytes as they are). Both are accepted, and files travel byte
/// for byte in both; see the chapter for why that is a simplification.
fn type_reply(argument: &str) -> Reply {
    match argument.to_ascii_uppercase().as_str() {
        "A" | "A N" => Reply::new(200, "Type set to A."),
        "I" | "L 8" => Reply::new(200, "Type set to I."),
        _ => Reply::new(504, "Only types A and I are offered."),
    }
}

/// A timeout is WouldBlock on Unix and TimedOut on Windows.
fn is_timeout(error: &io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// An address as the client knows it. A listener on `[::]` also takes IPv4 clients (on Linux and
/// macOS, unless the system says otherwise), and sees their addresses, and its own, as IPv6 ones
/// that wrap them (`::ffff:127.0.0.1`): PASV must announce the IPv4 address itself, and the data
/// port must listen where an IPv4 client can connect, so the wrapping is taken off.
fn as_an_ipv4_client_knows_it(address: SocketAddr) -> SocketAddr {
    SocketAddr::new(address.ip().to_canonical(), address.port())
}

const PROGRAM: Program = Program {
    name: "14_ftp",
    role: Role::Server,
    about: "Lesson 14: an anonymous FTP server (passive mode only) that ftplib and curl use.",
    default_address: "127.0.0.1:65445",
    extra_usage: "[FOLDER] [--writable] [--max-clients N] [--idle-seconds S] \
                  [--data-seconds S] [--max-upload-bytes N]",
    max_extra_args: 10,
    try_it: "From another terminal:\n  \
             curl ftp://127.0.0.1:65445/hello.txt\n  \
             curl --list-only ftp://127.0.0.1:65445/\n  \
             python3 -c \"import ftplib; f = ftplib.FTP(); f.connect('127.0.0.1', 65445); \
             f.login(); f.dir()\"\n\n\
             FOLDER (default lessons/14_ftp_site) is served read-only, and nothing outside it;\n\
             --writable also allows STOR, DELE, MKD and RMD. The limits' defaults: 32 clients,\n\
             300 s idle, 10 s for a data connection to come, 64 MiB per upload.",
};
