//! Listening with a longer queue of waiting connections than std's, for servers that face crowds.
//!
//! When a client connects, the operating system completes the TCP handshake by itself and puts
//! the new connection in the listening socket's *backlog*: the queue of connections that the
//! program has not yet taken with `accept`. `TcpListener::bind` asks for a backlog of 128, and
//! std has no way to ask for more. When a thousand clients arrive at once, the queue overflows,
//! and Linux and macOS drop the handshakes that do not fit: those clients' systems try again a
//! second or more later (Linux since 6.5 and macOS every second at first, then doubling; older
//! Linux doubling from 1 s: see `examples/syn_retries.rs`), and a client whose half of the
//! handshake completed believes it is connected meanwhile. Windows refuses them instead.
//!
//! [`bind_with_backlog`] does what `TcpListener::bind` does, with the backlog as a parameter,
//! through the `socket2` crate (which tokio uses for its `TcpSocket`).

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

// ANCHOR: bind_with_backlog
/// The backlog the servers that face crowds ask for (lessons 04 and 07, and later ones). A whole
/// chat room of 1,000 people arriving at the same moment fits. The system may give less: Linux
/// caps it at `net.core.somaxconn` (4096 by default since Linux 5.4, 128 before), macOS at
/// `kern.ipc.somaxconn` (128 by default), and Windows at a "reasonable value" it does not name.
pub const CROWD_BACKLOG: i32 = 1024;

/// Binds `address` and listens, like `TcpListener::bind`, but with room for `backlog` connections
/// waiting to be accepted. Errors say what happened and what to do, as `bind` errors do in every
/// lesson (see [`crate::explain::bind_error`]).
pub fn bind_with_backlog(address: SocketAddr, backlog: i32) -> anyhow::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .map_err(|error| crate::explain::bind_error(address, error))?;
    // std sets this too, on every system but Windows: a restarted server may listen on its port
    // again at once, even while connections of its previous run are still closing (TIME_WAIT).
    // On Windows the same option would let a second server steal the port, so it stays off.
    #[cfg(not(windows))]
    socket
        .set_reuse_address(true)
        .map_err(|error| crate::explain::bind_error(address, error))?;
    socket
        .bind(&address.into())
        .map_err(|error| crate::explain::bind_error(address, error))?;
    socket
        .listen(backlog)
        .map_err(|error| crate::explain::bind_error(address, error))?;
    Ok(socket.into())
}
// ANCHOR_END: bind_with_backlog

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_with_a_long_backlog_accepts() {
        let listener = bind_with_backlog("127.0.0.1:0".parse().unwrap(), CROWD_BACKLOG).unwrap();
        let address = listener.local_addr().unwrap();
        let _client = std::net::TcpStream::connect(address).unwrap();
        listener.accept().unwrap();
    }

    /// More clients than std's backlog of 128 connect to a listener that accepts nobody: with a
    /// longer backlog, every connection completes at once. (Linux only: macOS caps every backlog
    /// at 128 unless the system is told otherwise, and Windows names no cap.)
    #[cfg(target_os = "linux")]
    #[test]
    fn a_crowd_fits_in_the_backlog() {
        let cap: i32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(128);
        if cap < 200 {
            eprintln!("net.core.somaxconn is {cap}: this system cannot queue 200 connections");
            return;
        }
        let listener = bind_with_backlog("127.0.0.1:0".parse().unwrap(), CROWD_BACKLOG).unwrap();
        let address = listener.local_addr().unwrap();
        let timeout = std::time::Duration::from_millis(500);
        let crowd: Vec<_> = (0..200)
            .map(|number| {
                std::net::TcpStream::connect_timeout(&address, timeout)
                    .unwrap_or_else(|error| panic!("client {number} could not connect: {error}"))
            })
            .collect();
        assert_eq!(crowd.len(), 200);
    }

    #[test]
    fn a_taken_port_is_explained() {
        let first = bind_with_backlog("127.0.0.1:0".parse().unwrap(), 8).unwrap();
        let taken = first.local_addr().unwrap();
        let error = bind_with_backlog(taken, 8).unwrap_err();
        assert!(format!("{error:#}").contains("address in use"), "{error:#}");
    }
}
