//! Starting a server program and learning where it listens, from the line every course server
//! prints first: `listening on ADDRESS`. Lesson 11's `--spawn`, the benchmarks in `examples/`,
//! and the course's tests all start servers with [`StartedServer::start`], so a server that dies
//! at once, or prints something else first, is reported the same way everywhere.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};

/// Runs `command`, which should refuse to start (a wrong argument or setting), and gives back its
/// exit status and what it wrote on stderr; or `None` if it was still running after `patience`
/// (it started instead of refusing), and is then stopped. Its stdout is thrown away. For tests.
pub fn refusal(mut command: Command, patience: Duration) -> Option<(ExitStatus, String)> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    // Its stderr ends when it does: a program that runs keeps it open.
    let mut stderr = child.stderr.take()?;
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut said = String::new();
        let _ = stderr.read_to_string(&mut said);
        let _ = sender.send(said);
    });
    let Ok(said) = receiver.recv_timeout(patience) else {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    };
    Some((child.wait().ok()?, said))
}

/// A server process started with [`StartedServer::start`]. Dropping it kills the process.
pub struct StartedServer {
    child: Child,
    /// The address from the server's `listening on ADDRESS` line (`0.0.0.0` read as loopback).
    pub address: SocketAddr,
    /// Every line the server prints on stdout after that one, as it prints them.
    pub stdout: Receiver<String>,
    /// Every line it prints on stderr, if `start` was asked to keep them.
    pub stderr: Option<Receiver<String>>,
}

impl StartedServer {
    /// Starts `command` (its arguments given, the listen address among them) and waits up to
    /// `patience` for its first stdout line, `listening on ADDRESS`. Its stdout and, with
    /// `keep_stderr`, its stderr are read from then on, so that it never blocks on a full pipe.
    pub fn start(
        mut command: Command,
        patience: Duration,
        keep_stderr: bool,
    ) -> anyhow::Result<StartedServer> {
        let program = command.get_program().to_string_lossy().into_owned();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if keep_stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {program}"))?;
        let stdout = lines_of(child.stdout.take().context("stdout is piped")?);
        let stderr = child.stderr.take().map(lines_of);
        let first = match stdout.recv_timeout(patience) {
            Ok(line) => line,
            Err(waited) => {
                let _ = child.kill();
                let status = child.wait();
                match waited {
                    RecvTimeoutError::Timeout => bail!(
                        "{program} printed nothing within {} s, where `listening on ADDRESS` \
                         was expected",
                        patience.as_secs_f64()
                    ),
                    RecvTimeoutError::Disconnected => bail!(
                        "{program} ended before it said where it listens ({})",
                        status.map_or_else(|error| error.to_string(), |status| status.to_string())
                    ),
                }
            }
        };
        let Some(address) = listening_address(&first) else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{program}'s first line should be `listening on ADDRESS`, but it was {first:?}");
        };
        Ok(StartedServer {
            child,
            address,
            stdout,
            stderr,
        })
    }

    /// The server's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The server's process, to wait for it or to signal it.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for StartedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in a `listening on 127.0.0.1:4242` line. Words may come before and after it, as
/// in a server in another language that prints `Server listening on 127.0.0.1:4242.`; a server on
/// every interface (`0.0.0.0`, `[::]`) is reached on loopback.
pub fn listening_address(line: &str) -> Option<SocketAddr> {
    let (_, rest) = line.split_once("listening on ")?;
    let word = rest.split_whitespace().next()?;
    let address: SocketAddr = word.trim_end_matches([',', '.', ';']).parse().ok()?;
    Some(match address.ip().is_unspecified() {
        true if address.is_ipv4() => SocketAddr::from(([127, 0, 0, 1], address.port())),
        true => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, address.port())),
        false => address,
    })
}

/// Reads `reader` line by line on a thread of its own, sending each line (without its newline).
fn lines_of(reader: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in text_lines(reader) {
            // Nobody listening any more is fine: keep reading, so the server never blocks.
            let _ = sender.send(line);
        }
    });
    receiver
}

/// A program's output, line by line, as `BufRead::lines` gives it (without `\n` or `\r\n`),
/// until it ends or fails. Bytes that are not UTF-8 are shown as `�`: `lines()` would stop at
/// the first such line, and from then on nobody would read the pipe, and the program would block
/// once it filled.
pub(crate) fn text_lines(reader: impl Read) -> impl Iterator<Item = String> {
    BufReader::new(reader)
        .split(b'\n')
        .map_while(Result::ok)
        .map(|line| String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(&line)).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line that is not UTF-8 does not stop the reading (nobody would drain the pipe after it).
    #[test]
    fn lines_go_on_past_one_that_is_not_utf8() {
        let output: &[u8] = b"listening on 127.0.0.1:1\r\n\xff\xfe\nlast\n";
        let lines: Vec<String> = lines_of(output).iter().collect();
        assert_eq!(
            lines,
            ["listening on 127.0.0.1:1", "\u{fffd}\u{fffd}", "last"]
        );
    }
}
