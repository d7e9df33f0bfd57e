//! Known wrong: each client awaited in the accept loop, with `?`, so one client's error ends
//! the whole server.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub fn serve(listener: std::net::TcpListener) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let (mut stream, _) = listener.accept().await?;
            let mut buffer = [0; 1024];
            loop {
                let count = stream.read(&mut buffer).await?;
                if count == 0 {
                    break;
                }
                stream.write_all(&buffer[..count]).await?;
            }
        }
    })
}
