//! Closing a connection so that the last words sent on it arrive.
//!
//! Closing a socket while bytes the client sent are still unread in it makes the system send a
//! *reset* instead of an ordinary end of stream (RFC 1122 §4.2.2.13 says a TCP should; Linux and
//! macOS do). What we had not yet sent is lost, what had arrived may be too (RFC 9112 §9.6: the
//! reset "might erase the client's unacknowledged input buffers"; Linux keeps them), and the
//! client reads an error where the ordinary end should be: a server that turns a client away after the client has spoken (`echo hi | nc -N`)
//! must not close that way.
//!
//! [`gently`] says we are done sending (`shutdown(Write)`), then reads and throws away whatever
//! the client still sends, until the client closes too or [`LINGER`] passes, and only then
//! closes. It does that on a thread of its own, so the caller (an accept loop) never waits; and
//! at most [`MAX_LINGERING`] connections linger at once, so a flood of turn-aways cannot make a
//! thread each. Past that, a connection is closed at once, the old way.

use std::io::{self, ErrorKind, Read};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

#[cfg(unix)]
use std::os::fd::AsFd as AsSocket;
#[cfg(windows)]
use std::os::windows::io::AsSocket;

/// How long a closing connection may keep sending before we stop listening to it.
pub const LINGER: Duration = Duration::from_secs(1);
/// How many connections may linger at once, each on a short-lived thread.
pub const MAX_LINGERING: usize = 16;

/// How many connections linger now.
static LINGERING: AtomicUsize = AtomicUsize::new(0);

/// Makes the close of `socket` (when its last handle is dropped) abrupt: the system throws away
/// what it has not sent yet and sends a reset, instead of going on delivering it to a peer that
/// reads slowly, or never, and keeping its buffers (megabytes) meanwhile. The peer reads an error
/// where the end would be, so it knows it did not get everything. This is `SO_LINGER` set to 0,
/// which socket2 offers and std does not; Linux, macOS and Windows all reset on it.
pub fn discard_unsent_on_close(socket: &impl AsSocket) -> io::Result<()> {
    socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO))
}

/// Closes `stream` after the last bytes written to it, without a reset; returns at once.
pub fn gently(stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    if LINGERING.fetch_add(1, Ordering::SeqCst) >= MAX_LINGERING {
        LINGERING.fetch_sub(1, Ordering::SeqCst);
        return; // dropping `stream` closes it at once
    }
    let lingering = thread::Builder::new()
        .name("closing gently".into())
        .spawn(move || {
            drain(stream);
            LINGERING.fetch_sub(1, Ordering::SeqCst);
        });
    if lingering.is_err() {
        // No thread to spare: the closure, and the stream with it, is dropped: closed at once.
        LINGERING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Reads and drops what the client sends until it closes its side, or [`LINGER`] passes.
fn drain(mut stream: TcpStream) {
    let until = Instant::now() + LINGER;
    let mut sink = [0; 4096];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) => return,
            Err(error) if error.kind() != ErrorKind::Interrupted => return,
            _ => {}
        }
    }
}
