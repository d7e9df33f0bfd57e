//! The checks by address, judging servers written in Python: the book's listings in
//! `book/src/python/`, as the chapter "Checking a server in another language" runs them. Where
//! `python3` is missing, each test says so and passes without running.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use course::check::verdict::Report;
use exercise_runner::by_address::{self, Request, Server};

/// How long a Python server may take to say where it listens.
const START_WITHIN: Duration = Duration::from_secs(10);

fn listing(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../book/src/python")
        .join(name)
}

fn python_is_here() -> bool {
    let here = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !here {
        eprintln!("skipped: python3 is not installed here, so no Python server can be checked");
    }
    here
}

/// Runs exercise `number`'s check as `cargo run -p exercises -- check` would, and reports it.
fn check(number: &str, server: Server) -> Report {
    let request = Request {
        number: number.into(),
        server,
        json: true,
    };
    let (server_check, target) = by_address::find(&request).expect("the check exists");
    let outcome = by_address::run(server_check, &target).expect("a server listens");
    let report = Report::new(server_check.check.exercise().id, &outcome);
    // What `--json` prints must read back the same.
    assert_eq!(Report::from_json(&report.to_json()).as_ref(), Some(&report));
    report
}

fn command(listing_name: &str) -> Server {
    Server::Command(format!(
        "python3 {} {{port}}",
        listing(listing_name).display()
    ))
}

/// A Python server started the way a learner starts it, stopped when dropped.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `python3 -u SCRIPT ARGS` and waits for the first line it prints that contains
/// `listening on`.
fn start(script: &PathBuf, args: &[&str]) -> Started {
    let mut child = Command::new("python3")
        .arg("-u") // unbuffered: its line arrives as soon as it is printed
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // The seed's server dies of the check's reset with a traceback: true, but noise here.
        .stderr(Stdio::null())
        .spawn()
        .expect("start python3");
    let stdout = child.stdout.take().expect("piped");
    let (sender, said) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = sender.send(line);
            }
        }
    });
    let started = Started(child);
    said.recv_timeout(START_WITHIN)
        .expect("the Python server says where it listens");
    started
}

#[test]
fn a_threaded_python_echo_passes_check_03() {
    if !python_is_here() {
        return;
    }
    let report = check("03", command("threaded_echo_server.py"));
    assert!(report.passed, "{}\n{}", report.reason, report.transcript);
}

/// A port nobody listens on now, for a server the test starts itself and then checks at its
/// address. The port is free again once this returns; another program could take it before the
/// server binds it, a small window these tests accept.
fn free_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    port.to_string()
}

#[test]
fn a_threaded_python_echo_passes_check_03_at_its_address() {
    if !python_is_here() {
        return;
    }
    let port = free_port();
    let _server = start(&listing("threaded_echo_server.py"), &[&port]);
    let report = check("03", Server::Address(format!("127.0.0.1:{port}")));
    assert!(report.passed, "{}\n{}", report.reason, report.transcript);
}

#[test]
fn a_python_greeting_that_names_its_client_passes_check_01() {
    if !python_is_here() {
        return;
    }
    let report = check("01", command("greeting_server.py"));
    assert!(report.passed, "{}\n{}", report.reason, report.transcript);
}

#[test]
fn a_python_greeting_that_names_its_client_passes_check_01_at_its_address() {
    if !python_is_here() {
        return;
    }
    let port = free_port();
    let _server = start(&listing("greeting_server.py"), &[&port]);
    let report = check("01", Server::Address(format!("127.0.0.1:{port}")));
    assert!(report.passed, "{}\n{}", report.reason, report.transcript);
}

