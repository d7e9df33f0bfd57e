//! Lesson 05: the UDP echo server.
//!
//! It receives datagrams and sends each one back, whole, to whoever sent it. There are no
//! connections: one socket serves everybody, and every datagram carries its sender's address.
//! Run it, then in another terminal run `05_udp_echo_client`.

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::thread;
use std::time::Duration;

use course::cli::{Program, Role};

// ANCHOR: buffer_size
/// Room for the largest datagram there is. A UDP datagram carries at most 65,507 bytes of data
/// over IPv4 (65,535 minus the IP and UDP headers), 65,527 over IPv6. A receive into a smaller
/// buffer would cut a bigger datagram short, and the cut-off part is gone for good.
const BUFFER_BYTES: usize = 65_536;
// ANCHOR_END: buffer_size

/// How long to pause after a failed receive before trying again, so that an error that repeats
/// does not spin the loop and flood the log.
const PAUSE_AFTER_ERROR: Duration = Duration::from_millis(100);

fn main() -> course::cli::MainResult {
    let address = PROGRAM.args()?.address;

    // ANCHOR: bind
    // A UDP socket is bound like a TCP listener, but nothing listens and nobody connects: the
    // socket just receives whatever datagrams arrive at this address, from anyone.
    let socket =
        UdpSocket::bind(address).map_err(|error| course::explain::bind_error(address, error))?;
    println!("listening on {}", socket.local_addr()?);
    // ANCHOR_END: bind

    // ANCHOR: echo_loop
    let mut buffer = vec![0; BUFFER_BYTES];
    loop {
        // One receive is one whole datagram, never part of one and never two run together.
        // With it comes the sender's address: the only way to know where to answer.
        let (size, sender) = match socket.recv_from(&mut buffer) {
            Ok(received) => received,
            // On Windows an earlier echo to a client that has gone can surface here, as a
            // "connection reset" on this unrelated receive. It is not this datagram's fault, nor
            // a reason to pause: every client that left would hold up everyone else.
            Err(error) if error.kind() == ErrorKind::ConnectionReset => {
                eprintln!("an earlier echo found nobody: {error}");
                continue;
            }
            Err(error) => {
                // Anything else may well happen again at once: pause, rather than spin.
                eprintln!("could not receive a datagram: {error}");
                thread::sleep(PAUSE_AFTER_ERROR);
                continue;
            }
        };
        println!("echoing {size} bytes to {sender}");
        // `send_to` sends one datagram, or fails: there is no half-sent datagram to finish.
        // Whether it arrives, nobody will ever tell us.
        if let Err(error) = socket.send_to(&buffer[..size], sender) {
            eprintln!("could not echo {size} bytes to {sender}: {error}");
        }
    }
    // ANCHOR_END: echo_loop
}

const PROGRAM: Program = Program {
    name: "05_udp_echo",
    role: Role::Server,
    about: "Lesson 05: echoes every UDP datagram back, whole, to whoever sent it.",
    default_address: "127.0.0.1:65436",
    extra_usage: "",
    max_extra_args: 0,
    try_it: "Talk to it from another terminal with:\n  cargo run --bin 05_udp_echo_client\n  \
             cargo run --bin 05_udp_echo_client -- 127.0.0.1:65436 \"Hello, UDP!\"\n  \
             nc -u 127.0.0.1 65436",
};
