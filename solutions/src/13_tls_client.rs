//! Exercise 13: a TLS client that checks who it talks to.
//!
//! `connect` opens a TLS connection to `server` and completes the handshake, ready for the
//! caller to send and receive. As shipped it accepts any certificate at all: the classic mistake,
//! made to get rid of a certificate error, which lets anyone on the path pretend to be the server.
//! Make it trust the certificate authority in the PEM file `authority`, and nobody else, so that
//! the handshake fails (and `connect` returns an error) unless the server's certificate was signed
//! by that authority, is for `name`, and has not expired. Give every wait a limit of `timeout`: a
//! server that says nothing must not keep the client for ever.
//!
//! Check it:       cargo test -p exercises 13
//! Try it by hand: cargo run --bin 13_tls_echo                  (in one terminal)
//!                 cargo run -p exercises --example ex13_tls_client -- 127.0.0.1:65446 hello
//! Hints are in the book, chapter "13: TLS, the echo sealed".

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A TLS connection over TCP, its handshake done.
pub type Connection = StreamOwned<ClientConnection, TcpStream>;

// ANCHOR: connect
/// Connects to `server`, which must prove it is `name` with a certificate from the authority in
/// the PEM file `authority`, and completes the TLS handshake.
pub fn connect(
    server: SocketAddr,
    name: &str,
    authority: &Path,
    timeout: Duration,
) -> anyhow::Result<Connection> {
    // The one authority this client trusts. rustls's own verifier then checks the rest: that the
    // certificate was signed by it, is for `name`, and is within its dates.
    let mut trusted = RootCertStore::empty();
    let certificate = CertificateDer::from_pem_file(authority)
        .with_context(|| format!("reading the authority {}", authority.display()))?;
    trusted.add(certificate)?;
    let config = ClientConfig::builder()
        .with_root_certificates(trusted)
        .with_no_client_auth();
    let tcp = TcpStream::connect_timeout(&server, timeout)?;
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    let name = ServerName::try_from(name.to_string())?;
    let mut tls = StreamOwned::new(ClientConnection::new(Arc::new(config), name)?, tcp);
    // The handshake now, so that a certificate refused is `connect`'s error.
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}
// ANCHOR_END: connect
