//! Known right, though unlike the solution: `io::copy` from the stream to a clone of itself,
//! which does the read-and-write-all loop for us.

use std::io;
use std::net::TcpListener;
use std::thread;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || -> io::Result<()> {
            let mut reader = &stream;
            let mut writer = stream.try_clone()?;
            io::copy(&mut reader, &mut writer)?;
            Ok(())
        });
    }
    Ok(())
}
