//! The command line every lesson binary shares: `PROGRAM [ADDRESS] [MORE...]` and `--help`.
//!
//! Servers read the address to listen on, clients the address to connect to. Nothing in the course
//! hard-codes an address anywhere else: a default lives here only because each program passes its own.

use std::net::{SocketAddr, ToSocketAddrs};
use std::ops::RangeInclusive;
use std::time::Duration;

use anyhow::bail;

/// Whether a program listens for connections or makes them: the address means something
/// different to each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Role {
    /// Listens on its address.
    Server,
    /// Connects to its address.
    Client,
}

/// What a program says about itself in `--help`, and the address it uses when given none.
pub struct Program {
    /// The binary's name, as in `cargo run --bin NAME`.
    pub name: &'static str,
    /// Server or client.
    pub role: Role,
    /// One sentence: what the program does.
    pub about: &'static str,
    /// Used when the command line has no address, e.g. `127.0.0.1:65432`.
    pub default_address: &'static str,
    /// What may follow the address, for the usage line (e.g. `[MESSAGE]`), or `""` for nothing.
    pub extra_usage: &'static str,
    /// How many arguments may follow the address.
    pub max_extra_args: usize,
    /// How to talk to this program (servers) or what it needs running (clients), for `--help`.
    pub try_it: &'static str,
}

/// What was on the command line.
#[derive(Debug, PartialEq)]
pub struct Args {
    /// The address to listen on or connect to.
    pub address: SocketAddr,
    /// Whatever followed the address (at most `max_extra_args` of them).
    pub extra: Vec<String>,
}

/// Either the arguments, or a request for help.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Run(Args),
    Help,
}

impl Program {
    /// Reads the process's own command line. On `--help` it prints the help and exits with 0.
    pub fn args(&self) -> anyhow::Result<Args> {
        match self.parse(arguments()?)? {
            Parsed::Run(args) => Ok(args),
            Parsed::Help => self.print_help_and_exit(),
        }
    }

    /// Prints the help and exits with 0. A reader that has gone (`--help | head -1`) is no
    /// error here: `println!` would panic.
    pub fn print_help_and_exit(&self) -> ! {
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "{}", self.help());
        std::process::exit(0);
    }

    /// The testable half of [`Program::args`]: `arguments` excludes the program's name.
    pub fn parse(&self, arguments: impl IntoIterator<Item = String>) -> anyhow::Result<Parsed> {
        let arguments: Vec<String> = arguments.into_iter().collect();
        if arguments.iter().any(|a| a == "--help" || a == "-h") {
            return Ok(Parsed::Help);
        }
        let (address_text, extra) = match arguments.split_first() {
            Some((first, rest)) => (first.as_str(), rest.to_vec()),
            None => (self.default_address, Vec::new()),
        };
        let parsed = match self.role {
            Role::Server => parse_address(address_text),
            Role::Client => parse_server_address(address_text),
        };
        let address = parsed.map_err(|error| {
            let mut message = format!("{error}, such as {}", self.default_address);
            if self.max_extra_args > 0 {
                message.push_str(&format!(
                    "\nThe address comes first: {} {} {}",
                    self.name, self.default_address, self.extra_usage
                ));
            }
            anyhow::anyhow!(message)
        })?;
        if extra.len() > self.max_extra_args {
            bail!(
                "too many arguments: {:?}\nusage: {}",
                &extra[self.max_extra_args..],
                self.usage()
            );
        }
        Ok(Parsed::Run(Args { address, extra }))
    }

    fn usage(&self) -> String {
        format!("{} [ADDRESS] {}", self.name, self.extra_usage)
            .trim_end()
            .to_string()
    }

    /// The text `--help` prints.
    pub fn help(&self) -> String {
        format!(
            "{about}\n\nusage: {usage}\n\nADDRESS is HOST:PORT; the default is {default}.\n\
             {address_note}\n\n{try_it}",
            about = self.about,
            usage = self.usage(),
            default = self.default_address,
            address_note = match self.role {
                Role::Server =>
                    "Port 0 asks the system for any free port; the first line, \
                                 `listening on ...`, says which one it gave.",
                Role::Client =>
                    "Give the address the server printed in its `listening on ...` \
                                 line (for 0.0.0.0, give 127.0.0.1 and the same port).",
            },
            try_it = self.try_it,
        )
    }
}

