//! Lesson 13 end to end, over loopback: the TLS echo server with the lesson's client, with
//! Python's `ssl` module and `openssl s_client` (clients nobody here wrote), and through lesson
//! 09's chaos proxy. Each test keeps its certificates in a folder of its own. A test whose tool
//! is missing says so and passes without running.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use course::started::StartedServer;
use tls_lessons::certificates::{self, Validity};

const SERVER: &str = env!("CARGO_BIN_EXE_13_tls_echo");
const CLIENT: &str = env!("CARGO_BIN_EXE_13_tls_client");
const PATIENCE: Duration = Duration::from_secs(10);

/// A fresh folder for one test's certificates.
fn folder(test: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("tls-lessons-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    folder
}

/// The server, with its certificates in `folder`, and the authority file it printed.
fn start(folder: &Path) -> (StartedServer, PathBuf) {
    let mut command = Command::new(SERVER);
    command.arg("127.0.0.1:0").arg("--certs").arg(folder);
    let server = StartedServer::start(command, PATIENCE, false).expect("the server starts");
    let second = server.stdout.recv_timeout(PATIENCE).expect("a second line");
    let authority = second
        .strip_prefix("certificate authority: ")
        .unwrap_or_else(|| panic!("the second line names the authority, not {second:?}"));
    assert_eq!(Path::new(authority), folder.join("ca.pem"));
    (server, PathBuf::from(authority))
}

/// Runs the lesson's client, and what it printed.
fn client(address: &str, message: &str, authority: &Path) -> Output {
    Command::new(CLIENT)
        .args([address, message, "--ca"])
        .arg(authority)
        .stdin(Stdio::null())
        .output()
        .expect("run the client")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_lesson_client_echoes_by_address_and_by_name() {
    let folder = folder("echo");
    let (server, authority) = start(&folder);
    let port = server.address.port();
    for address in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let output = client(&address, "hello, sealed", &authority);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "received \"hello, sealed\"\n"
        );
    }
}

#[test]
fn the_server_keeps_its_certificates_between_runs() {
    let folder = folder("keeps");
    let first = std::fs::read(folder.join("ca.pem")).ok();
    assert!(first.is_none());
    let (server, authority) = start(&folder);
    let made = std::fs::read(&authority).expect("the authority's file");
    drop(server);
    let (_server, again) = start(&folder);
    assert_eq!(std::fs::read(again).expect("still there"), made);
}

/// On Unix the certificates' folder is the user's alone, and so is the private key: in the shared
/// temporary folder of Linux, anyone who read the key could pretend to be the server. A folder
/// made before, open to all, is closed when the server starts.
#[cfg(unix)]
#[test]
fn the_private_key_and_its_folder_are_yours_alone() {
    use std::os::unix::fs::PermissionsExt;
    // In octal, as `ls -l` and `chmod` write modes.
    let mode = |path: &Path| {
        let mode = std::fs::metadata(path)
            .expect("it exists")
            .permissions()
            .mode();
        format!("{:o}", mode & 0o777)
    };
    let folder = folder("private");
    let (server, _) = start(&folder);
    assert_eq!(mode(&folder), "700", "the folder");
    assert_eq!(mode(&folder.join(certificates::KEY_FILE)), "600", "the key");
    drop(server);
    let open = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(&folder, open).expect("open the folder");
    let (_server, _) = start(&folder);
    assert_eq!(mode(&folder), "700", "the folder, closed again");
}

/// What the server said on stderr when it refused `folder`; fails the test if it started there
/// instead (and stops it).
fn refusal(folder: &Path) -> String {
    let mut command = Command::new(SERVER);
    command.arg("127.0.0.1:0").arg("--certs").arg(folder);
    let Some((status, said)) = course::started::refusal(command, PATIENCE) else {
        panic!(
            "the server ran with --certs {} instead of refusing it",
            folder.display()
        );
    };
    assert!(!status.success(), "{status}");
    said
}

