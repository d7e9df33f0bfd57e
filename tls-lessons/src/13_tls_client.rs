//! Lesson 13: the echo client, over TLS, checking who it talks to.
//!
//! Lesson 02's echo client, with a TLS handshake first. Before it sends a byte, the client checks
//! the server's certificate: that it was signed by the authority the client trusts (`--ca
//! FILE`, the file `13_tls_echo` prints), that it is for the name the client connected to, and
//! that it is still valid. If any check fails, it says which, in words, and sends nothing.
//!
//! Usage: `13_tls_client [ADDRESS] [MESSAGE] [--ca FILE]`. The address may be a name, as in
//! `localhost:65446`: the certificate must be for that name.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use course::cli::{Program, Role};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tls_lessons::certificates;

/// How long to wait for the server to connect or to answer.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() -> course::cli::MainResult {
    let (authority, rest) = course::cli::take_option("--ca", course::cli::arguments()?)?;
    let authority = authority.map_or_else(
        || certificates::default_folder().join(certificates::AUTHORITY_FILE),
        PathBuf::from,
    );
    let args = match PROGRAM.parse(rest.clone())? {
        course::cli::Parsed::Run(args) => args,
        course::cli::Parsed::Help => PROGRAM.print_help_and_exit(),
    };
    // The name the certificate must be for: the host as it was typed, a name or an address.
    let typed = rest.first().map_or(PROGRAM.default_address, String::as_str);
    let host = typed.rsplit_once(':').map_or(typed, |(host, _port)| host);
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .with_context(|| format!("{host:?} is not a name or address a certificate can be for"))?;

    // ANCHOR: trust
    // Whom the client trusts: the lesson's authority, and nobody else. (A client on the
    // internet trusts the authorities the system or browser lists instead.)
    let mut trusted = RootCertStore::empty();
    let authority_certificate = CertificateDer::from_pem_file(&authority).with_context(|| {
        format!(
            "reading the certificate authority {}: start 13_tls_echo first (it makes the file and \
             prints where it is), then give that file with --ca",
            authority.display()
        )
    })?;
    trusted.add(authority_certificate)?;
    let config = ClientConfig::builder()
        .with_root_certificates(trusted)
        .with_no_client_auth();
    // ANCHOR_END: trust

    // ANCHOR: connect
    let tcp = TcpStream::connect_timeout(&args.address, PATIENCE)
        .map_err(|error| course::explain::connect_error(args.address, error))?;
    tcp.set_read_timeout(Some(PATIENCE))?;
    let connection = ClientConnection::new(Arc::new(config), name)?;
    let mut tls = StreamOwned::new(connection, tcp);
    // The handshake happens on the first write or read; do it now, so that a certificate the
    // client refuses is reported before anything is sent.
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .map_err(|error| explain(error, host, &authority))?;
    }
    // ANCHOR_END: connect

    if let Some(message) = args.extra.first() {
        let reply = send_line(&mut tls, message)?;
        println!("received {reply:?}");
    } else {
        // Windows ends typed input with Ctrl-Z then Enter; everywhere else it is Ctrl-D.
        let end_of_input = if cfg!(windows) {
            "Ctrl-Z then Enter"
        } else {
            "Ctrl-D"
        };
        println!(
            "connected to {} over TLS; type lines, end with {end_of_input}",
            args.address
        );
        for line in io::stdin().lines() {
            let reply = send_line(&mut tls, &line.context("reading what you typed")?)?;
            println!("received {reply:?}");
        }
    }
    // Say goodbye in TLS, so that the server knows the end is the end, and not an attacker
    // cutting the connection short.
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(())
}

// ANCHOR: explain
/// Turns a failed handshake into what a learner can act on.
fn explain(error: io::Error, host: &str, authority: &std::path::Path) -> anyhow::Error {
    let Some(rustls::Error::InvalidCertificate(problem)) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return anyhow::Error::new(error).context("the TLS handshake failed");
    };
    let why = match problem {
        // Signed by nobody it trusts, or by another authority of the same name.
        CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
            "the server's certificate was not signed by the authority this client trusts ({}). \
             Is it the file this server printed as its certificate authority? A server that \
             made new certificates has a new authority too.",
            authority.display()
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!(
                "the server's certificate is not for {host:?}. Connect with a name it is for \
                 (lesson 13's certificates are for localhost, 127.0.0.1 and ::1)."
            )
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "the server's certificate has expired. The server needs a new one (13_tls_echo \
             makes new ones when its folder is empty); never tell a client to accept it anyway."
                .to_string()
        }
        other => format!("the server's certificate was refused: {other:?}"),
    };
    anyhow::anyhow!("refusing to talk to the server: {why}")
}
// ANCHOR_END: explain

/// Sends `message` and a newline, and reads until that newline has come back.
fn send_line(
    tls: &mut StreamOwned<ClientConnection, TcpStream>,
    message: &str,
) -> anyhow::Result<String> {
    if message.contains('\n') {
        bail!("a message is one line: it must not contain a newline");
    }
    tls.write_all(format!("{message}\n").as_bytes())
        .context("sending to the server")?;
    // As in lesson 02: one read is not one reply. `take` bounds what a server that never sends
    // a newline can make us hold.
    let mut reply = Vec::new();
    BufReader::new(Read::by_ref(tls).take(message.len() as u64 + 1))
        .read_until(b'\n', &mut reply)
        .map_err(|error| match error.kind() {
            ErrorKind::UnexpectedEof => anyhow::anyhow!("the server ended the connection"),
            _ => anyhow::Error::new(error).context("reading the echo"),
        })?;
    if reply.pop() != Some(b'\n') || reply != message.as_bytes() {
        bail!(
            "the server answered {:?} instead of echoing {message:?}",
            String::from_utf8_lossy(&reply)
        );
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "13_tls_client",
    role: Role::Client,
    about: "Lesson 13: sends lines to the TLS echo server, after checking its certificate. \
            Options: --ca FILE, the certificate authority to trust (13_tls_echo prints it).",
    default_address: "127.0.0.1:65446",
    extra_usage: "[MESSAGE] [--ca FILE]",
    max_extra_args: 1,
    try_it: "Start the server first, in another terminal:\n  cargo run --bin 13_tls_echo\n\
             Then send one message:\n  cargo run --bin 13_tls_client -- 127.0.0.1:65446 hello",
};
