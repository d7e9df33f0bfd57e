//! Known wrong: a task per client, but each task reads and writes with the standard library's
//! blocking calls. On the single-threaded runtime, a task that waits in a blocking `read`
//! holds the only thread, and every other client waits.

use std::io::{Read, Write};

pub fn serve(listener: std::net::TcpListener) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                let Ok(mut stream) = stream.into_std() else {
                    return;
                };
                let _ = stream.set_nonblocking(false);
                let mut buffer = [0; 1024];
                while let Ok(count @ 1..) = stream.read(&mut buffer) {
                    if stream.write_all(&buffer[..count]).is_err() {
                        break;
                    }
                }
            });
        }
    })
}