/// The process's own command line after the program's name, each argument as text. (Not
/// `std::env::args`, which panics on an argument that is not UTF-8: this says so in words.)
pub fn arguments() -> anyhow::Result<Vec<String>> {
    std::env::args_os()
        .skip(1)
        .map(|argument| {
            argument.into_string().map_err(|argument| {
                anyhow::anyhow!(
                    "the argument {:?} is not UTF-8 text: give addresses, numbers and names in \
                     plain text",
                    argument.to_string_lossy()
                )
            })
        })
        .collect()
}

/// For a program that takes no arguments (the measuring examples): an error that names the first
/// one given, `--help` included, so that nothing runs on a word it would ignore.
pub fn no_arguments(program: &str) -> anyhow::Result<()> {
    match arguments()?.first() {
        None => Ok(()),
        Some(first) => bail!("{program} takes no arguments, not {first:?}: run it without any"),
    }
}

/// Takes `--NAME VALUE` out of `arguments`, wherever it stands: its value, if it was given, and
/// the other arguments in their order, for [`Program::parse`]. (Lesson 13's `--certs` and `--ca`.)
pub fn take_option(
    name: &str,
    arguments: Vec<String>,
) -> anyhow::Result<(Option<String>, Vec<String>)> {
    let mut value = None;
    let mut rest = Vec::new();
    let mut arguments = arguments.into_iter();
    while let Some(argument) = arguments.next() {
        if argument == name {
            let Some(given) = arguments.next() else {
                bail!("{name} needs a value after it");
            };
            if let Some(first) = &value {
                bail!("{name} was given twice ({first:?} and {given:?}): give it once");
            }
            value = Some(given);
        } else {
            rest.push(argument);
        }
    }
    Ok((value, rest))
}

/// Parses `HOST:PORT`: an IP address (`127.0.0.1:65432`, `[::1]:65432`) or a name (`localhost:65432`).
pub fn parse_address(text: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    let looks_like_host_port = text
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !looks_like_host_port {
        bail!("{text:?} is not an address: expected HOST:PORT with a port from 0 to 65535");
    }
    // A name such as `localhost` needs a lookup, which may give several addresses: on some
    // systems `localhost` is `::1` first, then `127.0.0.1`. The lessons listen on 127.0.0.1 by
    // default, so an IPv4 address wins when there is one.
    match text.to_socket_addrs() {
        Ok(addresses) => {
            let addresses: Vec<SocketAddr> = addresses.collect();
            match addresses
                .iter()
                .find(|address| address.is_ipv4())
                .or(addresses.first())
            {
                Some(address) => Ok(*address),
                None => bail!("{text:?} names no address"),
            }
        }
        // No example here: the caller adds one with the program's own default address.
        Err(error) => bail!(
            "cannot find the host in {text:?} ({error}): check the spelling, or use an IP \
             address"
        ),
    }
}

/// Parses the address of a server to connect to: as [`parse_address`], but port 0, which asks the
/// system for any free port when a server listens, is refused: no server can be reached there.
/// (`0.0.0.0` is left to `connect`: Linux and macOS take it as this machine, and where it fails,
/// the error says what to give instead.)
pub fn parse_server_address(text: &str) -> anyhow::Result<SocketAddr> {
    let address = parse_address(text)?;
    if address.port() == 0 {
        let advice = crate::explain::not_a_server_address(address).unwrap_or_default();
        bail!("{text:?} names no server: {advice}");
    }
    Ok(address)
}

