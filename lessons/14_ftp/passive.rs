//! Passive data connections: the port the server opens for one transfer, how it is announced
//! (PASV, EPSV), and who may connect to it.

use std::io::{self, ErrorKind};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

// ANCHOR: data_listener
/// A port opened for the next transfer of one client, waiting for that client to connect.
pub struct DataListener {
    /// Listens on the control connection's own local address, port chosen by the system.
    listener: TcpListener,
}

/// Why no data connection came.
#[derive(Debug)]
pub enum NoDataConnection {
    /// Nobody from the client's address connected in time.
    TimedOut(Duration),
    /// The listening socket failed.
    Failed(io::Error),
}

impl DataListener {
    /// Opens a port on `control_local`'s address: the address the client already reached us
    /// at, so the one it can reach again. (Port 0 lets the system pick a free port.)
    pub fn open(control_local: SocketAddr) -> io::Result<DataListener> {
        let listener = TcpListener::bind(SocketAddr::new(control_local.ip(), 0))?;
        // Not blocking, so that `accept_from` can stop waiting at a deadline: std has no
        // accept with a timeout.
        listener.set_nonblocking(true)?;
        Ok(DataListener { listener })
    }

    /// The address to announce.
    pub fn address(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Waits, at most `patience`, for a connection from `client` (the control connection's
    /// peer address) and returns it. Anyone else who connects first is closed and logged: the
    /// port is announced in a reply that an eavesdropper can read, and the first to connect
    /// would otherwise receive the file, or send one in its place.
    pub fn accept_from(
        self,
        client: IpAddr,
        patience: Duration,
    ) -> Result<TcpStream, NoDataConnection> {
        let deadline = Instant::now() + patience;
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) if peer.ip() == client => {
                    stream
                        .set_nonblocking(false)
                        .map_err(NoDataConnection::Failed)?;
                    return Ok(stream);
                }
                Ok((stranger, peer)) => {
                    println!("refused a data connection from {peer}: the client is at {client}");
                    drop(stranger);
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => {
                    // Nothing yet. A short nap, not a busy loop: 10 ms is nothing next to a
                    // network round trip, and costs no processor time.
                    thread::sleep(Duration::from_millis(10));
                }
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                // A client that gave up in the queue: keep waiting for the real one.
                Err(error) if error.kind() == ErrorKind::ConnectionAborted => {}
                Err(error) => return Err(NoDataConnection::Failed(error)),
            }
            // Looked at after strangers too, not only after silence: a stream of them must not
            // keep the port open past its time.
            if Instant::now() >= deadline {
                return Err(NoDataConnection::TimedOut(patience));
            }
        }
    }
}
// ANCHOR_END: data_listener

// ANCHOR: announce
/// PASV's reply: `227 Entering Passive Mode (127,0,0,1,195,80).` The address is four numbers
/// and the port two (195 * 256 + 80 = 50000), all in decimal, which is why PASV cannot
/// announce an IPv6 address. `None` for IPv6: the client must use EPSV.
pub fn pasv_text(address: SocketAddr) -> Option<String> {
    let SocketAddr::V4(address) = address else {
        return None;
    };
    let [a, b, c, d] = address.ip().octets();
    let port = address.port();
    Some(format!(
        "Entering Passive Mode ({a},{b},{c},{d},{},{}).",
        port >> 8,
        port & 0xff
    ))
}

/// EPSV's reply (RFC 2428): `229 Entering Extended Passive Mode (|||50000|)`. Only the port:
/// the client connects to the address it already reached the control connection at, whatever
/// its family, and however a NAT between them rewrote it.
pub fn epsv_text(address: SocketAddr) -> String {
    format!("Entering Extended Passive Mode (|||{}|)", address.port())
}
// ANCHOR_END: announce
