//! A server nobody can finish connecting to: a listener whose queue of waiting connections is
//! full, for the client checks (exercises 11 and 13) that must see a `connect` give up after its
//! time limit.
//!
//! Linux and macOS drop a connection request that finds the queue full, without a word, so the
//! client's `connect` waits: a plain `TcpStream::connect` for a minute or two (chapter 07), one
//! made with `connect_timeout` until its limit. Windows refuses such a request instead, and its
//! client tries again for about 2 s before it reports the refusal: there a plain `connect` fails
//! too, only later, and a check can hardly tell the two apart.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// How long a probe waits to learn that the queue is full: a request that is dropped never
/// completes, so the probe's limit runs out. (Over loopback, one that fits completes in well
/// under a millisecond.)
const PROBE_PATIENCE: Duration = Duration::from_millis(200);

/// A listener with a queue of no more than one connection, and that one connection made: every
/// request to [`FullQueue::address`] from now on waits, until the listener is dropped.
pub struct FullQueue {
    pub address: SocketAddr,
    _listener: Socket,
    _waiting: Vec<TcpStream>,
}

impl FullQueue {
    pub fn new() -> io::Result<FullQueue> {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        let any_port: SocketAddr = "127.0.0.1:0".parse().expect("a loopback address");
        listener.bind(&any_port.into())?;
        // A backlog of 0: the system queues one connection (Linux one more than the backlog).
        listener.listen(0)?;
        let address = listener
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("a TCP socket has a socket address"))?;
        // Fill the queue, and make sure it is full: a probe that completes took a place in it
        // (the first connection's last step may not have reached the listener yet); one whose
        // limit runs out was dropped, which is what a full queue does. A few tries at most.
        let mut waiting = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&address, PROBE_PATIENCE) {
                Ok(stream) => waiting.push(stream),
                // Windows refuses, where the others drop (its probe gives up at its limit, or
                // is refused): the queue is as full as it gets there.
                Err(error)
                    if is_timeout(&error) || error.kind() == io::ErrorKind::ConnectionRefused =>
                {
                    return Ok(FullQueue {
                        address,
                        _listener: listener,
                        _waiting: waiting,
                    });
                }
                Err(error) => return Err(error),
            }
        }
        Err(io::Error::other(
            "the listener's queue never filled: this system does not drop connection requests \
             that find it full",
        ))
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}