/// What a program's `main` returns: `fn main() -> course::cli::MainResult`.
///
/// Inside `main`, `?` works as with `anyhow::Result`. The difference is what a learner sees when
/// `main` returns an error: the error and its causes, and never a backtrace. (`anyhow` prints one
/// whenever `RUST_BACKTRACE` or `RUST_LIB_BACKTRACE` is set, as it is on many machines, and
/// twenty-odd lines of frames bury the one sentence that says what to do.)
pub type MainResult = Result<(), ErrorReport>;

/// An error on its way out of `main`, printed as a sentence and its causes.
pub struct ErrorReport(anyhow::Error);

impl<E> From<E> for ErrorReport
where
    anyhow::Error: From<E>,
{
    fn from(error: E) -> ErrorReport {
        ErrorReport(anyhow::Error::from(error))
    }
}

/// Rust prints an error returned from `main` as `Error: ` and its `Debug` text: here, the message
/// and then each cause on a line of its own, the way `anyhow` does, minus the backtrace.
impl std::fmt::Debug for ErrorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut causes = self.0.chain().skip(1).peekable();
        if causes.peek().is_some() {
            write!(f, "\n\nCaused by:")?;
            for cause in causes {
                write!(f, "\n    {cause}")?;
            }
        }
        Ok(())
    }
}

