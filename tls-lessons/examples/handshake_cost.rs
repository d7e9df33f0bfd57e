//! What a TLS handshake costs: new connections per second to lesson 03's echo server and to
//! lesson 13's, each carrying one short line and its echo, one connection after another. The
//! TLS server is measured twice: with every handshake a full one (the client keeps no sessions),
//! and with the client resuming the session the server gave it last time, as rustls's client
//! does by default (TLS 1.3's tickets, RFC 8446 section 2.2: no certificate, no signature).
//!
//! The chapter's figures come from this run (Linux or macOS; the servers are built first, with
//! the same profile):
//!
//!     cargo build --release --bin 03_threaded_echo --bin 13_tls_echo
//!     cargo run --release -p tls-lessons --example handshake_cost > book/src/measurements/tls_handshake.txt

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use course::started::StartedServer;
use rustls::client::Resumption;
use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// Connections per server, one after another.
const CONNECTIONS: usize = 1000;
const PATIENCE: Duration = Duration::from_secs(10);

fn main() -> course::cli::MainResult {
    course::cli::no_arguments("handshake_cost")?;
    let folder = std::env::temp_dir().join(format!("handshake-cost-{}", std::process::id()));
    let plain = start("03_threaded_echo", &[])?;
    let folder_text = folder.to_string_lossy().into_owned();
    let sealed = start("13_tls_echo", &["--certs", &folder_text])?;
    let authority = folder.join("ca.pem");

    let mut trusted = RootCertStore::empty();
    trusted.add(rustls::pki_types::CertificateDer::from_pem_file(
        &authority,
    )?)?;
    let resuming = ClientConfig::builder()
        .with_root_certificates(trusted)
        .with_no_client_auth();
    // The same client, told to forget every session: each connection starts from nothing.
    let mut forgetting = resuming.clone();
    forgetting.resumption = Resumption::disabled();
    let (resuming, forgetting) = (Arc::new(resuming), Arc::new(forgetting));

    println!(
        "{CONNECTIONS} connections one after another, each: connect, send one line, read its \
         echo, close"
    );
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    // The servers come from the same profile as this program (see `start`), so this program's
    // own build says how they were built. A debug build measures the compiler more than TLS.
    let build = if cfg!(debug_assertions) {
        "a debug build (not comparable: run with --release)"
    } else {
        "built with --release"
    };
    println!(
        "on {} ({}), {cores} cores, servers {build}",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    println!("server                         connections/s   median per connection");
    let times = measure(|| plain_round(plain.address))?;
    report("03_threaded_echo", &times);
    let times = measure(|| sealed_round(sealed.address, &forgetting))?;
    report("13_tls_echo, full handshakes", &times);
    let times = measure(|| sealed_round(sealed.address, &resuming))?;
    report("13_tls_echo, resumed sessions", &times);
    let _ = std::fs::remove_dir_all(&folder);
    Ok(())
}

/// Times `CONNECTIONS` runs of `round`.
fn measure(mut round: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let started = Instant::now();
        round()?;
        times.push(started.elapsed());
    }
    Ok(times)
}

fn report(name: &str, times: &[Duration]) {
    let total: Duration = times.iter().sum();
    let mut sorted = times.to_vec();
    sorted.sort();
    println!(
        "{name:<30} {:>13.0}   {:>10.0} µs",
        times.len() as f64 / total.as_secs_f64(),
        sorted[sorted.len() / 2].as_secs_f64() * 1e6
    );
}

fn plain_round(address: SocketAddr) -> anyhow::Result<()> {
    let stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(PATIENCE))?;
    echo_once(stream)
}

fn sealed_round(address: SocketAddr, config: &Arc<ClientConfig>) -> anyhow::Result<()> {
    let tcp = TcpStream::connect(address)?;
    tcp.set_read_timeout(Some(PATIENCE))?;
    let name = ServerName::try_from("localhost")?;
    let mut tls = StreamOwned::new(ClientConnection::new(Arc::clone(config), name)?, tcp);
    echo_once(&mut tls)?;
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(())
}

/// One line, and its echo.
fn echo_once(mut stream: impl Read + Write) -> anyhow::Result<()> {
    stream.write_all(b"ping\n")?;
    let mut echo = String::new();
    BufReader::new(&mut stream).read_line(&mut echo)?;
    if echo != "ping\n" {
        bail!("the server answered {echo:?}");
    }
    Ok(())
}

/// Starts a lesson's server built beside this example, on a free port.
fn start(name: &str, extra: &[&str]) -> anyhow::Result<StartedServer> {
    let binary: PathBuf = std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .context("find the target folder")?
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        bail!(
            "{} is missing: build it first with the same profile, e.g. \
             `cargo build --release --bin {name}`",
            binary.display()
        );
    }
    let mut command = Command::new(binary);
    command.arg("127.0.0.1:0").args(extra);
    StartedServer::start(command, PATIENCE, false)
}
