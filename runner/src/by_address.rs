//! `cargo run -p exercises -- check NN --address HOST:PORT`: one exercise's check against a
//! server the learner started themselves, in any language; `--command 'python3 server.py
//! {port}'` starts it instead, so that its exit or crash is seen and named. The verdict is the
//! one `cargo test -p exercises NN` prints, from the same check; `--json` prints it as one JSON
//! object instead, for a script that grades many servers.
//!
//! The exit status says how it went: 0 passed, 1 not yet, 2 the check could not be run (no such
//! exercise, a client exercise, nothing listening at the address, a malformed command line).

use std::fmt::Write as _;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use course::check::verdict::Report;
use course::check::{self, NOT_SERVER_CHECKS, SERVER_CHECKS, ServerCheck, Target};

pub const USAGE: &str = "usage: cargo run -p exercises -- check NN --address HOST:PORT [--json]\n       \
    cargo run -p exercises -- check NN --command 'COMMAND {port}' [--json]\n\n\
    Runs exercise NN's check against a server in any language, and prints the same verdict as\n\
    cargo test -p exercises NN.\n  \
    --address HOST:PORT   a server you started yourself, listening there\n  \
    --command 'COMMAND'   a command that starts your server: {port} is replaced by a free port,\n                        \
    where it must listen on 127.0.0.1 (e.g. 'python3 echo_server.py {port}');\n                        \
    the check then sees your program end or crash, and stops it when done\n  \
    --json                one JSON object: exercise, passed, first_sentence, reason, transcript\n\n\
    Exit status: 0 passed, 1 not yet, 2 the check could not run.";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub number: String,
    pub server: Server,
    pub json: bool,
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    Address(String),
    Command(String),
}

