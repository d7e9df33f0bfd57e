//! Finds the largest datagram that can be sent over loopback, over IPv4 (127.0.0.1) and over
//! IPv6 (::1), by sending datagrams of every size around the limits the headers allow and noting
//! which ones arrive whole.
//!
//!     cargo run --example udp_largest
//!
//! Any system. Over IPv4 the limit comes from the IPv4 header's 16-bit total length (65,535 bytes
//! for the whole packet, less 20 for the IPv4 header and 8 for the UDP header); over IPv6 the
//! 16-bit payload length does not count the 40-byte IPv6 header, so 8 fewer bytes are lost.
//! macOS refuses anything over its `net.inet.udp.maxdgram` (9,216 by default) long before either.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use anyhow::Context;

fn main() -> course::cli::MainResult {
    course::cli::no_arguments("udp_largest")?;
    for (name, address) in [("IPv4, 127.0.0.1", "127.0.0.1:0"), ("IPv6, ::1", "[::1]:0")] {
        let address: SocketAddr = address.parse()?;
        match largest(address) {
            Ok(Some(size)) => println!("{name}: largest datagram sent and received: {size} bytes"),
            Ok(None) => println!("{name}: no datagram of the sizes tried could be sent"),
            Err(error) => println!("{name}: not measured: {error:#}"),
        }
    }
    Ok(())
}

/// The largest size, among those around the two limits, that goes out and arrives whole.
fn largest(address: SocketAddr) -> anyhow::Result<Option<usize>> {
    let receiver = UdpSocket::bind(address).context("binding the receiver")?;
    receiver.set_read_timeout(Some(Duration::from_secs(1)))?;
    let sender = UdpSocket::bind(address).context("binding the sender")?;
    let to = receiver.local_addr()?;
    let mut buffer = vec![0; 70_000];
    let mut largest = None;
    for size in (65_500..=65_535).chain([65_536, 70_000]) {
        let datagram = vec![b'x'; size.min(buffer.len())];
        if sender.send_to(&datagram, to).is_err() {
            continue; // too big to send: the system says so at once, with an error
        }
        let received = receiver
            .recv(&mut buffer)
            .context("receiving the datagram just sent")?;
        if received == datagram.len() {
            largest = Some(size);
        }
    }
    Ok(largest)
}