/// Runs an exercise's `serve` function as a program, so you can try your server by hand:
/// reads the address from the command line, binds it, prints `listening on ...`, and serves.
///
/// It returns whichever error type `main` does: [`MainResult`]'s, or `anyhow`'s.
pub fn serve_by_hand<E: From<anyhow::Error>>(
    program: &Program,
    serve: impl FnOnce(std::net::TcpListener) -> anyhow::Result<()>,
) -> Result<(), E> {
    let run = || {
        let address = program.args()?.address;
        let listener = std::net::TcpListener::bind(address)
            .map_err(|error| crate::explain::bind_error(address, error))?;
        println!("listening on {}", listener.local_addr()?);
        serve(listener)?;
        // The checks tell a return from an exit by this line (`check::program::STOPPED_LINE`).
        println!("{}", crate::check::program::STOPPED_LINE);
        Ok::<(), anyhow::Error>(())
    };
    Ok(run()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_option_is_taken_out_wherever_it_stands() {
        let words = |line: &str| line.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            take_option("--ca", words("127.0.0.1:1 --ca ca.pem hello")).unwrap(),
            (Some("ca.pem".to_string()), words("127.0.0.1:1 hello"))
        );
        assert_eq!(
            take_option("--ca", words("127.0.0.1:1")).unwrap(),
            (None, words("127.0.0.1:1"))
        );
        assert!(take_option("--ca", words("127.0.0.1:1 --ca")).is_err());
        // Twice is a mistake, not the last one winning.
        assert!(take_option("--ca", words("--ca a.pem 127.0.0.1:1 --ca b.pem")).is_err());
    }

    const PROGRAM: Program = Program {
        name: "02_echo_client",
        role: Role::Client,
        about: "test",
        default_address: "127.0.0.1:65433",
        extra_usage: "[MESSAGE]",
        max_extra_args: 1,
        try_it: "",
    };

    fn parse(arguments: &[&str]) -> anyhow::Result<Parsed> {
        PROGRAM.parse(arguments.iter().map(|a| a.to_string()))
    }

    /// Port 0 is any free port to a server, and no server at all to a client.
    #[test]
    fn a_client_is_refused_port_0_and_a_server_takes_it() {
        let error = parse(&["127.0.0.1:0"]).unwrap_err().to_string();
        assert!(
            error.contains("\"127.0.0.1:0\" names no server: port 0 means \"any free port\""),
            "{error}"
        );
        let server = Program {
            role: Role::Server,
            ..PROGRAM
        };
        let parsed = server.parse(["127.0.0.1:0".to_string()]).unwrap();
        let Parsed::Run(args) = parsed else {
            panic!("{parsed:?}")
        };
        assert_eq!(args.address.port(), 0);
        assert!(parse_server_address("localhost:0").is_err());
        assert!(parse_server_address("[::1]:1").is_ok());
    }

    #[test]
    fn no_arguments_means_the_default_address() {
        let expected = Args {
            address: "127.0.0.1:65433".parse().unwrap(),
            extra: vec![],
        };
        assert_eq!(parse(&[]).unwrap(), Parsed::Run(expected));
    }

    #[test]
    fn address_then_extra() {
        let expected = Args {
            address: "[::1]:9".parse().unwrap(),
            extra: vec!["hi there".into()],
        };
        assert_eq!(
            parse(&["[::1]:9", "hi there"]).unwrap(),
            Parsed::Run(expected)
        );
    }

    #[test]
    fn localhost_is_looked_up() {
        let Parsed::Run(args) = parse(&["localhost:7"]).unwrap() else {
            panic!("expected arguments")
        };
        assert!(args.address.ip().is_loopback());
        assert_eq!(args.address.port(), 7);
    }

    #[test]
    fn help_wins() {
        assert_eq!(parse(&["nonsense", "--help"]).unwrap(), Parsed::Help);
    }

    #[test]
    fn a_message_where_the_address_belongs_says_what_to_do() {
        let error = parse(&["Hello"]).unwrap_err().to_string();
        assert!(error.contains("\"Hello\" is not an address"), "{error}");
        assert!(error.contains("The address comes first"), "{error}");
    }

    #[test]
    fn out_of_range_port_is_not_an_address() {
        let error = parse(&["127.0.0.1:70000"]).unwrap_err().to_string();
        assert!(error.contains("port from 0 to 65535"), "{error}");
    }

    #[test]
    fn an_unknown_host_gets_one_example() {
        let error = parse(&["no-such-host.invalid:7"]).unwrap_err().to_string();
        assert!(
            error.contains("use an IP address, such as 127.0.0.1:65433"),
            "{error}"
        );
        assert_eq!(error.matches("127.0.0.1").count(), 2, "{error}"); // example, usage line
    }

    #[test]
    fn an_error_report_shows_the_causes_and_no_backtrace() {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let report = ErrorReport::from(anyhow::Error::new(cause).context("cannot connect"));
        assert_eq!(
            format!("{report:?}"),
            "cannot connect\n\nCaused by:\n    refused"
        );
        let alone = ErrorReport::from(anyhow::anyhow!("just this"));
        assert_eq!(format!("{alone:?}"), "just this");
    }

    #[test]
    fn too_many_arguments() {
        let error = parse(&["127.0.0.1:1", "a", "b"]).unwrap_err().to_string();
        assert!(error.contains("too many arguments"), "{error}");
    }
}

/// `number` and the noun that counts it, in the singular for one: `count(1, "worker", "workers")`
/// is "1 worker", `count(2, ...)` is "2 workers". Lessons print counts a learner reads, often 1.
pub fn count(number: usize, one: &str, many: &str) -> String {
    let noun = if number == 1 { one } else { many };
    format!("{number} {noun}")
}

#[cfg(test)]
mod count_tests {
    use super::count;

    #[test]
    fn one_is_singular_and_every_other_number_plural() {
        assert_eq!(count(1, "worker", "workers"), "1 worker");
        assert_eq!(count(0, "worker", "workers"), "0 workers");
        assert_eq!(count(2, "client", "clients"), "2 clients");
    }
}

/// The times a command line may give a timeout or a deadline: from a millisecond (a far smaller
/// number rounds to no time at all, as 1e-10 s does, which no socket timeout takes, and a server
/// dropped every client unheard) to an hour (far more overflows a deadline,
/// `Instant::now() + time`, and the program panics).
pub const TIMEOUT_SECONDS: RangeInclusive<f64> = 0.001..=3600.0;

