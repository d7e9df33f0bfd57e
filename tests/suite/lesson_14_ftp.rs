//! Lesson 14 end to end: the issue's "done means" with Python's ftplib and curl, ten ftplib
//! clients at once, and a raw client for the exact reply of every refusal and every limit.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use support::{PATIENCE, Server};

const FTP: &str = env!("CARGO_BIN_EXE_14_ftp");
/// The lesson's own small site, as the server is told to serve it (tests run from the top).
const SITE: &str = "lessons/14_ftp_site";
/// The site's text file, as the server must send it.
const HELLO: &[u8] = include_bytes!("../../lessons/14_ftp_site/hello.txt");
/// The size of the binary file made for each test: the issue's 300 KB.
const BINARY_BYTES: usize = 300 * 1024;

/// A served folder made for one test: the lesson's site, plus `big.bin` (300 KB that no text
/// conversion would leave alone: every byte value, CR and LF included). Removed when dropped.
struct TempSite {
    /// The folder to serve, `.../site`, inside a folder of its own for things beside it.
    root: PathBuf,
    /// What `big.bin` holds.
    binary: Vec<u8>,
}

impl TempSite {
    fn new() -> TempSite {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let number = NEXT.fetch_add(1, Ordering::SeqCst);
        let outer =
            std::env::temp_dir().join(format!("course-14-ftp-{}-{number}", std::process::id()));
        let root = outer.join("site");
        std::fs::create_dir_all(root.join("docs")).expect("make a temporary site");
        for file in ["hello.txt", "docs/replies.txt", "gradient.png"] {
            std::fs::copy(Path::new(SITE).join(file), root.join(file)).expect("copy the site");
        }
        let binary = binary_bytes(BINARY_BYTES);
        std::fs::write(root.join("big.bin"), &binary).expect("write big.bin");
        TempSite { root, binary }
    }

    fn path(&self) -> &str {
        self.root
            .to_str()
            .expect("a temporary folder with a UTF-8 name")
    }

    /// The folder around the site, where things outside it go.
    fn outside(&self) -> PathBuf {
        self.root
            .parent()
            .expect("the site has a parent")
            .to_path_buf()
    }
}

impl Drop for TempSite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.outside());
    }
}

/// `count` bytes that look random and are the same every run.
fn binary_bytes(count: usize) -> Vec<u8> {
    let mut state: u32 = 14;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as u8
        })
        .collect()
}

/// Starts the server on any port, serving `folder` with `options`, past its two first lines.
fn start(folder: &str, options: &[&str]) -> Server {
    let mut args = vec!["127.0.0.1:0", folder];
    args.extend_from_slice(options);
    let server = Server::start(FTP, &args);
    assert!(server.next_line().starts_with("serving "));
    server
}

/// Runs `python -c script ARGS...`, or `None` (with a word) where there is no Python.
fn python(script: &str, args: &[&str]) -> Option<Output> {
    let python = support::python_command()?;
    Some(support::output_within_patience(
        Command::new(python).arg("-c").arg(script).args(args),
    ))
}

/// Whether curl runs here; says the test is skipped if not.
fn curl_available() -> bool {
    let found = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        eprintln!("skipping: no curl here (on Debian: apt-get install curl)");
    }
    found
}

/// stdout, after checking the client succeeded (else its stderr says why).
fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The ftplib script for the issue's "done means", one line of output per step.
const DONE_MEANS: &str = r#"
import ftplib, io, sys
host, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
f = ftplib.FTP(); f.connect(host, port, timeout=10)
print(f.login())
print(f.pwd())
print(sorted(f.nlst()))
lines = []; f.dir(lines.append)
print(len(lines), all(line.split()[-1] in ('big.bin', 'docs', 'gradient.png', 'hello.txt') for line in lines))
for name in ('hello.txt', 'big.bin'):
    got = io.BytesIO(); f.retrbinary('RETR ' + name, got.write)
    print(name, got.getvalue() == open(root + '/' + name, 'rb').read())
print(f.size('big.bin'))
print(f.cwd('docs')); print(f.pwd()); print(f.cwd('..')); print(f.pwd())
print(f.cwd('..')); print(f.cwd('../../..')); print(f.pwd())
# Enough '..' to reach / from any temporary folder: a server that glued the path on would serve it.
for bad in ('../' * 16 + 'etc/passwd', '/etc/passwd'):
    try: f.retrbinary('RETR ' + bad, print); print('served', bad)
    except ftplib.error_perm as e: print(str(e)[:3])
