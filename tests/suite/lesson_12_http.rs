//! Lesson 12 end to end: raw requests cut every way, the bad inputs, curl, Python's
//! `http.client`, and a real browser (headless Chromium) loading the live page.

use crate::support;

mod conformance;
mod seats;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{PATIENCE, Server, normalize};

const HTTP: &str = env!("CARGO_BIN_EXE_12_http");
const PROXY: &str = env!("CARGO_BIN_EXE_09_chaos_proxy");
/// The lesson's own small site, as the server is told to serve it (tests run from the top).
const SITE: &str = "lessons/12_http_site";
/// hello.txt, as the server must send it.
const HELLO: &str = include_str!("../../lessons/12_http_site/hello.txt");
/// The header timeout the tests give the server: short, so the slow-client tests are quick.
const HEADER_SECONDS: &str = "0.4";

fn start() -> Server {
    start_in(SITE)
}

/// The server, serving `folder`.
fn start_in(folder: &str) -> Server {
    let server = Server::start(HTTP, &["127.0.0.1:0", folder, HEADER_SECONDS]);
    assert!(server.next_line().starts_with("open http://"));
    server
}

/// A site folder of a test's own, removed when the test ends.
struct TempSite {
    folder: std::path::PathBuf,
}

impl TempSite {
    /// A folder holding `files` (name, contents), its name made from `what` and this process.
    fn new(what: &str, files: &[(&str, &[u8])]) -> TempSite {
        let folder = std::env::temp_dir().join(format!("course-12-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("make a site folder");
        for (name, contents) in files {
            std::fs::write(folder.join(name), contents).expect("write a file");
        }
        TempSite { folder }
    }

    fn folder_arg(&self) -> String {
        self.folder.to_string_lossy().into_owned()
    }
}

impl Drop for TempSite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// One response as it arrived.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Reads one response; `head_only` for the answer to HEAD, which has no body whatever its
/// `Content-Length` says.
fn read_response(reader: &mut BufReader<TcpStream>, head_only: bool) -> Response {
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .expect("a status line in time");
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header line in time");
        assert!(
            line.ends_with("\r\n"),
            "header lines end with CRLF: {line:?}"
        );
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(": ").expect("Name: value");
        headers.push((name.to_string(), value.to_string()));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let length: usize = response
        .header("Content-Length")
        .expect("every response has a Content-Length")
        .parse()
        .expect("a number");
    if !head_only {
        response.body = vec![0; length];
        reader
            .read_exact(&mut response.body)
            .expect("the whole body");
    }
    response
}

/// Sends `request` whole on a new connection and reads the answer.
fn ask(address: SocketAddr, request: &[u8]) -> Response {
    let mut stream = support::connect(address);
    stream.write_all(request).expect("send the request");
    read_response(&mut BufReader::new(stream), false)
}

/// Waits for the server to close `stream`: `Ok(0)`, or a reset. Panics if it stays open.
fn assert_closed(stream: &mut TcpStream, why: &str) {
    let mut sink = [0; 1024];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(error) if error.kind() == ErrorKind::ConnectionReset => return,
            Err(error) => panic!("{why}: the connection is still open ({error})"),
        }
    }
}

