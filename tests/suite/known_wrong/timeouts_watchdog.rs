//! Known wrong: a watchdog thread per client wakes once a limit and closes the client if nothing
//! arrived since its last look. A client silent from the start is closed on time, but one that
//! goes quiet just after a look is silent for nearly two limits before the next look sees it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

pub fn serve(listener: TcpListener, idle: Duration) -> anyhow::Result<()> {
    for stream in listener.incoming().flatten() {
        thread::spawn(move || echo(stream, idle));
    }
    Ok(())
}

fn echo(mut stream: TcpStream, idle: Duration) -> std::io::Result<()> {
    let heard = Arc::new(AtomicBool::new(false));
    let mut watchdog = stream.try_clone()?;
    let heard_by_watchdog = Arc::clone(&heard);
    thread::spawn(move || {
        loop {
            // The mistake: silence is looked at once a limit, not measured from the last byte.
            thread::sleep(idle);
            if !heard_by_watchdog.swap(false, Ordering::SeqCst) {
                let goodbye = format!(
                    "you sent nothing for {} s, so the server is closing this connection\n",
                    idle.as_secs_f64()
                );
                let _ = watchdog.write_all(goodbye.as_bytes());
                let _ = watchdog.shutdown(Shutdown::Both);
                return;
            }
        }
    });
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer)?;
        if count == 0 {
            return Ok(());
        }
        heard.store(true, Ordering::SeqCst);
        stream.write_all(&buffer[..count])?;
    }
}
