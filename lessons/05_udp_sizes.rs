//! Lesson 05: how big can a datagram be?
//!
//! TCP takes any amount of data and cuts it into packets for you. UDP does not: one send is one
//! datagram, and a datagram has a maximum size. This program sends bigger and bigger datagrams to
//! the UDP echo server and shows what happens to each, then receives an echo into a buffer too
//! small for it. Start `05_udp_echo` first.

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::time::Duration;

use anyhow::Context;
use course::cli::{Program, Role};

// ANCHOR: sizes
/// The sizes to try, in bytes. 9,216 is the largest datagram macOS sends unless told otherwise;
/// 65,507 is the most data an IPv4 datagram can carry at all.
const SIZES: [usize; 5] = [1_000, 9_216, 9_217, 65_507, 65_508];
// ANCHOR_END: sizes

/// How long to wait for each echo. A datagram that got sent comes back in well under a second.
const WAIT_FOR_ECHO: Duration = Duration::from_secs(1);

/// A buffer too small for the echo it receives, to show what happens to the rest.
const SMALL_BUFFER: usize = 1_024;

fn main() -> course::cli::MainResult {
    let server = PROGRAM.args()?.address;
    let any_port = if server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(any_port).context("opening a UDP socket")?;
    socket.set_read_timeout(Some(WAIT_FOR_ECHO))?;
    let mut buffer = vec![0; 65_536];

    // ANCHOR: send_sizes
    for size in SIZES {
        let datagram = vec![b'x'; size];
        // A datagram is sent whole or not at all: too big, and the system refuses at once.
        if let Err(error) = socket.send_to(&datagram, server) {
            println!("{size:>6} bytes: cannot send: {error}");
            continue;
        }
        match socket.recv_from(&mut buffer) {
            Ok((echoed, _)) => println!("{size:>6} bytes: sent, and {echoed} came back"),
            Err(error) if is_timeout(&error) => {
                println!("{size:>6} bytes: sent, but no echo: is 05_udp_echo running?")
            }
            Err(error) => println!("{size:>6} bytes: sent, but the echo failed: {error}"),
        }
    }
    // ANCHOR_END: send_sizes

    // ANCHOR: small_buffer
    // Receiving into a buffer smaller than the datagram: the system hands over what fits, and
    // the rest is thrown away. Linux and macOS say nothing about it; Windows reports an error
    // (WSAEMSGSIZE, os error 10040), though the buffer is filled all the same.
    let size = 2 * SMALL_BUFFER;
    socket
        .send_to(&vec![b'x'; size], server)
        .context("sending a datagram")?;
    let mut small = vec![0; SMALL_BUFFER];
    match socket.recv_from(&mut small) {
        Ok((received, _)) => println!(
            "a {size}-byte echo into a {SMALL_BUFFER}-byte buffer: {received} bytes received, \
             the other {} are gone",
            size - received
        ),
        Err(error) if is_timeout(&error) => println!("no echo: is 05_udp_echo running?"),
        Err(error) => {
            println!("a {size}-byte echo into a {SMALL_BUFFER}-byte buffer: error: {error}")
        }
    }
    // ANCHOR_END: small_buffer
    Ok(())
}

/// Unix says WouldBlock, Windows TimedOut, when a read timeout runs out.
fn is_timeout(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

const PROGRAM: Program = Program {
    name: "05_udp_sizes",
    role: Role::Client,
    about: "Lesson 05: sends ever bigger datagrams to the UDP echo server, to find the limit.",
    default_address: "127.0.0.1:65436",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Start the server first, in another terminal:\n  cargo run --bin 05_udp_echo",
};