try: f.storbinary('STOR new.bin', io.BytesIO(b'x')); print('stored')
except ftplib.error_perm as e: print(e)
print(f.quit())
"#;

#[test]
fn ftplib_logs_in_lists_retrieves_and_stays_inside_the_folder() {
    let site = TempSite::new();
    let server = start(site.path(), &[]);
    let port = server.address.port().to_string();
    let Some(output) = python(DONE_MEANS, &["127.0.0.1", &port, site.path()]) else {
        return;
    };
    let stdout = succeeded(&output);
    let expected = format!(
        "230 Logged in. The folder is read-only.\n/\n\
         ['big.bin', 'docs', 'gradient.png', 'hello.txt']\n4 True\n\
         hello.txt True\nbig.bin True\n{BINARY_BYTES}\n\
         250 The current folder is \"/docs\".\n/docs\n250 The current folder is \"/\".\n/\n\
         250 The current folder is \"/\".\n250 The current folder is \"/\".\n/\n550\n550\n\
         550 Permission denied: this server is read-only (start it with --writable).\n\
         221 Goodbye.\n"
    );
    assert_eq!(stdout, expected);
    assert!(!site.root.join("new.bin").exists());
}

#[test]
fn ftplib_stores_byte_for_byte_with_writable() {
    let site = TempSite::new();
    let server = start(site.path(), &["--writable"]);
    let port = server.address.port().to_string();
    let script = r#"
import ftplib, io, sys
f = ftplib.FTP(); f.connect(sys.argv[1], int(sys.argv[2]), timeout=10); f.login()
data = bytes(range(256)) * 1200 + b'\r\n\n\r'
print(f.storbinary('STOR uploaded.bin', io.BytesIO(data)))
got = io.BytesIO(); f.retrbinary('RETR uploaded.bin', got.write)
print(got.getvalue() == data, f.size('uploaded.bin') == len(data))
print(f.mkd('made')); print(f.rmd('made')); print(f.delete('uploaded.bin'))
"#;
    let Some(output) = python(script, &["127.0.0.1", &port]) else {
        return;
    };
    let stdout = succeeded(&output);
    assert_eq!(
        stdout,
        "226 Stored 307204 bytes.\nTrue True\n/made\n250 Done.\n250 Done.\n"
    );
    assert!(!site.root.join("uploaded.bin").exists());
}

#[test]
fn the_stored_file_is_byte_for_byte_what_was_sent() {
    // The same as above, checked on the disk rather than by reading it back over FTP.
    let site = TempSite::new();
    let server = start(site.path(), &["--writable"]);
    let mut client = Client::logged_in(server.address);
    let mut data = client.passive();
    let (code, _) = client.command("STOR copy.bin");
    assert_eq!(code, 150);
    data.write_all(&site.binary).expect("send the file");
    drop(data);
    assert_eq!(client.reply().0, 226);
    let stored = std::fs::read(site.root.join("copy.bin")).expect("the stored file");
    assert!(
        stored == site.binary,
        "the stored file differs from what was sent"
    );
}

#[test]
fn ten_ftplib_clients_at_once_all_succeed() {
    let site = TempSite::new();
    let server = start(site.path(), &[]);
    let port = server.address.port().to_string();
    // Ten threads, each with its own connection; all logged in before any starts to download,
    // so that the ten are served at the same time, not one after another.
    let script = r#"
import ftplib, io, sys, threading
host, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
expected = open(root + '/big.bin', 'rb').read()
everyone_in = threading.Barrier(10, timeout=10)
results = []
def client():
    f = ftplib.FTP(); f.connect(host, port, timeout=10); f.login()
    everyone_in.wait()
    got = io.BytesIO(); f.retrbinary('RETR big.bin', got.write)
    results.append(got.getvalue() == expected and f.nlst() == ['big.bin', 'docs', 'gradient.png', 'hello.txt'])
    f.quit()
threads = [threading.Thread(target=client) for _ in range(10)]
for t in threads: t.start()
for t in threads: t.join()
print(results.count(True), 'of', len(results))
"#;
    let Some(output) = python(script, &["127.0.0.1", &port, site.path()]) else {
        return;
    };
    assert_eq!(succeeded(&output), "10 of 10\n");
}

