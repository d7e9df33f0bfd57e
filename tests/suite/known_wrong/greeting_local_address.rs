//! Known wrong: greets the client with the server's own address.

use std::io::Write;
use std::net::TcpListener;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let address = stream.local_addr()?;
        let _ = stream.write_all(format!("Hello, {address}!\n").as_bytes());
    }
    Ok(())
}