/// A folder that holds other files (`--certs ~`, `--certs .`) is refused and left as it was; on
/// Unix, so is another user's folder, even to root, who could change it (tried when the tests run
/// as root, the only user who can give a folder away).
#[test]
fn a_folder_with_other_files_or_of_another_user_is_refused() {
    let shared = folder("shared");
    std::fs::create_dir_all(&shared).expect("make the folder");
    std::fs::write(shared.join("notes.txt"), "mine").expect("a file of the user's");
    let said = refusal(&shared);
    assert!(said.contains("holds other files too"), "{said}");
    assert!(!shared.join("ca.pem").exists(), "nothing is written there");
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let planted = folder("planted");
        certificates::make(&planted, certificates::NAMES, Validity::Now).expect("certificates");
        let root = std::fs::metadata(&planted).expect("it exists").uid() == 0;
        if !root {
            eprintln!("skipped the other user's folder: only root can give one away");
            return;
        }
        std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).expect("give it away");
        let open = std::fs::Permissions::from_mode(0o777);
        std::fs::set_permissions(&planted, open).expect("open it");
        let said = refusal(&planted);
        assert!(said.contains("is another user's folder"), "{said}");
        let mode = std::fs::metadata(&planted)
            .expect("it exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o777, "left as it was");
    }
}

#[test]
fn a_client_refuses_a_server_whose_authority_it_does_not_trust() {
    let (server, _) = start(&folder("trusted"));
    let other = folder("other");
    certificates::make(&other, certificates::NAMES, Validity::Now).expect("another authority");
    let output = client(&server.address.to_string(), "hello", &other.join("ca.pem"));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("was not signed by the authority this client trusts"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_client_refuses_a_certificate_for_another_name() {
    let folder = folder("name");
    certificates::make(&folder, &["example.test"], Validity::Now).expect("certificates");
    let (server, authority) = start(&folder);
    let output = client(&server.address.to_string(), "hello", &authority);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("the server's certificate is not for \"127.0.0.1\""),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_client_refuses_an_expired_certificate() {
    let folder = folder("expired");
    certificates::make(&folder, certificates::NAMES, Validity::Expired).expect("certificates");
    let (server, authority) = start(&folder);
    let output = client(&server.address.to_string(), "hello", &authority);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("the server's certificate has expired"),
        "{}",
        stderr(&output)
    );
}

/// Python's own `ssl`, told to trust the authority (or not), as the chapter shows it.
const PYTHON_CLIENT: &str = r#"
import socket, ssl, sys
port, authority = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=authority) if authority else ssl.create_default_context()
with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
    try:
        with context.wrap_socket(plain, server_hostname="localhost") as sealed:
            sealed.sendall(b"from python\n")
            echo = b""
            while not echo.endswith(b"\n"):
                echo += sealed.recv(1024)
            print(echo.decode().strip(), sealed.version())
    except ssl.SSLCertVerificationError as error:
        print("refused:", error.verify_message)
"#;

/// A Python 3 that runs: `python3` on Linux and macOS, `py` or `python` on Windows. Windows'
/// `python3` may be the Store's stand-in and macOS's a stub until its tools are installed: each
/// exists and fails, so a command counts only once it answers `--version` with Python 3.
fn python_command() -> Option<&'static str> {
    ["python3", "py", "python"].into_iter().find(|command| {
        Command::new(command)
            .arg("--version")
            .output()
            .is_ok_and(|out| {
                out.status.success() && String::from_utf8_lossy(&out.stdout).starts_with("Python 3")
            })
    })
}

