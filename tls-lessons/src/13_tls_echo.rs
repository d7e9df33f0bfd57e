//! Lesson 13: the threaded echo server, sealed with TLS.
//!
//! Lesson 03's echo server, with one change: each connection begins with a TLS handshake, and
//! every byte after it travels encrypted and sealed against change. The server proves who it is
//! with a certificate signed by the lesson's own certificate authority, which it makes the first
//! time it starts (see `certificates.rs`), and prints where the authority's certificate is: a
//! client that trusts that file can be sure it talks to this server, and to nobody else.
//!
//! Usage: `13_tls_echo [ADDRESS] [--certs FOLDER]` (the folder keeps the certificates between
//! runs; by default one in the system's folder for temporary files).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use anyhow::Context;
use course::accept::AcceptFailures;
use course::cli::{Program, Role};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tls_lessons::certificates;

fn main() -> course::cli::MainResult {
    let (folder, rest) = course::cli::take_option("--certs", course::cli::arguments()?)?;
    let folder = folder.map_or_else(certificates::default_folder, PathBuf::from);
    let address = match PROGRAM.parse(rest)? {
        course::cli::Parsed::Run(args) => args.address,
        course::cli::Parsed::Help => PROGRAM.print_help_and_exit(),
    };

    // ANCHOR: config
    // Who the server is: its certificate and the key that proves it holds it. The same
    // configuration serves every connection, so it is made once and shared.
    let identity = certificates::load_or_make(&folder)?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![identity.certificate], identity.key)
        .context("the certificate and key do not fit together: delete the folder for new ones")?;
    let config = Arc::new(config);
    // ANCHOR_END: config

    let listener =
        TcpListener::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", listener.local_addr()?);
    println!("certificate authority: {}", identity.authority.display());

    // The accept loop of lesson 03: a thread per client.
    let mut failures = AcceptFailures::new();
    for connection in listener.incoming() {
        let stream = match connection {
            Ok(stream) => stream,
            Err(error) => {
                failures.pause_after(error);
                continue;
            }
        };
        failures.over();
        let Ok(peer) = stream.peer_addr() else {
            continue; // It left between accept and this call.
        };
        let config = Arc::clone(&config);
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .spawn(move || serve_client(stream, peer, config));
        if let Err(error) = spawned {
            eprintln!("cannot start a thread for {peer}: {error}");
        }
    }
    Ok(())
}

// ANCHOR: serve_client
/// Runs on the client's own thread: the handshake, then the echo, then how the client left.
fn serve_client(tcp: TcpStream, peer: SocketAddr, config: Arc<ServerConfig>) {
    println!("{peer} connected");
    // The TLS side of the connection, and the socket under it, as one stream: reading from it
    // does the handshake first, then returns the client's bytes, decrypted and checked.
    let tls = match ServerConnection::new(config) {
        Ok(connection) => StreamOwned::new(connection, tcp),
        Err(error) => return eprintln!("{peer}: cannot begin TLS: {error}"),
    };
    match echo(tls) {
        Ok(()) => println!("{peer} disconnected"),
        Err(error) => println!("{peer} disconnected abruptly: {}", explain(&error)),
    }
}

/// Sends every byte back, sealed, until the client ends the TLS session.
fn echo(mut tls: StreamOwned<ServerConnection, TcpStream>) -> std::io::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = tls.read(&mut buffer)?;
        if count == 0 {
            // The client said goodbye in TLS (a "close_notify" alert): say it back.
            tls.conn.send_close_notify();
            return tls.flush();
        }
        tls.write_all(&buffer[..count])?;
    }
}
// ANCHOR_END: serve_client

// ANCHOR: explain
/// Says in words what went wrong with a client's TLS connection.
fn explain(error: &std::io::Error) -> String {
    let tls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls_error {
        Some(rustls::Error::AlertReceived(alert)) => format!(
            "the client refused the handshake ({alert:?}): a client that does not trust the \
             certificate authority refuses the certificate; give it the file the server printed"
        ),
        Some(rustls::Error::InvalidMessage(_)) => {
            "the client does not speak TLS (plain text to a TLS server?)".to_string()
        }
        Some(other) => format!("TLS: {other}"),
        // The socket closed without TLS's goodbye: many clients just close.
        None if error.kind() == ErrorKind::UnexpectedEof => {
            "it closed the connection without ending the TLS session (no close_notify)".to_string()
        }
        None => error.to_string(),
    }
}
// ANCHOR_END: explain

/// The command line: what `--help` says, and the address used when none is given.
const PROGRAM: Program = Program {
    name: "13_tls_echo",
    role: Role::Server,
    about: "Lesson 13: lesson 03's echo server over TLS, with a certificate from an authority it \
            makes itself. Options: --certs FOLDER, where the certificates are kept.",
    default_address: "127.0.0.1:65446",
    extra_usage: "[--certs FOLDER]",
    max_extra_args: 0,
    try_it: "Talk to it with the lesson's client, which trusts the authority the server prints:\n  \
             cargo run --bin 13_tls_client -- 127.0.0.1:65446\n\
             or with openssl:\n  \
             openssl s_client -quiet -verify_return_error -CAfile CA_FILE -verify_hostname \
             localhost -connect 127.0.0.1:65446",
};
