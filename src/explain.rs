//! Turns the socket errors a beginner meets into sentences that say what happened and what to do.
//!
//! The raw `std::io::Error` stays attached as the cause, so nothing is hidden: `main` prints
//! the explanation first and the system's own words under `Caused by:`.

use std::io::{self, ErrorKind};
use std::net::SocketAddr;

/// Explains why `TcpListener::bind` or `UdpSocket::bind` on `address` failed.
pub fn bind_error(address: SocketAddr, error: io::Error) -> anyhow::Error {
    let advice = match error.kind() {
        ErrorKind::AddrInUse => format!(
            "address in use: is another lesson (or another copy of this one) still running? \
             Stop it with Ctrl-C, or pass another address, such as {}:0 for any free port",
            address.ip()
        ),
        ErrorKind::PermissionDenied if address.port() < 1024 => "permission denied: ports below \
             1024 are reserved for the system; pass a port above 1024"
            .to_string(),
        // Windows, for one, reserves whole ranges of high ports for its own use.
        ErrorKind::PermissionDenied => format!(
            "permission denied: the system keeps this port for itself; pass another port, such \
             as {}:0 for any free port",
            address.ip()
        ),
        ErrorKind::AddrNotAvailable => format!(
            "{} is not an address of this machine: use 127.0.0.1 (this machine only) or \
             0.0.0.0 (every network interface)",
            address.ip()
        ),
        _ => "the system refused to open this address".to_string(),
    };
    anyhow::Error::new(error).context(format!("cannot listen on {address}: {advice}"))
}

/// Explains why connecting to `address` failed.
pub fn connect_error(address: SocketAddr, error: io::Error) -> anyhow::Error {
    if address.port() == 0 {
        let advice = "port 0 means \"any free port\" to a server, but a client must name the \
                      port the server got: use the one in the server's `listening on` line";
        return anyhow::Error::new(error).context(format!("cannot connect to {address}: {advice}"));
    }
    let advice = match error.kind() {
        ErrorKind::ConnectionRefused => format!(
            "connection refused: nothing is listening there. Is the server running? Start it \
             first, and check that it printed `listening on {address}`"
        ),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => {
            "no answer in time: is the address right, and is the server's machine reachable?"
                .to_string()
        }
        ErrorKind::AddrNotAvailable => "that address cannot be reached from here".to_string(),
        _ => "the connection could not be made".to_string(),
    };
    anyhow::Error::new(error).context(format!("cannot connect to {address}: {advice}"))
}

/// Explains an error reading from a peer that may simply have gone quiet.
pub fn read_error(peer: &str, error: io::Error) -> anyhow::Error {
    let advice = match error.kind() {
        // Unix says WouldBlock, Windows TimedOut, when a read timeout expires.
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            format!(
                "{peer} sent nothing for too long: is it busy with another client, stuck, or \
                 waiting for you?"
            )
        }
        ErrorKind::ConnectionReset => {
            format!("{peer} reset the connection (it went away abruptly)")
        }
        // Not the system's complaint but the program's own: what arrived breaks its rules.
        ErrorKind::InvalidData => format!("{peer} sent something this program cannot accept"),
        _ => format!("reading from {peer} failed"),
    };
    anyhow::Error::new(error).context(advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> SocketAddr {
        "127.0.0.1:65432".parse().unwrap()
    }

    #[test]
    fn address_in_use_suggests_what_to_do() {
        let error = bind_error(address(), ErrorKind::AddrInUse.into());
        let text = format!("{error:#}");
        assert!(
            text.starts_with("cannot listen on 127.0.0.1:65432: address in use"),
            "{text}"
        );
        assert!(text.contains("another lesson"), "{text}");
        assert!(text.contains("127.0.0.1:0"), "{text}");
    }

    #[test]
    fn refused_asks_whether_the_server_runs() {
        let error = connect_error(address(), ErrorKind::ConnectionRefused.into());
        let text = format!("{error:#}");
        assert!(text.contains("Is the server running?"), "{text}");
        assert!(text.contains("listening on 127.0.0.1:65432"), "{text}");
    }
}