fn python(port: u16, authority: &str) -> Option<String> {
    let Some(python) = python_command() else {
        eprintln!("skipped: no Python 3 here (python3, py or python)");
        return None;
    };
    let output = Command::new(python)
        .args(["-c", PYTHON_CLIENT, &port.to_string(), authority])
        .output()
        .expect("python ran a moment ago");
    assert!(
        output.status.success(),
        "{python} failed: {}",
        stderr(&output)
    );
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[test]
fn pythons_ssl_echoes_with_the_authority_and_refuses_without_it() {
    let (server, authority) = start(&folder("python"));
    let port = server.address.port();
    let Some(trusted) = python(port, &authority.to_string_lossy()) else {
        return;
    };
    assert!(trusted.starts_with("from python TLSv1."), "{trusted}");
    let untrusted = python(port, "").expect("python3 ran before");
    assert!(untrusted.starts_with("refused:"), "{untrusted}");
}

#[test]
fn openssl_s_client_echoes_with_the_authority() {
    let (server, authority) = start(&folder("openssl"));
    let child = Command::new("openssl")
        .args(["s_client", "-quiet", "-verify_return_error", "-CAfile"])
        .arg(&authority)
        .args(["-verify_hostname", "localhost", "-connect"])
        .arg(server.address.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("skipped: openssl is not installed here");
        return;
    };
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(b"from openssl\n").expect("send a line");
    let mut echo = String::new();
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout)
        .read_line(&mut echo)
        .expect("the echo");
    // With -quiet, s_client stays until the server closes, even after its input ends: stop it.
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(echo, "from openssl\n");
}

/// Lesson 09's proxy, built beside this test's programs when the whole workspace is built.
fn chaos_proxy() -> Option<PathBuf> {
    let proxy =
        Path::new(SERVER).with_file_name(format!("09_chaos_proxy{}", std::env::consts::EXE_SUFFIX));
    proxy.exists().then_some(proxy)
}

#[test]
fn tls_arrives_whole_through_the_chaos_proxy() {
    let Some(proxy) = chaos_proxy() else {
        eprintln!("skipped: 09_chaos_proxy is not built (cargo build --bin 09_chaos_proxy)");
        return;
    };
    let (server, authority) = start(&folder("proxy"));
    let mut command = Command::new(proxy);
    command.arg("127.0.0.1:0").arg(server.address.to_string());
    let proxy = StartedServer::start(command, PATIENCE, false).expect("the proxy starts");
    let line = "a line long enough to be cut into many pieces on its way, both ways";
    let output = client(&proxy.address.to_string(), line, &authority);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("received {line:?}\n")
    );
    // What the proxy forwarded is ciphertext: the line is nowhere in it. A plain client
    // through the same kind of proxy to lesson 03 would show it; here the server only sees
    // TLS records, and a reader on the path sees the same.
    let mut plain = TcpStream::connect(proxy.address).expect("connect through the proxy");
    plain.set_read_timeout(Some(PATIENCE)).expect("a timeout");
    plain.write_all(b"hello in plain text\n").expect("send");
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(
        !String::from_utf8_lossy(&answer).contains("hello in plain text"),
        "a TLS server must not echo plain text"
    );
}

#[test]
fn a_plain_text_client_gets_no_echo() {
    let (server, _) = start(&folder("plain"));
    let address: SocketAddr = server.address;
    let mut plain = TcpStream::connect(address).expect("connect");
    plain.set_read_timeout(Some(PATIENCE)).expect("a timeout");
    plain.write_all(b"hello\n").expect("send");
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    // A TLS alert (record type 21), then the close: never the line.
    assert_eq!(answer.first(), Some(&21), "{answer:?}");
}

/// Lesson 12's server, built beside this test's programs when the whole workspace is built.
fn lesson_12() -> Option<PathBuf> {
    let server =
        Path::new(SERVER).with_file_name(format!("12_http{}", std::env::consts::EXE_SUFFIX));
    server.exists().then_some(server)
}