/// The seed tutorial's echo server, run as it is (on a free port instead of its 65433): it
/// serves its first client, and ends when that client vanishes mid-line.
#[test]
fn the_seeds_one_client_echo_fails_check_03_at_the_second_client() {
    if !python_is_here() {
        return;
    }
    let port = free_port();
    let seed = std::fs::read_to_string(listing("seed_echo_server.py")).expect("the listing");
    assert!(seed.contains("65433"), "the seed's server listens on 65433");
    let script = std::env::temp_dir().join(format!("seed_echo_{port}.py"));
    std::fs::write(&script, seed.replace("65433", &port)).expect("a copy on the free port");
    let server = start(&script, &[]);
    let report = check("03", Server::Address(format!("localhost:{port}")));
    drop(server);
    let _ = std::fs::remove_file(&script);
    assert!(!report.passed, "{}", report.transcript);
    assert!(
        report.to_json().contains("\"passed\":false"),
        "{}",
        report.to_json()
    );
    assert!(
        report.first_sentence.starts_with("Client B"),
        "the first sentence should be about the second client: {}\n{}",
        report.first_sentence,
        report.transcript
    );
}

/// A Python server started by `--command` that exits is named as such, with its status.
#[test]
fn a_python_server_that_exits_is_named_with_its_status() {
    if !python_is_here() {
        return;
    }
    let script = std::env::temp_dir().join(format!("exits_{}.py", std::process::id()));
    std::fs::write(
        &script,
        "import socket, sys\n\
         server = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n\
         print('listening on 127.0.0.1:' + sys.argv[1], flush=True)\n\
         conn, _ = server.accept()\n\
         conn.sendall(conn.recv(1024))\n\
         print('giving up after one client', file=sys.stderr)\n\
         sys.exit(3)\n",
    )
    .expect("write the script");
    let report = check(
        "03",
        Server::Command(format!("python3 {} {{port}}", script.display())),
    );
    let _ = std::fs::remove_file(&script);
    assert!(!report.passed);
    assert_eq!(
        report.first_sentence,
        "Your program exited with status 3 while the check ran."
    );
    assert!(
        report.reason.contains("giving up after one client"),
        "the reason quotes its stderr: {}",
        report.reason
    );
}

/// Exercise 08's check presses Ctrl-C for a server it started with `--command`: the signal must
/// reach the program itself, not stop at the shell that ran the command (Debian's dash would keep
/// it), and the program's own way of ending must be what the check sees.
#[cfg(unix)]
#[test]
fn ctrl_c_reaches_a_python_server_started_by_a_command() {
    use course::check::Program;
    use course::check::program::End;

    if !python_is_here() {
        return;
    }
    let script = std::env::temp_dir().join(format!("graceful_{}.py", std::process::id()));
    std::fs::write(
        &script,
        // Ctrl-C as KeyboardInterrupt even where the test runs with SIGINT ignored (a background
        // job of a shell), which Python would otherwise leave ignored; and accept for ever, so
        // that only Ctrl-C ends it (the check's first look at the port is a connection too).
        // The listening line is printed inside the `try`: the check presses Ctrl-C as soon as it
        // reads it, and a KeyboardInterrupt just before the `try` would end Python by SIGINT.
        // (`\x20` keeps the indentation that the string's line continuation would strip.)
        "import signal, socket, sys\n\
         signal.signal(signal.SIGINT, signal.default_int_handler)\n\
         server = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n\
         try:\n    print('listening on 127.0.0.1:' + sys.argv[1], flush=True)\n\
         \x20   while True:\n        server.accept()\n\
         except KeyboardInterrupt:\n    print('goodbye', flush=True)\n    sys.exit(0)\n",
    )
    .expect("write the script");
    let target = course::check::Target::Command(format!("python3 {} {{port}}", script.display()));
    let mut program = Program::start(&target, &[]).expect("the server starts");
    program.interrupt().expect("press Ctrl-C");
    let end = program.wait_for_end(Duration::from_secs(5));
    let _ = std::fs::remove_file(&script);
    assert_eq!(
        end,
        Some(End::Ended(0)),
        "the program ended its own way, with status 0"
    );
}