/// Reads `check`'s arguments (those after the word `check`).
pub fn parse(arguments: &[String]) -> Result<Request, String> {
    let mut number = None;
    let mut server = None;
    let mut json = false;
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--json" => json = true,
            "--address" | "--command" if server.is_some() => {
                return Err("give either --address or --command, once".into());
            }
            "--address" => {
                let address = arguments
                    .next()
                    .ok_or("--address needs HOST:PORT after it")?;
                server = Some(Server::Address(address.clone()));
            }
            "--command" => {
                let command = arguments
                    .next()
                    .ok_or("--command needs a command after it")?;
                if !command.contains("{port}") {
                    return Err(format!(
                        "the command {command:?} has no {{port}}: the check picks a free port \
                         and puts it there, and your server must listen on that port"
                    ));
                }
                server = Some(Server::Command(command.clone()));
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other if number.is_none() => number = Some(other.to_string()),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    let number = number.ok_or("which exercise? e.g. check 03")?;
    let server = server.ok_or("where is your server? give --address HOST:PORT or --command")?;
    Ok(Request {
        number,
        server,
        json,
    })
}

/// The `check` subcommand: `arguments` are those after the word `check`.
pub fn main(arguments: &[String]) -> ExitCode {
    if arguments
        .iter()
        .any(|argument| argument == "--help" || argument == "-h")
    {
        println!("{USAGE}\n\n{}", which_exercises());
        return ExitCode::SUCCESS;
    }
    let request = match parse(arguments) {
        Ok(request) => request,
        Err(problem) => return usage_error(&format!("{problem}\n\n{USAGE}")),
    };
    // Before anything starts: a check cannot run with a seed it cannot use.
    if let Some(problem) = check::shaper::seed_problem() {
        return usage_error(&problem);
    }
    let (server_check, target) = match find(&request) {
        Ok(found) => found,
        Err(problem) => return usage_error(&problem),
    };
    let exercise = server_check.check.exercise();
    if request.json {
        check::program::hide_what_programs_print();
    } else {
        eprintln!(
            "Checking exercise {} ({}) against {}.",
            server_check.number,
            exercise.title,
            match &target {
                Target::Address(address) => format!("the server at {address}"),
                _ => "the program your command starts".to_string(),
            }
        );
        if let (Some(needs), Target::Address(_)) = (server_check.started_with, &target) {
            eprintln!("(The check expects your server to have been started with {needs}.)");
        }
    }
    let outcome = match run(server_check, &target) {
        Ok(outcome) => outcome,
        Err(problem) => return usage_error(&problem),
    };
    if request.json {
        println!("{}", Report::new(exercise.id, &outcome).to_json());
    } else {
        match &outcome {
            Ok(_) => println!(
                "exercise {} ({}): passed. Every client got what it expected.",
                exercise.id, exercise.title
            ),
            Err(failure) => println!("\n{}\n", failure.with_rerun(&rerun_command(&request))),
        }
    }
    if outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The check `request` names, and where its server is; or why it cannot be run.
pub fn find(request: &Request) -> Result<(&'static ServerCheck, Target), String> {
    let server_check =
        check::server_check(&request.number).ok_or_else(|| no_such_check(&request.number))?;
    let target = match &request.server {
        Server::Command(command) => Target::Command(command.clone()),
        Server::Address(_) if server_check.not_by_address.is_some() => {
            let why = server_check.not_by_address.unwrap_or_default();
            return Err(format!(
                "exercise {} cannot be checked at an address: {why}.",
                server_check.number
            ));
        }
        Server::Address(address) => Target::Address(resolve(address)?),
    };
    Ok((server_check, target))
}

/// Plays the check against the server: its outcome, or (`Err`) that nothing listens there.
pub fn run(server_check: &ServerCheck, target: &Target) -> Result<check::Outcome, String> {
    let outcome = check::run(server_check.check, target);
    // (Nested, not a let chain: those need Rust 1.88, and the course asks for 1.85.)
    if let (Err(failure), Target::Address(address)) = (&outcome, target) {
        if failure.transcript.lines().len() <= 2 && nothing_listens(*address) {
            return Err(format!(
                "Nothing is listening at {address}: start your server first, then run this \
                 again with the address it listens on (for a server on IPv6, [::1]:PORT)."
            ));
        }
    }
    Ok(outcome)
}

/// The command that runs the same check again, for the verdict's last line.
fn rerun_command(request: &Request) -> String {
    let server = match &request.server {
        Server::Address(address) => format!("--address {address}"),
        Server::Command(command) => format!("--command '{command}'"),
    };
    format!(
        "cargo run -p exercises -- check {} {server}",
        request.number
    )
}

/// `HOST:PORT` as a socket address; `localhost` and other names are looked up, and an IPv4
/// address preferred. Nothing connects to it here: a server that serves only one client (the
/// seed tutorial's) must meet the check's first client, not a test connection.
fn resolve(address: &str) -> Result<SocketAddr, String> {
    let looked_up = address.to_socket_addrs().map_err(|error| {
        format!(
            "cannot read {address:?} as HOST:PORT ({error}): give the address your server \
             listens on, such as 127.0.0.1:65433"
        )
    })?;
    let all: Vec<SocketAddr> = looked_up.collect();
    all.iter()
        .find(|address| address.is_ipv4())
        .or(all.first())
        .copied()
        .ok_or_else(|| format!("{address:?} names no address"))
}

/// Whether a connection to `address` is refused: nothing listens there. Tried only after a check
/// failed; a connection that succeeds is closed at once.
fn nothing_listens(address: SocketAddr) -> bool {
    matches!(
        TcpStream::connect_timeout(&address, Duration::from_secs(2)),
        Err(error) if error.kind() == ErrorKind::ConnectionRefused
    )
}

fn no_such_check(number: &str) -> String {
    let wanted = format!("{:0>2}", number.trim());
    match NOT_SERVER_CHECKS
        .iter()
        .find(|(client, _)| *client == wanted)
    {
        Some((_, why)) => format!(
            "exercise {wanted} cannot be checked by address: it is {why}. Run its check with: \
             cargo test -p exercises {wanted}"
        ),
        None => format!(
            "there is no server exercise {number:?}.\n\n{}",
            which_exercises()
        ),
    }
}

/// The help's list: which exercises can be checked this way, and which cannot.
pub fn which_exercises() -> String {
    let mut text = String::from("Server exercises this can check:\n");
    for ServerCheck {
        number,
        check,
        started_with,
        not_by_address,
    } in SERVER_CHECKS
    {
        let _ = write!(text, "  {number}  {}", check.exercise().title);
        if let Some(needs) = started_with {
            let _ = write!(text, "; start it with {needs}");
        }
        if not_by_address.is_some() {
            let _ = write!(text, "; --command only");
        }
        text.push('\n');
    }
    text.push_str("Not these, whose checks call your Rust code rather than connect to a server:\n");
    for (number, why) in NOT_SERVER_CHECKS {
        let _ = writeln!(text, "  {number}  {why}");
    }
    text
}

fn usage_error(problem: &str) -> ExitCode {
    eprintln!("{problem}");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn an_address_or_a_command_and_a_number() {
        assert_eq!(
            parse(&words("03 --address 127.0.0.1:65433 --json")),
            Ok(Request {
                number: "03".into(),
                server: Server::Address("127.0.0.1:65433".into()),
                json: true,
            })
        );
        let command = vec![
            "--command".to_string(),
            "python3 s.py {port}".to_string(),
            "1".to_string(),
        ];
        assert_eq!(
            parse(&command).map(|request| request.server),
            Ok(Server::Command("python3 s.py {port}".into()))
        );
    }

    #[test]
    fn what_is_missing_is_named() {
        assert!(parse(&words("03")).unwrap_err().contains("--address"));
        assert!(
            parse(&words("--address 127.0.0.1:1"))
                .unwrap_err()
                .contains("which exercise")
        );
        assert!(
            parse(&["03".into(), "--command".into(), "python3 s.py".into()])
                .unwrap_err()
                .contains("{port}")
        );
        assert!(
            parse(&words("03 --address a:1 --command b"))
                .unwrap_err()
                .contains("either")
        );
    }

    #[test]
    fn client_exercises_say_why_not() {
        assert!(no_such_check("2").contains("client"));
        assert!(no_such_check("99").contains("no server exercise"));
        assert!(check::server_check("3").is_some());
    }
}
