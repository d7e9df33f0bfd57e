//! Turns the socket errors a beginner meets into sentences that say what happened and what to do.
//!
//! The raw `std::io::Error` stays attached as the cause, so nothing is hidden: `main` prints
//! the explanation first and the system's own words under `Caused by:`.

use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

/// Explains why `TcpListener::bind` or `UdpSocket::bind` on `address` failed.
pub fn bind_error(address: SocketAddr, error: io::Error) -> anyhow::Error {
    let advice = match error.kind() {
        ErrorKind::AddrInUse => format!(
            "address in use: is another lesson (or another copy of this one) still running? \
             Stop it with Ctrl-C, or pass another address, such as {}:0 for any free port",
            address.ip()
        ),
        // Linux keeps the ports below 1024 for programs with administrator rights; macOS did too
        // before 10.14, and since then may still for a single address such as 127.0.0.1 (reports
        // differ; the book's Platforms page cites both).
        ErrorKind::PermissionDenied if address.port() < 1024 => format!(
            "permission denied: this system lets only administrators use ports below 1024; \
             pass a port of 1024 or above, such as {}:0 for any free port",
            address.ip()
        ),
        // Windows reserves whole blocks of high ports (Hyper-V, WSL2 and Docker take them, often
        // in 49152-65535, where the lessons' ports are) and refuses them with "access denied";
        // it keeps TCP's reserved ranges and UDP's apart.
        ErrorKind::PermissionDenied => format!(
            "permission denied: the system keeps this port for itself. On Windows that usually \
             means it lies in a range reserved for Hyper-V, WSL2 or Docker (`netsh interface \
             ipv4 show excludedportrange protocol=tcp` lists them; `protocol=udp` for a UDP \
             port). Pass another address, such as {ip}:0 for any free port, or {ip}:8000",
            ip = address.ip()
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

/// Why a client cannot send to `address`, if it cannot: port 0 and the unspecified addresses
/// (`0.0.0.0`, `::`) mean something only to a server.
pub fn not_a_server_address(address: SocketAddr) -> Option<String> {
    if address.port() == 0 {
        return Some(
            "port 0 means \"any free port\" to a server, but a client must name the port the \
             server got: use the one in the server's `listening on` line"
                .to_string(),
        );
    }
    if address.ip().is_unspecified() {
        let this_machine: SocketAddr = match address {
            SocketAddr::V4(_) => (Ipv4Addr::LOCALHOST, address.port()).into(),
            SocketAddr::V6(_) => (Ipv6Addr::LOCALHOST, address.port()).into(),
        };
        return Some(format!(
            "{} means \"every network interface\" to a server, but a client must name one: use \
             {this_machine} on the server's machine",
            address.ip()
        ));
    }
    None
}

/// Explains why connecting to `address` failed.
pub fn connect_error(address: SocketAddr, error: io::Error) -> anyhow::Error {
    // Linux and macOS quietly take 0.0.0.0 as "this machine" in a TCP connect; Windows refuses it.
    if let Some(advice) = not_a_server_address(address) {
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
        // The connection was made, and reset before `connect` had looked: a server that took it
        // and closed it at once, abruptly (a full server, or one that is stopping).
        ErrorKind::ConnectionReset => "the server reset the connection as soon as it was made: \
             is it full, or stopping? Try again"
            .to_string(),
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
        // A system resets a connection that closes with bytes it never read, or that it no
        // longer knows: the program was gone with data still unread, or it restarted.
        ErrorKind::ConnectionReset => {
            format!("{peer} reset the connection: it closed abruptly, leaving data unread")
        }
        // Not the system's complaint but the program's own: what arrived breaks its rules.
        ErrorKind::InvalidData => format!("{peer} sent something this program cannot accept"),
        // Windows' word when its own side gave up on the connection, for example after the peer
        // stopped acknowledging what was sent.
        ErrorKind::ConnectionAborted => format!(
            "the connection to {peer} was aborted by this machine's system: the network or {peer} \
             stopped answering. Check that {peer} still runs, and connect again"
        ),
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
    fn a_refused_high_port_names_windows_reserved_ranges() {
        let error = bind_error(address(), ErrorKind::PermissionDenied.into());
        let text = format!("{error:#}");
        assert!(
            text.contains("reserved for Hyper-V, WSL2 or Docker"),
            "{text}"
        );
        assert!(text.contains("Pass another address"), "{text}");
    }

    #[test]
    fn a_low_port_asks_for_1024_or_above() {
        let low = "127.0.0.1:80".parse().unwrap();
        let text = format!("{:#}", bind_error(low, ErrorKind::PermissionDenied.into()));
        assert!(text.contains("pass a port of 1024 or above"), "{text}");
    }

    #[test]
    fn connecting_to_0_0_0_0_suggests_127_0_0_1() {
        let anywhere = "0.0.0.0:65432".parse().unwrap();
        let error = connect_error(anywhere, ErrorKind::AddrNotAvailable.into());
        let text = format!("{error:#}");
        assert!(text.contains("use 127.0.0.1:65432"), "{text}");
    }

    #[test]
    fn a_connection_reset_as_it_is_made_is_not_called_unmade() {
        let server = "127.0.0.1:65432".parse().unwrap();
        let text = format!(
            "{:#}",
            connect_error(server, ErrorKind::ConnectionReset.into())
        );
        assert!(
            text.contains("reset the connection as soon as it was made"),
            "{text}"
        );
    }

    #[test]
    fn an_aborted_connection_is_explained() {
        let text = format!(
            "{:#}",
            read_error("the server", ErrorKind::ConnectionAborted.into())
        );
        assert!(text.contains("aborted by this machine's system"), "{text}");
    }

    /// Chapter 02 quotes this sentence: keep the two the same.
    #[test]
    fn a_silent_server_is_explained_as_the_book_quotes_it() {
        // Without `#`, only the explanation, not the system's words under it.
        let sentence = read_error("the server", ErrorKind::WouldBlock.into()).to_string();
        let book = include_str!("../book/src/02-echo.md").replace('\n', " ");
        assert!(
            book.contains(&sentence),
            "book/src/02-echo.md should quote {sentence:?}"
        );
    }

    #[test]
    fn refused_asks_whether_the_server_runs() {
        let error = connect_error(address(), ErrorKind::ConnectionRefused.into());
        let text = format!("{error:#}");
        assert!(text.contains("Is the server running?"), "{text}");
        assert!(text.contains("listening on 127.0.0.1:65432"), "{text}");
    }
}