#[test]
fn curl_fetches_lesson_12s_file_over_https() {
    let Some(lesson_12) = lesson_12() else {
        eprintln!("skipped: 12_http is not built (cargo build --bin 12_http)");
        return;
    };
    let site_folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons/12_http_site");
    let mut command = Command::new(lesson_12);
    command.arg("127.0.0.1:0").arg(&site_folder);
    let site = StartedServer::start(command, PATIENCE, false).expect("lesson 12 starts");
    let folder = folder("https");
    let mut command = Command::new(env!("CARGO_BIN_EXE_13_https"));
    command
        .arg("127.0.0.1:0")
        .arg(site.address.to_string())
        .arg("--certs")
        .arg(&folder);
    let https = StartedServer::start(command, PATIENCE, false).expect("13_https starts");
    let authority = folder.join("ca.pem");
    let url = format!("https://localhost:{}/hello.txt", https.address.port());
    let curl = |extra: &[&str]| {
        let mut curl = Command::new("curl");
        curl.args(["--silent", "--show-error", "--max-time", "10"]);
        if cfg!(windows) {
            // Windows' own curl (Schannel) asks whether the certificate was revoked, and the
            // lesson's name no place to ask: let that pass (chapter 13).
            curl.arg("--ssl-revoke-best-effort");
        }
        curl.args(extra)
            .arg("--cacert")
            .arg(&authority)
            .arg(&url)
            .output()
    };
    let Ok(fetched) = curl(&[]) else {
        eprintln!("skipped: curl is not installed here");
        return;
    };
    assert!(fetched.status.success(), "{}", stderr(&fetched));
    let file = std::fs::read(site_folder.join("hello.txt")).expect("lesson 12's file");
    assert_eq!(fetched.stdout, file);
    // A request head of 7 KiB (lesson 12 takes up to 8 KiB) comes in more TLS bytes than rustls
    // takes in one call of `read_tls`: 13_https must hand it all on, not the first 4 KiB.
    let large_head = format!("X-Padding: {}", "a".repeat(7 * 1024));
    let fetched = curl(&["--header", &large_head]).expect("curl ran before");
    assert!(
        fetched.status.success(),
        "a request with a 7 KiB head failed through 13_https: {}",
        stderr(&fetched)
    );
    assert_eq!(fetched.stdout, file);
    // Without the authority, curl refuses the certificate (its exit status 60).
    let refused = Command::new("curl")
        .args(["--silent", "--max-time", "10", &url])
        .output()
        .expect("curl ran before");
    assert_eq!(refused.status.code(), Some(60), "{}", stderr(&refused));
}

/// A stand-in for lesson 12 behind 13_https: it takes one connection, reads everything until
/// the end (or gives up after `PATIENCE` of silence), then answers with how many bytes came.
fn counting_upstream() -> (SocketAddr, std::thread::JoinHandle<std::io::Result<usize>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("its address");
    let counting = std::thread::spawn(move || {
        let (mut connection, _) = listener.accept()?;
        connection.set_read_timeout(Some(PATIENCE))?;
        let mut received = Vec::new();
        connection.read_to_end(&mut received)?;
        connection.write_all(format!("received {}\n", received.len()).as_bytes())?;
        Ok(received.len())
    });
    (address, counting)
}

/// 13_https in front of `upstream`, and the authority its certificates come from.
fn https_in_front_of(upstream: SocketAddr, test: &str) -> (StartedServer, PathBuf) {
    let folder = folder(test);
    let mut command = Command::new(env!("CARGO_BIN_EXE_13_https"));
    command
        .arg("127.0.0.1:0")
        .arg(upstream.to_string())
        .arg("--certs")
        .arg(&folder);
    let https = StartedServer::start(command, PATIENCE, true).expect("13_https starts");
    (https, folder.join("ca.pem"))
}

/// A TLS client of 13_https, handshake done, trusting only `authority`.
fn tls_client_of(
    https: &StartedServer,
    authority: &Path,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut trusted = rustls::RootCertStore::empty();
    trusted
        .add(rustls::pki_types::CertificateDer::from_pem_file(authority).expect("the authority"))
        .expect("a usable authority");
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(trusted)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
    let connection =
        rustls::ClientConnection::new(std::sync::Arc::new(config), name).expect("a connection");
    let tcp = TcpStream::connect_timeout(&https.address, PATIENCE).expect("connect to 13_https");
    tcp.set_read_timeout(Some(PATIENCE))
        .expect("a read timeout");
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).expect("the handshake");
    }
    tls
}

