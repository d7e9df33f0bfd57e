//! Known wrong: writes the client's address itself, `ip:port`. Over IPv4 that is what a
//! `SocketAddr` writes too; over IPv6 the brackets are missing (`::1:50000`, where `[::1]:50000`
//! is right).

use std::io::Write;
use std::net::TcpListener;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let peer = stream.peer_addr()?;
        let _ = stream.write_all(format!("Hello, {}:{}!\n", peer.ip(), peer.port()).as_bytes());
    }
    Ok(())
}