/// A command line's number of seconds within `range`, such as `10` or `0.5`, or an error that
/// names `what` and the range.
pub fn seconds(what: &str, text: &str, range: RangeInclusive<f64>) -> anyhow::Result<Duration> {
    match text.parse::<f64>() {
        // `contains` is false for NaN, so what passes is a number `Duration` can hold.
        Ok(number) if range.contains(&number) => Ok(Duration::from_secs_f64(number)),
        _ => anyhow::bail!(
            "{what} must be a number of seconds from {} to {}, not {text:?}",
            range.start(),
            range.end()
        ),
    }
}

/// The most clients (or connections waiting, or load clients) a command line may ask for: more
/// than a process may keep sockets open for by default anywhere, and far below what overflows a
/// count (`usize::MAX` made lesson 11's load panic) or tokio's semaphore (`Semaphore::MAX_PERMITS`,
/// `usize::MAX >> 3`, made lesson 10 panic).
pub const MOST_AT_ONCE: usize = 1_000_000;

/// The most threads a command line may ask a program to start at once, such as lesson 07's
/// workers or 11_load's clients: Linux starts ten thousand with its default limits, where about
/// 16,000 run out (each thread takes about four memory maps of the 65,530 a process may have, and
/// std aborts the process when a new thread cannot get its own: `measurements/thread_limit.txt`);
/// macOS stops sooner, with an error.
pub const MOST_THREADS: usize = 10_000;

/// A command line's whole number within `range`, such as a count of clients, or an error that
/// names `what` and the range.
pub fn whole_number(what: &str, text: &str, range: RangeInclusive<usize>) -> anyhow::Result<usize> {
    match text.parse::<usize>() {
        Ok(number) if range.contains(&number) => Ok(number),
        _ => anyhow::bail!(
            "{what} must be a whole number from {} to {}, not {text:?}",
            range.start(),
            range.end()
        ),
    }
}

#[cfg(test)]
mod seconds_tests {
    use super::{TIMEOUT_SECONDS, seconds};
    use std::time::Duration;

    #[test]
    fn both_ends_of_the_range_are_taken_and_one_past_each_refused_in_words() {
        let take = |text: &str| seconds("IDLE_SECONDS", text, TIMEOUT_SECONDS);
        assert_eq!(take("0.001").unwrap(), Duration::from_millis(1));
        assert_eq!(take("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(take("3600").unwrap(), Duration::from_secs(3600));
        for wrong in [
            "0", "0.0009", "1e-10", "3600.5", "1e19", "inf", "NaN", "-1", "soon", "",
        ] {
            let error = take(wrong).unwrap_err().to_string();
            assert_eq!(
                error,
                format!(
                    "IDLE_SECONDS must be a number of seconds from 0.001 to 3600, not {wrong:?}"
                )
            );
        }
        // A range that starts at 0 takes 0: lesson 08's grace may be none at all.
        assert_eq!(
            seconds("GRACE_SECONDS", "0", 0.0..=3600.0).unwrap(),
            Duration::ZERO
        );
    }

    #[test]
    fn whole_numbers_are_taken_at_both_ends_and_refused_past_them() {
        use super::{MOST_AT_ONCE, whole_number};
        let take = |text: &str| whole_number("MAX_CLIENTS", text, 1..=MOST_AT_ONCE);
        assert_eq!(take("1").unwrap(), 1);
        assert_eq!(take("1000000").unwrap(), MOST_AT_ONCE);
        for wrong in [
            "0",
            "1000001",
            "18446744073709551615",
            "1e3",
            "-1",
            "1.5",
            "lots",
            "",
        ] {
            assert_eq!(
                take(wrong).unwrap_err().to_string(),
                format!("MAX_CLIENTS must be a whole number from 1 to 1000000, not {wrong:?}")
            );
        }
    }
}
