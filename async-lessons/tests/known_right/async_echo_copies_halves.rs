//! Known right, of another design: a task per client that splits the stream into its two halves
//! and lets `tokio::io::copy` move the bytes, on tokio's multi-threaded runtime.

pub fn serve(listener: std::net::TcpListener) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let (mut reading, mut writing) = stream.split();
                if let Err(error) = tokio::io::copy(&mut reading, &mut writing).await {
                    eprintln!("echo failed: {error}");
                }
            });
        }
    })
}
