//! Known wrong: a thread per client, but the accept loop first asks each connection for its
//! client's address with `?`. A client that resets its connection before the server gets to it
//! has no address any more (`peer_addr` fails), and the `?` ends the whole server.

use std::net::TcpListener;
use std::thread;

use crate::check_proofs::echo_bytes::echo;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let stream = stream?;
        // The mistake: this error is one client's, and `?` makes it the server's.
        let peer = stream.peer_addr()?;
        thread::spawn(move || {
            if let Err(error) = echo(stream) {
                eprintln!("{peer}: {error:#}");
            }
        });
    }
    Ok(())
}
