//! Known wrong: a task per client, which echoes one read and returns.

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
            tokio::spawn(async move {
                let mut buffer = [0; 1024];
                if let Ok(count @ 1..) = stream.read(&mut buffer).await {
                    let _ = stream.write_all(&buffer[..count]).await;
                }
            });
        }
    })
}
