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

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};

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
    // TODO: trust the authority in `authority` (a RootCertStore holding its certificate, read
    // with CertificateDer::from_pem_file) instead of accepting anything.
    let _ = authority;
    let config = ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnything))
        .with_no_client_auth();
    // TODO: give the connect, and every read and write, a limit of `timeout`.
    let _ = timeout;
    let tcp = TcpStream::connect(server)?;
    let name = ServerName::try_from(name.to_string())?;
    let mut tls = StreamOwned::new(ClientConnection::new(Arc::new(config), name)?, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}
// ANCHOR_END: connect

/// WRONG, and the reason this exercise exists: a "verifier" that believes every certificate.
// TODO: delete this verifier, and its imports, once connect trusts the authority.
#[derive(Debug)]
struct AcceptAnything;

impl ServerCertVerifier for AcceptAnything {
    // TODO: delete with AcceptAnything.
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _certificate: &CertificateDer<'_>,
        _signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _certificate: &CertificateDer<'_>,
        _signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