// ANCHOR: every_byte
#[test]
fn a_request_sent_one_byte_at_a_time_is_answered_and_the_connection_kept() {
    let server = start();
    let mut stream = server.connect();
    // Each byte its own write, and its own packet: the server must put them together.
    stream.set_nodelay(true).expect("no Nagle");
    let request = b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nAccept: */*\r\n\r\n";
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    for round in 0..2 {
        for byte in request {
            stream.write_all(&[*byte]).expect("send a byte");
        }
        let response = read_response(&mut reader, false);
        assert_eq!(response.status, 200, "round {round}");
        assert_eq!(response.body, HELLO.as_bytes(), "round {round}");
        assert_eq!(response.header("Connection"), Some("keep-alive"));
    }
}
// ANCHOR_END: every_byte

#[test]
fn pipelined_requests_in_one_write_get_their_answers_in_order() {
    let server = start();
    let mut stream = server.connect();
    stream
        .write_all(
            b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n\
              HEAD /style.css HTTP/1.1\r\nHost: t\r\n\r\n\
              GET /nothing-here.txt HTTP/1.1\r\nHost: t\r\n\r\n\
              GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .expect("send");
    let mut reader = BufReader::new(stream);
    let hello = read_response(&mut reader, false);
    assert_eq!(
        (hello.status, hello.body.as_slice()),
        (200, HELLO.as_bytes())
    );
    let head = read_response(&mut reader, true);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("Content-Type"), Some("text/css; charset=utf-8"));
    let css = std::fs::read(format!("{SITE}/style.css")).expect("the stylesheet");
    assert_eq!(head.header("Content-Length"), Some(&*css.len().to_string()));
    assert_eq!(read_response(&mut reader, false).status, 404);
    let last = read_response(&mut reader, false);
    assert_eq!(last.header("Connection"), Some("close"));
    assert_closed(reader.get_mut(), "after Connection: close");
}

#[test]
fn bad_requests_get_their_status_and_nothing_outside_the_folder_is_served() {
    let server = start();
    // The escapes aim at the course's own Cargo.toml, two folders above the site: a server that
    // glued the path onto the folder would send it.
    assert!(
        std::path::Path::new(SITE)
            .join("../../Cargo.toml")
            .is_file(),
        "the escapes' target is missing"
    );
    let cases: &[(&str, &[u8], u16)] = &[
        ("not HTTP", b"hello there\r\n\r\n", 400),
        ("no colon", b"GET / HTTP/1.1\r\nHost t\r\n\r\n", 400),
        ("bad escape", b"GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        ("not UTF-8", b"GET /\xff HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        (
            "POST",
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
            405,
        ),
        (
            "unknown file",
            b"GET /nothing-here.txt HTTP/1.1\r\nHost: t\r\n\r\n",
            404,
        ),
        (
            "a folder",
            b"GET /hello.txt/ HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
        (
            "dot dot",
            b"GET /../../Cargo.toml HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
        (
            "encoded dot dot",
            b"GET /%2e%2e/%2e%2e/Cargo.toml HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
        (
            "encoded slash",
            b"GET /%2E%2E%2F%2E%2E%2FCargo.toml HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
        (
            "backslash",
            b"GET /..\\..\\Cargo.toml HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
        (
            "encoded backslash",
            b"GET /..%5c..%5cCargo.toml HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
        (
            "deeper",
            b"GET /x/../../../Cargo.toml HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
        (
            "hidden",
            b"GET /.git/config HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
        ("NUL", b"GET /hello.txt%00 HTTP/1.1\r\nHost: t\r\n\r\n", 403),
        (
            "absolute",
            b"GET //etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
        (
            "no slash",
            b"GET ../../Cargo.toml HTTP/1.1\r\nHost: t\r\n\r\n",
            400,
        ),
        (
            "absolute form with ..",
            b"GET http://t/../../Cargo.toml HTTP/1.1\r\nHost: t\r\n\r\n",
            403,
        ),
    ];
    for (what, request, status) in cases {
        let response = ask(server.address, request);
        assert_eq!(response.status, *status, "{what}: {response:?}");
        assert!(
            !String::from_utf8_lossy(&response.body).contains("[package]"),
            "{what}: Cargo.toml leaked"
        );
    }
}

/// HEADER_SECONDS at its extremes: a time that rounds to nothing (every client was closed unheard
/// before), one past an hour, and not a number are refused in words; both ends are taken.
#[test]
fn header_seconds_out_of_range_are_refused_in_words() {
    for wrong in ["1e-10", "0", "3601", "inf", "NaN", "soon"] {
        let refused = support::run(HTTP, &["127.0.0.1:0", SITE, wrong], "");
        assert!(
            !refused.status.success(),
            "HEADER_SECONDS {wrong} was taken"
        );
        assert!(
            refused.stderr.contains(&format!(
                "HEADER_SECONDS must be a number of seconds from 0.001 to 3600, not \"{wrong}\""
            )),
            "{}",
            refused.stderr
        );
    }
    // MAX_CLIENTS: a thread a seat, so at most 10,000 (chapter 03: past about 16,000 threads std
    // ends the process; a million was taken before).
    for wrong in ["0", "10001", "1e3", "many"] {
        let refused = support::run(HTTP, &["127.0.0.1:0", SITE, "10", wrong], "");
        assert!(!refused.status.success(), "MAX_CLIENTS {wrong} was taken");
        let said = format!("MAX_CLIENTS must be a whole number from 1 to 10000, not \"{wrong}\"");
        assert!(refused.stderr.contains(&said), "{}", refused.stderr);
    }
    // The benchmark's switches take only their own values (any other ran the lesson's way
    // without a word, so a benchmark could measure the wrong thing).
    for (name, wrong) in [("HTTP_NODELAY", "true"), ("HTTP_WRITES", "Split")] {
        let mut command = Command::new(HTTP);
        command.args(["127.0.0.1:0", SITE]).env(name, wrong);
        let Some((status, said)) = course::started::refusal(command, PATIENCE) else {
            panic!("{name}={wrong} was taken: the server ran");
        };
        assert!(!status.success(), "{said}");
        assert!(said.contains(&format!("{name} may be unset")), "{said}");
    }
    // Both ends start a server (a millisecond is too short to be sure a request gets in, so only
    // the hour is asked something).
    let _quick = Server::start(HTTP, &["127.0.0.1:0", SITE, "0.001"]);
    let patient = Server::start(HTTP, &["127.0.0.1:0", SITE, "3600"]);
    assert_eq!(
        ask(patient.address, b"GET /hello.txt HTTP/1.0\r\n\r\n").status,
        200
    );
}

#[test]
fn a_silent_client_is_closed_and_a_slowloris_hears_408_after_the_header_timeout() {
    let server = start();
    let timeout = Duration::from_secs_f64(HEADER_SECONDS.parse().expect("seconds"));
    let mut silent = server.connect();
    let mut slow = server.connect();
    let started = Instant::now();
    slow.write_all(b"GET / HTTP/1.1\r\n").expect("send");
    slow.set_read_timeout(Some(timeout / 4)).expect("timeout");
    // One header line every quarter of the timeout: each read gets something, but the head never
    // ends. A read timeout alone would keep this client for ever.
    let mut answer = Vec::new();
    let mut sink = [0; 256];
    loop {
        assert!(
            started.elapsed() < PATIENCE,
            "the slow client is still open"
        );
        match slow.read(&mut sink) {
            Ok(0) => break,
            Ok(count) => answer.extend_from_slice(&sink[..count]),
            Err(error) if error.kind() == ErrorKind::ConnectionReset => break,
            Err(_) => {}
        }
        if answer.is_empty() && slow.write_all(b"X-Slow: 1\r\n").is_err() {
            break;
        }
    }
    // The server's clock starts when it takes the connection, a moment before `started`.
    assert!(
        started.elapsed() >= timeout * 3 / 4,
        "closed before its time"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "half a request, then nothing: the server says 408 Request Timeout (the chapter quotes \
         it) before it closes, not {answer:?}"
    );
    // Nothing begun, nothing said: the silent one is just closed (as nginx does).
    let mut silence = Vec::new();
    match silent.read_to_end(&mut silence) {
        Ok(_) => assert!(silence.is_empty(), "the silent client heard {silence:?}"),
        Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}"),
    }
}

#[test]
fn pipelined_requests_get_through_the_chaos_proxy() {
    let server = start();
    let upstream = server.address.to_string();
    let proxy = Server::start(PROXY, &["127.0.0.1:0", &upstream, "--seed", "12"]);
    let mut stream = proxy.connect();
    let one = b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: a-longer-header-to-cut\r\n\r\n";
    stream.write_all(&one.repeat(3)).expect("send");
    let mut reader = BufReader::new(stream);
    for round in 0..3 {
        let response = read_response(&mut reader, false);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, HELLO.as_bytes()),
            "request {round}"
        );
    }
}

/// Whether a program runs here at all; prints why a test is skipped if not.
fn available(program: &str, args: &[&str], skip_reason: &str) -> bool {
    let found = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        eprintln!("skipping: {skip_reason}");
    }
    found
}

#[test]
fn curl_reuses_one_connection_for_two_requests() {
    if !available(
        "curl",
        &["--version"],
        "no curl here (on Debian: apt-get install curl)",
    ) {
        return;
    }
    let server = start();
    let url = format!("http://{}/hello.txt", server.address);
    let output = Command::new("curl")
        .args(["-sv", "--http1.1", "--max-time", "10", &url, &url])
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), HELLO.repeat(2));
    // Older curl says "Re-using existing connection #0", newer (since 8.x) "Reusing existing
    // http: connection with host ...".
    assert!(stderr.contains("using existing "), "{stderr}");

    // ANCHOR: curl_snapshot
    // What curl sent (`> `) and received (`< `) for the first request, for the book. curl's
    // version differs from one machine to the next, so it is left out.
    let first_exchange: String = stderr
        .lines()
        .take_while(|line| !line.contains("using existing "))
        .filter(|line| {
            line.starts_with("> ") || line.starts_with("< ") || *line == ">" || *line == "<"
        })
        .map(|line| {
            if line.starts_with("> User-Agent: curl/") {
                "> User-Agent: curl/VERSION".to_string()
            } else if line.starts_with("< Date: ") {
                "< Date: DAY, DD Mon YYYY HH:MM:SS GMT".to_string()
            } else {
                line.trim_end().to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    // ANCHOR_END: curl_snapshot
    let first_exchange = normalize(&first_exchange, server.address, "127.0.0.1:65443");
    insta::assert_snapshot!("12_curl_v", first_exchange);
    // The request as the bytes that went over the connection, each line ending in CR LF, which
    // curl's listing does not show.
    let request_bytes: String = first_exchange
        .lines()
        .filter_map(|line| line.strip_prefix('>'))
        .map(|line| format!("{}\\r\\n", line.trim_start()))
        .collect();
    insta::assert_snapshot!("12_curl_request_bytes", request_bytes);
}

#[test]
fn python_http_client_keeps_the_connection_alive() {
    let Some(python) = support::python_command() else {
        return;
    };
    let server = start();
    // Two requests on one HTTPConnection; the live page says how many requests its own
    // connection has made, so it shows whether the connection was kept.
    // Python also reads the Date header with its own calendar, to check that it says now, and
    // writes that moment back, to check every part of it, the weekday too (which the reading
    // alone ignores).
    let script = "import http.client, sys, time, email.utils\n\
                  c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10)\n\
                  c.request('GET', '/hello.txt'); r = c.getresponse(); r.read()\n\
                  date = email.utils.parsedate_to_datetime(r.getheader('Date')).timestamp()\n\
                  assert abs(date - time.time()) < 60, r.getheader('Date')\n\
                  assert email.utils.formatdate(date, usegmt=True) == r.getheader('Date'), r.getheader('Date')\n\
                  print(r.status)\n\
                  c.request('GET', '/'); r = c.getresponse()\n\
                  print(r.status); print(r.read().decode())\n";
    let output = Command::new(python)
        .args([
            "-c",
            script,
            &server.address.ip().to_string(),
            &server.address.port().to_string(),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("200\n200\n"), "{stdout}");
    let you = stdout
        .lines()
        .find(|line| line.starts_with("<tr class=\"you\">"))
        .unwrap_or_else(|| panic!("no row for this connection:\n{stdout}"));
    assert!(
        you.ends_with("<td>2</td></tr>"),
        "two requests on one connection: {you}"
    );
}

/// The name of a Chromium we can run headless, if there is one.
fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|browser| {
            Command::new(browser)
                .arg("--version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        });
    if found.is_none() {
        // .ci/run installs it wherever apt-get can: there, a missing browser is a broken CI.
        let installable = std::path::Path::new("/usr/bin/apt-get").exists();
        assert!(
            !(installable && std::env::var_os("CI").is_some()),
            "CI on Debian or Ubuntu must have chromium: .ci/run installs it"
        );
        eprintln!(
            "skipping: no Chromium here to load the page in a real browser \
             (on Debian: apt-get install chromium)"
        );
    }
    found
}

// ANCHOR: browser
#[test]
fn a_real_browser_renders_the_live_page() {
    let Some(browser) = chromium() else {
        return;
    };
    let server = start();
    let profile = std::env::temp_dir().join(format!("course-12-http-{}", std::process::id()));
    let mut command = Command::new(browser);
    command.args([
        "--headless",
        "--no-sandbox", // CI runs as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--no-first-run",
        &format!("--user-data-dir={}", profile.display()),
        "--dump-dom",
        &format!("http://{}/", server.address),
    ]);
    let output = output_within_patience(&mut command);
    let _ = std::fs::remove_dir_all(&profile);
    // What the browser built from the page: the DOM, after parsing, as HTML again.
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(dom.contains("<h1>Who is connected</h1>"), "{dom}");
    assert!(dom.contains("<tr class=\"you\">"), "{dom}");
    // The parser added the <tbody> the page leaves out: this came from a browser, not a copy.
    assert!(dom.contains("<tbody>"), "{dom}");
}
// ANCHOR_END: browser

/// Runs `command` to its end, killing it if it takes longer than [`PATIENCE`].
fn output_within_patience(command: &mut Command) -> std::process::Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the browser");
    let id = child.id();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait_with_output()));
    match receiver.recv_timeout(PATIENCE) {
        Ok(output) => output.expect("the browser's output"),
        Err(_) => {
            // The waiting thread owns the child; kill it by its id.
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("the browser did not finish within {PATIENCE:?}");
        }
    }
}

#[test]
fn http_1_0_closes_after_one_response_and_a_link_out_of_the_folder_is_refused() {
    let folder = std::env::temp_dir().join(format!("course-12-site-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("make a site folder");
    std::fs::write(folder.join("inside.txt"), "inside\n").expect("write a file");
    #[cfg(unix)]
    let _ = std::os::unix::fs::symlink(
        std::fs::canonicalize("Cargo.toml").expect("Cargo.toml"),
        folder.join("outside.txt"),
    );
    let folder_arg = folder.to_string_lossy().into_owned();
    let server = Server::start(HTTP, &["127.0.0.1:0", &folder_arg, HEADER_SECONDS]);
    let mut stream = server.connect();
    stream
        .write_all(b"GET /inside.txt HTTP/1.0\r\n\r\n")
        .expect("send");
    let mut reader = BufReader::new(stream);
    let response = read_response(&mut reader, false);
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"inside\n"[..])
    );
    assert_eq!(response.header("Connection"), Some("close"));
    assert_closed(reader.get_mut(), "HTTP/1.0 without keep-alive");
    if cfg!(unix) {
        let link = ask(
            server.address,
            b"GET /outside.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        );
        assert_eq!(link.status, 403, "a symbolic link out of the folder");
    }
    let _ = std::fs::remove_dir_all(&folder);
}

/// A server whose stdout nobody reads (a terminal paused with Ctrl-S, a pipe into a program that
/// stalled) goes on serving: its log drops lines rather than make a client's thread wait. Enough
/// requests to fill any pipe's buffer (64 KiB on Linux) and the log's 4096 waiting lines, on one
/// connection, each answered; then, once stdout is read again, the log says what it lost.
#[test]
fn a_server_whose_log_nobody_reads_goes_on_serving() {
    const REQUESTS: usize = 8000;
    const BATCH: usize = 200;
    /// The server process, killed when the test ends however it ends.
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut server = Killed(
        Command::new(HTTP)
            .args(["127.0.0.1:0", SITE, HEADER_SECONDS])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server"),
    );
    let mut log = BufReader::new(server.0.stdout.take().expect("its stdout"));
    let mut first = String::new();
    log.read_line(&mut first).expect("the listening line");
    let address: SocketAddr = first
        .trim_end()
        .strip_prefix("listening on ")
        .and_then(|address| address.parse().ok())
        .unwrap_or_else(|| panic!("not a listening line: {first:?}"));
    // From here on nobody reads `log` until every request is answered.
    let stream = support::connect(address);
    let mut writer = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::new(stream);
    let batch = b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n".repeat(BATCH);
    for sent in (0..REQUESTS).step_by(BATCH) {
        writer.write_all(&batch).expect("send a batch of requests");
        for answered in sent..sent + BATCH {
            if let Err(error) = reader.fill_buf() {
                panic!(
                    "after {answered} requests answered, with nobody reading the server's \
                     stdout, the next got no answer ({:?}): a log line waited for stdout",
                    error.kind()
                );
            }
            assert_eq!(read_response(&mut reader, false).status, 200);
        }
    }
    // Reading the log again lets it write, and say how many lines it dropped.
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in log.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) if line.contains("log lines lost") => break,
            Ok(_) => {}
            Err(_) => panic!("the log did not say that it lost lines within {PATIENCE:?}"),
        }
    }
}