#[test]
fn curl_downloads_a_file_and_lists_a_folder() {
    if !curl_available() {
        return;
    }
    let site = TempSite::new();
    let server = start(site.path(), &[]);
    let url = format!("ftp://{}/", server.address);
    let curl = |args: &[&str]| {
        let mut command = Command::new("curl");
        command.args(["-sS", "--max-time", "10"]).args(args);
        let output = support::output_within_patience(&mut command);
        assert!(
            output.status.success(),
            "curl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    assert_eq!(curl(&[&format!("{url}hello.txt")]), HELLO);
    assert!(curl(&[&format!("{url}big.bin")]) == site.binary);
    // PASV instead of EPSV, as older servers need.
    let old_style = curl(&["--disable-epsv", &format!("{url}docs/replies.txt")]);
    assert_eq!(
        old_style,
        std::fs::read(site.root.join("docs/replies.txt")).unwrap()
    );
    // Listings travel as text (TYPE A), with CR LF line ends; curl makes them this
    // system's line ends, so the test compares lines.
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    let names = "big.bin\ndocs\ngradient.png\nhello.txt\n";
    assert_eq!(text(curl(&["--list-only", &url])), names);
    assert_eq!(text(curl(&["-l", &format!("{url}docs/")])), "replies.txt\n");
    // A folder URL without --list-only asks for LIST: lines like `ls -l`.
    let listing = String::from_utf8_lossy(&curl(&[&url])).into_owned();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 4, "{listing}");
    assert!(lines[1].starts_with("dr-xr-xr-x 1 ftp ftp "), "{listing}");
    assert!(lines[1].ends_with(" docs"), "{listing}");
    assert!(
        lines[0].starts_with("-r--r--r-- 1 ftp ftp       307200 "),
        "{listing}"
    );
}

// ANCHOR: transcript
/// The session the chapter shows: the book's own ftplib script, and the server's log of it.
#[test]
fn an_ftplib_session_as_the_server_logs_it() {
    let server = start(SITE, &[]);
    let port = server.address.port().to_string();
    let script = include_str!("../../book/src/python/ftp_client.py");
    let Some(output) = python(script, &["127.0.0.1", &port]) else {
        return;
    };
    let client_saw = succeeded(&output);
    // The server logs `... disconnected: ...` last: wait for it, so the log is whole.
    let mut log = Vec::new();
    loop {
        let line = server.next_line();
        let done = line.contains(" disconnected");
        log.push(line);
        if done {
            break;
        }
    }
    let log = masked_ports(&support::normalize(&log.join("\n"), server.address, "x"));
    insta::assert_snapshot!("14_ftplib_server_log", log);
    insta::assert_snapshot!("14_ftplib_client_output", masked_ports(&client_saw));
}
// ANCHOR_END: transcript

/// The log with the data ports announced by PASV (`(127,0,0,1,195,80)`) and EPSV
/// (`(|||50000|)`) replaced by the ones a reader would see with the default address.
fn masked_ports(text: &str) -> String {
    text.lines()
        .map(|line| {
            if let Some(at) = line.find("(127,0,0,1,") {
                format!("{}(127,0,0,1,195,80).", &line[..at])
            } else if let Some(at) = line.find("(|||") {
                format!("{}(|||50000|)", &line[..at])
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A raw FTP client, for the exact replies.
struct Client {
    control: BufReader<TcpStream>,
}

impl Client {
    /// Connected, greeting read.
    fn connect(address: SocketAddr) -> Client {
        let mut client = Client {
            control: BufReader::new(support::connect(address)),
        };
        assert_eq!(client.reply().0, 220);
        client
    }

    fn logged_in(address: SocketAddr) -> Client {
        let mut client = Client::connect(address);
        assert_eq!(client.command("USER anonymous").0, 331);
        assert_eq!(client.command("PASS guest@").0, 230);
        client
    }

    /// Sends `line` and returns the reply's code and text (the last line's, for multi-line).
    fn command(&mut self, line: &str) -> (u16, String) {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    fn send(&mut self, bytes: &[u8]) {
        let stream = self.control.get_mut();
        stream.write_all(bytes).expect("send a command");
    }

    /// One reply: `123 text`, or `123-...` lines up to `123 text`.
    fn reply(&mut self) -> (u16, String) {
        loop {
            let mut line = String::new();
            let count = self.control.read_line(&mut line).expect("a reply in time");
            assert!(count > 0, "the server closed the connection");
            assert!(line.ends_with("\r\n"), "replies end with CR LF: {line:?}");
            let code = line.get(..3).and_then(|code| code.parse().ok());
            if let (Some(code), Some(" ")) = (code, line.get(3..4)) {
                return (code, line[4..].trim_end().to_string());
            }
        }
    }

    /// PASV, and a connection to the port it announced.
    fn passive(&mut self) -> TcpStream {
        let address = self.pasv();
        support::connect(address)
    }

    /// PASV's announced address.
    fn pasv(&mut self) -> SocketAddr {
        let (code, text) = self.command("PASV");
        assert_eq!(code, 227, "{text}");
        let numbers: Vec<u16> = text
            .split(['(', ')'])
            .nth(1)
            .expect("(h1,h2,h3,h4,p1,p2)")
            .split(',')
            .map(|number| number.parse().expect("a number"))
            .collect();
        let ip = format!(
            "{}.{}.{}.{}",
            numbers[0], numbers[1], numbers[2], numbers[3]
        );
        SocketAddr::new(ip.parse().unwrap(), numbers[4] * 256 + numbers[5])
    }

    /// Whether the server closed the control connection (after its last reply).
    fn assert_closed(&mut self) {
        let mut rest = Vec::new();
        match self.control.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "more after the last reply: {rest:?}"),
            Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
        }
    }
}

#[test]
fn each_refusal_has_its_reply_code() {
    let server = start(SITE, &[]);
    let mut client = Client::connect(server.address);
    // Before login: only the login commands, and a few harmless ones.
    assert_eq!(client.command("PWD").0, 530);
    assert_eq!(client.command("RETR hello.txt").0, 530);
    assert_eq!(client.command("PASS secret").0, 503);
    assert_eq!(client.command("USER root").0, 530);
    assert_eq!(client.command("SYST"), (215, "UNIX Type: L8".into()));
    assert_eq!(client.command("user Anonymous").0, 331);
    assert_eq!(client.command("PASS a@b").0, 230);
    // Active mode, and what is not offered.
    assert_eq!(client.command("PORT 127,0,0,1,4,1").0, 502);
    assert_eq!(client.command("EPRT |1|127.0.0.1|1025|").0, 502);
    assert_eq!(client.command("SITE CHMOD 777 hello.txt").0, 502);
    assert_eq!(client.command("TYPE E").0, 504);
    assert_eq!(client.command("RETR").0, 501);
    // Read-only: every command that would change the folder.
    for command in ["STOR x", "DELE hello.txt", "MKD new", "RMD docs"] {
        let (code, text) = client.command(command);
        assert_eq!(code, 550, "{command}");
        assert!(text.contains("read-only"), "{command}: {text}");
    }
    // Paths: missing, a folder where a file belongs, a file where a folder belongs.
    assert_eq!(client.command("SIZE missing.txt").0, 550);
    assert_eq!(client.command("SIZE docs").0, 550);
    assert_eq!(client.command("CWD hello.txt").0, 550);
    assert_eq!(client.command("CWD ../..").0, 250);
    assert_eq!(
        client.command("PWD"),
        (257, "\"/\" is the current folder.".into())
    );
    // A transfer with no PASV or EPSV first.
    assert_eq!(client.command("RETR hello.txt").0, 425);
    assert_eq!(client.command("NOOP").0, 200);
    // The same refusal when the path is bad, and the port is spent with it.
    client.pasv();
    assert_eq!(
        client
            .command(&format!("RETR {}etc/passwd", "../".repeat(16)))
            .0,
        550
    );
    assert_eq!(client.command("RETR hello.txt").0, 425);
    // A line with a control character in it.
    assert_eq!(client.command("RETR a\u{7}b").0, 501);
    assert_eq!(client.command("EPSV ALL").0, 200);
    assert_eq!(client.command("PASV").0, 503);
    assert_eq!(client.command("EPSV 2").0, 522);
    assert_eq!(client.command("QUIT").0, 221);
    client.assert_closed();
}

#[test]
fn a_file_retrieved_with_epsv_comes_whole_and_the_port_is_the_control_address() {
    let server = start(SITE, &[]);
    let mut client = Client::logged_in(server.address);
    let (code, text) = client.command("EPSV");
    assert_eq!(code, 229);
    let port: u16 = text
        .strip_prefix("Entering Extended Passive Mode (|||")
        .and_then(|rest| rest.strip_suffix("|)"))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("not an EPSV reply: {text}"));
    let mut data = support::connect(SocketAddr::new(server.address.ip(), port));
    let (code, text) = client.command("RETR hello.txt");
    assert_eq!(
        (code, text.as_str()),
        (150, "Sending hello.txt (87 bytes).")
    );
    let mut received = Vec::new();
    data.read_to_end(&mut received)
        .expect("the file, then the close");
    assert_eq!(received, HELLO);
    assert_eq!(client.reply(), (226, "Transfer complete.".into()));
    // PASV announces the address the control connection reached.
    assert_eq!(client.pasv().ip(), server.address.ip());
}

#[test]
fn a_data_port_nobody_uses_and_an_upload_over_the_limit_are_refused() {
    let site = TempSite::new();
    let options = [
        "--writable",
        "--data-seconds",
        "0.3",
        "--max-upload-bytes",
        "1000",
    ];
    let server = start(site.path(), &options);
    let mut client = Client::logged_in(server.address);
    // A data port nobody connects to: 150, then 425 when the patience runs out.
    client.pasv();
    assert_eq!(client.command("RETR hello.txt").0, 150);
    let (code, text) = client.reply();
    assert_eq!(code, 425);
    assert_eq!(text, "No data connection from 127.0.0.1 within 300ms.");
    // An upload over the limit: 552, and nothing kept.
    let mut data = client.passive();
    assert_eq!(client.command("STOR big.upload").0, 150);
    let _ = data.write_all(&site.binary[..5000]); // The server may stop reading at 1001.
    drop(data);
    let (code, text) = client.reply();
    assert_eq!(code, 552, "{text}");
    assert_eq!(text, "Over 1000 bytes, the limit here: not kept.");
    assert!(!site.root.join("big.upload").exists());

    // A failed upload over a file that exists leaves that file as it was: with no data port,
    // with a data port nobody connects to, and over the limit.
    let before = std::fs::read(site.root.join("hello.txt")).expect("read hello.txt");
    assert_eq!(client.command("STOR hello.txt").0, 425);
    client.pasv();
    assert_eq!(client.command("STOR hello.txt").0, 150);
    assert_eq!(client.reply().0, 425);
    let mut data = client.passive();
    assert_eq!(client.command("STOR hello.txt").0, 150);
    let _ = data.write_all(&site.binary[..5000]);
    drop(data);
    assert_eq!(client.reply().0, 552);
    let after = std::fs::read(site.root.join("hello.txt")).ok();
    assert_eq!(
        after,
        Some(before),
        "a failed STOR must leave hello.txt as it was"
    );
    // And nothing of the uploads is left behind.
    let mut names: Vec<String> = std::fs::read_dir(&site.root)
        .expect("list the site")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["big.bin", "docs", "gradient.png", "hello.txt"]);
}

/// A name as long as the system allows (255 bytes) can be stored: the upload's temporary file
/// beside it has a short name of its own (it was the name and more, past the limit: 550).
#[test]
fn an_upload_under_the_longest_name_is_stored() {
    let site = TempSite::new();
    let server = start(site.path(), &["--writable"]);
    let mut client = Client::logged_in(server.address);
    let name = "n".repeat(255);
    let mut data = client.passive();
    assert_eq!(client.command(&format!("STOR {name}")).0, 150);
    data.write_all(b"long name").expect("send the file");
    drop(data);
    let (code, text) = client.reply();
    assert_eq!(code, 226, "{text}");
    let stored = std::fs::read(site.root.join(&name)).expect("the stored file");
    assert_eq!(stored, b"long name");
}

/// An upload whose data connection falls silent past the idle limit, or is reset, fails with
/// 426, and a file it would have replaced is left as it was.
#[test]
fn an_upload_that_falls_silent_or_is_reset_gets_426_and_keeps_the_old_file() {
    let site = TempSite::new();
    let server = start(site.path(), &["--writable", "--idle-seconds", "1"]);
    let before = std::fs::read(site.root.join("hello.txt")).expect("read hello.txt");
    let mut client = Client::logged_in(server.address);
    // Silent: connected, a few bytes, then nothing, and not closed.
    let mut data = client.passive();
    assert_eq!(client.command("STOR hello.txt").0, 150);
    data.write_all(b"half a fi").expect("send a little");
    assert_eq!(
        client.reply(),
        (426, "Data connection idle for 1s: aborted.".into())
    );
    drop(data);
    // Reset: a few bytes, then an abrupt close.
    let data = client.passive();
    assert_eq!(client.command("STOR hello.txt").0, 150);
    (&data).write_all(b"half a fi").expect("send a little");
    course::close::discard_unsent_on_close(&data).expect("set SO_LINGER to 0");
    drop(data);
    let (code, text) = client.reply();
    assert_eq!(code, 426, "{text}");
    assert!(text.starts_with("Data connection lost ("), "{text}");
    assert_eq!(
        std::fs::read(site.root.join("hello.txt")).ok(),
        Some(before),
        "a failed STOR must leave hello.txt as it was"
    );
}

#[test]
fn a_command_line_with_no_end_is_refused_and_closed() {
    let server = start(SITE, &[]);
    let mut client = Client::connect(server.address);
    client.send(&[b'A'; 5000]);
    assert_eq!(
        client.reply(),
        (500, "Command line over 4096 bytes: closing.".into())
    );
    client.assert_closed();
    // Both sides of the limit, which counts the command and not its line end.
    let command_of = |length: usize| format!("NOOP {}", "x".repeat(length - "NOOP ".len()));
    for line_end in ["\r\n", "\n"] {
        let mut client = Client::connect(server.address);
        client.send(format!("{}{line_end}", command_of(4096)).as_bytes());
        assert_eq!(
            client.reply().0,
            200,
            "a command of 4096 bytes, then {line_end:?}"
        );
        client.send(format!("{}{line_end}", command_of(4097)).as_bytes());
        assert_eq!(
            client.reply(),
            (500, "Command line over 4096 bytes: closing.".into()),
            "a command of 4097 bytes, then {line_end:?}"
        );
        client.assert_closed();
    }
    // A longest command whose `\r` and `\n` come in writes of their own is still served.
    let mut client = Client::connect(server.address);
    client.send(command_of(4096).as_bytes());
    client.send(b"\r");
    client.send(b"\n");
    assert_eq!(client.reply().0, 200, "4096 bytes, then \\r and \\n apart");
    // A byte past the limit that is no line end is refused at once: the client that sent it and
    // waits hears 500, not the idle limit's 421 five minutes later.
    client.send(command_of(4097).as_bytes());
    assert_eq!(
        client.reply(),
        (500, "Command line over 4096 bytes: closing.".into()),
        "4097 bytes and no line end, the client waiting"
    );
    client.assert_closed();
}

#[test]
fn a_client_past_the_seat_limit_hears_421_and_a_freed_seat_is_taken_again() {
    let server = start(SITE, &["--max-clients", "1"]);
    // The greeting is the evidence that the first client holds the seat.
    let first = Client::connect(server.address);
    let mut second = BufReader::new(support::connect(server.address));
    let mut line = String::new();
    second.read_line(&mut line).expect("a reply");
    assert_eq!(
        line,
        "421 Too many clients (1 at once): try again later.\r\n"
    );
    line.clear();
    let after = second.read_line(&mut line).expect("the close, in time");
    assert_eq!(
        after, 0,
        "after 421 the server closes the connection: {line:?}"
    );
    drop(first);
    // The server logs a client's leaving after it gave the seat back.
    while !server.next_line().contains(" disconnected: ") {}
    Client::logged_in(server.address);
}

#[test]
fn a_silent_client_hears_421_and_is_closed() {
    let server = start(SITE, &["--idle-seconds", "0.3"]);
    let mut client = Client::logged_in(server.address);
    assert_eq!(
        client.reply(),
        (421, "Idle for 300ms: closing the connection.".into())
    );
    client.assert_closed();
}

/// The idle limit is a deadline for a whole command: a client that sends a byte every 100 ms,
/// never finishing its command, hears 421 when the limit is up all the same (a timeout for each
/// read would let it hold its seat for ever).
#[test]
fn a_client_that_trickles_a_command_hears_421_when_the_limit_is_up() {
    let server = start(SITE, &["--idle-seconds", "1"]);
    let mut client = Client::logged_in(server.address);
    let started = Instant::now();
    let mut trickle = client
        .control
        .get_ref()
        .try_clone()
        .expect("a second handle");
    let trickler = thread::spawn(move || {
        // Until the server closes, or for at most PATIENCE.
        while started.elapsed() < PATIENCE && trickle.write_all(b"x").is_ok() {
            thread::sleep(Duration::from_millis(100));
        }
    });
    assert_eq!(
        client.reply(),
        (421, "Idle for 1s: closing the connection.".into())
    );
    assert!(
        started.elapsed() < PATIENCE,
        "the 421 came only when the trickle stopped"
    );
    drop(client);
    trickler.join().expect("the trickling thread");
}

/// A stranger from another address, connecting to the announced port before the client, is
/// closed; the client still gets its file. On loopback, Linux answers for all of 127.0.0.0/8,
/// so the stranger binds 127.0.0.2; macOS answers for 127.0.0.1 only (unless an alias is
/// added to lo0), so the test is Linux only.
#[cfg(target_os = "linux")]
#[test]
fn a_data_connection_from_another_address_is_refused() {
    let server = start(SITE, &[]);
    let mut client = Client::logged_in(server.address);
    let port = client.pasv();
    let intruder =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    let other: SocketAddr = "127.0.0.2:0".parse().unwrap();
    intruder.bind(&other.into()).expect("bind 127.0.0.2");
    intruder
        .connect(&port.into())
        .expect("connect as a stranger");
    let mut intruder: TcpStream = intruder.into();
    intruder.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut data = support::connect(port);
    assert_eq!(client.command("RETR hello.txt").0, 150);
    let mut received = Vec::new();
    data.read_to_end(&mut received).expect("the file");
    assert_eq!(received, HELLO);
    assert_eq!(client.reply().0, 226);
    // The stranger was closed without a byte of the file.
    let mut stolen = Vec::new();
    match intruder.read_to_end(&mut stolen) {
        Ok(_) => assert!(stolen.is_empty(), "the stranger got {stolen:?}"),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
    }
    // The server said so (next_line fails the test if it never does).
    while !server
        .next_line()
        .starts_with("refused a data connection from 127.0.0.2:")
    {}
}

/// A symbolic link out of the folder is neither listed nor served, nor a way in for STOR.
#[cfg(unix)]
#[test]
fn a_link_out_of_the_folder_is_refused_and_not_listed() {
    let site = TempSite::new();
    let secret = site.outside().join("secret.txt");
    std::fs::write(&secret, "not for you").unwrap();
    std::os::unix::fs::symlink(&secret, site.root.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(site.outside(), site.root.join("up")).unwrap();
    let nowhere = site.outside().join("created-through-a-link");
    std::os::unix::fs::symlink(&nowhere, site.root.join("dangling")).unwrap();
    let server = start(site.path(), &["--writable"]);
    let mut client = Client::logged_in(server.address);
    for command in [
        "RETR link.txt",
        "SIZE link.txt",
        "CWD up",
        "RETR up/secret.txt",
        "STOR dangling",
    ] {
        let (code, text) = client.command(command);
        assert_eq!(code, 550, "{command}: {text}");
        assert!(
            text.ends_with("leads outside the served folder."),
            "{command}: {text}"
        );
    }
    assert!(!nowhere.exists(), "STOR followed a link out of the folder");
    let mut data = client.passive();
    assert_eq!(client.command("NLST").0, 150);
    let mut names = String::new();
    data.read_to_string(&mut names).unwrap();
    assert_eq!(names, "big.bin\r\ndocs\r\ngradient.png\r\nhello.txt\r\n");
    assert_eq!(client.reply().0, 226);
}

#[test]
fn the_help_and_a_bad_option_say_what_to_do() {
    let help = support::run(FTP, &["--help"], "");
    assert!(help.stdout.contains("--writable"), "{}", help.stdout);
    let bad = support::run(FTP, &["127.0.0.1:0", SITE, "--writeable"], "");
    assert!(!bad.status.success());
    assert!(
        bad.stderr.contains("unknown option \"--writeable\""),
        "{}",
        bad.stderr
    );
    // A time too large for a deadline, or too small for a socket timeout, and a size that would
    // overflow the upload's limit, are refused in words, not with a panic or a silent failure.
    for (option, value, words) in [
        (
            "--idle-seconds",
            "1e30",
            "--idle-seconds must be a number of seconds from 0.001 to 3600",
        ),
        (
            "--idle-seconds",
            "inf",
            "--idle-seconds must be a number of seconds from 0.001 to 3600",
        ),
        (
            "--idle-seconds",
            "3601",
            "--idle-seconds must be a number of seconds from 0.001 to 3600",
        ),
        (
            "--data-seconds",
            "1e-10",
            "--data-seconds must be a number of seconds from 0.001 to 3600",
        ),
        (
            "--max-upload-bytes",
            "1e30",
            "--max-upload-bytes must be a whole number of bytes from 1 to",
        ),
        (
            "--max-upload-bytes",
            "0.5",
            "--max-upload-bytes must be a whole number of bytes from 1 to",
        ),
        (
            "--max-upload-bytes",
            "1099511627777",
            "--max-upload-bytes must be a whole number of bytes from 1 to",
        ),
        // A fraction of a client was taken as one before, a huge count as every client there is.
        (
            "--max-clients",
            "0.5",
            "--max-clients must be a whole number from 1 to 10000",
        ),
        (
            "--max-clients",
            "1e30",
            "--max-clients must be a whole number from 1 to 10000",
        ),
        // A thread a client: past about 16,000 threads std ends the process (chapter 03).
        (
            "--max-clients",
            "10001",
            "--max-clients must be a whole number from 1 to 10000",
        ),
    ] {
        let refused = support::run(FTP, &["127.0.0.1:0", SITE, option, value], "");
        assert!(!refused.status.success(), "{option} {value}");
        assert!(
            refused.stderr.contains(words) && !refused.stderr.contains("panicked"),
            "{option} {value}: {}",
            refused.stderr
        );
    }
    let missing = support::run(FTP, &["127.0.0.1:0", "no/such/folder"], "");
    assert!(
        missing.stderr.contains("cannot find the folder"),
        "{}",
        missing.stderr
    );
}

#[test]
fn over_ipv6_pasv_is_refused_and_epsv_works() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipping: this machine has no IPv6 loopback (::1)");
        return;
    }
    let server = Server::start(FTP, &["[::1]:0", SITE]);
    assert!(server.next_line().starts_with("serving "));
    let mut client = Client::logged_in(server.address);
    assert_eq!(
        client.command("PASV"),
        (502, "PASV cannot announce IPv6: use EPSV.".into())
    );
    assert_eq!(client.command("EPSV 1").0, 522);
    let (code, text) = client.command("EPSV 2");
    assert_eq!(code, 229, "{text}");
    let port: u16 = text
        .trim_start_matches("Entering Extended Passive Mode (|||")
        .trim_end_matches("|)")
        .parse()
        .expect("a port");
    let mut data = support::connect(SocketAddr::new(server.address.ip(), port));
    assert_eq!(client.command("NLST docs").0, 150);
    let mut names = String::new();
    data.read_to_string(&mut names).expect("the names");
    assert_eq!(names, "replies.txt\r\n");
    assert_eq!(client.reply().0, 226);
}

/// A server on `[::]` takes IPv4 clients too (on Linux and macOS, unless the system is set
/// otherwise), and sees their addresses as `::ffff:127.0.0.1`: PASV must still announce the IPv4
/// address, and the data port take the client (PASV answered 502, and EPSV 1 522, before).
#[cfg(unix)]
#[test]
fn over_a_listener_on_every_address_an_ipv4_client_gets_pasv() {
    if std::net::TcpListener::bind("[::]:0").is_err() {
        eprintln!("skipping: this machine has no IPv6");
        return;
    }
    let server = Server::start(FTP, &["[::]:0", SITE]);
    assert!(server.next_line().starts_with("serving "));
    let ipv4 = SocketAddr::from(([127, 0, 0, 1], server.address.port()));
    if TcpStream::connect_timeout(&ipv4, support::PATIENCE).is_err() {
        eprintln!("skipping: here a listener on [::] takes no IPv4 clients (IPV6_V6ONLY)");
        return;
    }
    let mut client = Client::logged_in(ipv4);
    let mut data = client.passive();
    assert_eq!(client.command("NLST docs").0, 150);
    let mut names = String::new();
    data.read_to_string(&mut names).expect("the names");
    assert_eq!(names, "replies.txt\r\n");
    assert_eq!(client.reply().0, 226);
    assert_eq!(client.command("EPSV 1").0, 229);
}

#[test]
fn mdtm_and_list_show_the_time_in_utc_as_ls_does() {
    let site = TempSite::new();
    let set_modified = |name: &str, seconds: u64| {
        let file = std::fs::File::options()
            .write(true)
            .open(site.root.join(name))
            .expect("open a file of the site");
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
        file.set_modified(time).expect("set the time it changed");
    };
    set_modified("hello.txt", 1_000_000_000); // 2001-09-09 01:46:40 UTC
    set_modified("docs/replies.txt", 1_709_208_000); // 2024-02-29 12:00:00 UTC, a leap day
    let server = start(site.path(), &[]);
    let mut client = Client::logged_in(server.address);
    assert_eq!(
        client.command("MDTM hello.txt"),
        (213, "20010909014640".into())
    );
    assert_eq!(
        client.command("MDTM docs/replies.txt"),
        (213, "20240229120000".into())
    );
    let mut data = client.passive();
    assert_eq!(client.command("LIST").0, 150);
    let mut listing = String::new();
    data.read_to_string(&mut listing).expect("the listing");
    assert_eq!(client.reply().0, 226);
    // Older than half a year: the year. Recent (big.bin was written just now): the time.
    let hello = listing.lines().find(|line| line.ends_with(" hello.txt"));
    assert_eq!(
        hello,
        Some("-r--r--r-- 1 ftp ftp           87 Sep  9  2001 hello.txt"),
        "{listing}"
    );
    let big = listing
        .lines()
        .find(|line| line.ends_with(" big.bin"))
        .unwrap();
    let time = big.split_whitespace().nth(7).unwrap();
    assert!(time.len() == 5 && time.as_bytes()[2] == b':', "{listing}");
}