/// An upload sent as TLS records of 6,000 bytes: one read of the terminator's can end up holding
/// more than rustls keeps of plain text (16 KiB) unless the text is taken out as it comes. Every
/// byte must reach the server behind.
#[test]
fn an_upload_in_mid_sized_records_reaches_the_server_behind_whole() {
    const UPLOAD: usize = 2_000_000;
    let (upstream, counting) = counting_upstream();
    let (https, authority) = https_in_front_of(upstream, "upload");
    let mut tls = tls_client_of(&https, &authority);
    let piece = [b'u'; 6000];
    let mut sent = 0;
    while sent < UPLOAD {
        let size = piece.len().min(UPLOAD - sent);
        // One `write_all` makes one record, of `size` bytes of text.
        tls.write_all(&piece[..size]).unwrap_or_else(|error| {
            panic!("sending the upload failed after {sent} bytes: {error}: see 13_https's log")
        });
        sent += size;
    }
    tls.conn.send_close_notify();
    tls.flush().expect("send the goodbye");
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer);
    let received = counting
        .join()
        .expect("the upstream thread")
        .expect("the upstream read to the end");
    let log: Vec<String> = https
        .stderr
        .as_ref()
        .map(|lines| lines.try_iter().collect())
        .unwrap_or_default();
    assert_eq!(
        received, UPLOAD,
        "13_https passed on {received} of the {UPLOAD} bytes uploaded; its log: {log:?}"
    );
    assert_eq!(answer, format!("received {UPLOAD}\n"));
}

/// A client that says goodbye in TLS (close_notify) and sends more bytes in the same write: the
/// terminator must stop there and tell the server behind that the client is done, not try for
/// ever to hand rustls bytes it no longer takes.
#[test]
fn bytes_after_the_clients_goodbye_are_let_go() {
    let (upstream, counting) = counting_upstream();
    let (https, authority) = https_in_front_of(upstream, "goodbye");
    let mut tls = tls_client_of(&https, &authority);
    tls.write_all(b"GET / HTTP/1.1\r\n\r\n")
        .expect("send a request");
    tls.flush().expect("send it now");
    tls.conn.send_close_notify();
    let mut goodbye_and_more = Vec::new();
    tls.conn
        .write_tls(&mut goodbye_and_more)
        .expect("the goodbye's bytes");
    // The start of another record, and more: bytes rustls will not take after the goodbye.
    goodbye_and_more.extend_from_slice(&[0x17, 0x03, 0x03, 0x3e, 0x80]);
    goodbye_and_more.extend_from_slice(&[0; 8000]);
    tls.sock
        .write_all(&goodbye_and_more)
        .expect("send the goodbye and more");
    let received = counting
        .join()
        .expect("the upstream thread")
        .unwrap_or_else(|error| {
            panic!(
                "the server behind 13_https never heard the client was done ({:?}): is 13_https \
                 still feeding rustls bytes after the client's goodbye?",
                error.kind()
            )
        });
    assert_eq!(received, "GET / HTTP/1.1\r\n\r\n".len());
}

/// Once the server behind has closed (here at once), 13_https closes the client's connection
/// both ways, so a client that then says nothing keeps no thread there. Linux only: the test
/// counts the process's threads in /proc.
#[cfg(target_os = "linux")]
#[test]
fn a_silent_client_keeps_no_thread_once_the_server_behind_has_closed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let upstream = listener.local_addr().expect("its address");
    // A server behind that closes every connection at once.
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            drop(connection);
        }
    });
    let (https, authority) = https_in_front_of(upstream, "silent");
    let threads = || {
        let status = std::fs::read_to_string(format!("/proc/{}/status", https.id()))
            .expect("the server's status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("Threads:"))
            .and_then(|count| count.trim().parse::<usize>().ok())
            .expect("a thread count")
    };
    let _silent = tls_client_of(&https, &authority);
    // The main thread is all that should be left, soon.
    let started = std::time::Instant::now();
    while threads() > 1 {
        assert!(
            started.elapsed() < PATIENCE,
            "13_https still has {} threads {PATIENCE:?} after the server behind closed: the \
             silent client's thread is still waiting for it",
            threads()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
