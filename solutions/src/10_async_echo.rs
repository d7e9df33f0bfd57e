//! Exercise 10, solved: every client is served by a tokio task of its own.

use course::accept::AcceptFailures;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Serves every client that connects to `listener`, until the program is stopped.
pub fn serve(listener: std::net::TcpListener) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(accept_clients(listener))
}

// ANCHOR: accept_clients
async fn accept_clients(listener: std::net::TcpListener) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    // Out of file descriptors, every accept fails at once until a client leaves: pause after
    // each failure (tokio's pause, which holds no thread), and log a spell of trouble, not
    // every try.
    let mut failures = AcceptFailures::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tokio::time::sleep(failures.log_failure(error)).await;
                continue;
            }
        };
        failures.over();
        // The task owns the stream and logs its own errors: nothing of one client can reach
        // the accept loop, and the loop waits for no one.
        tokio::spawn(async move {
            if let Err(error) = echo(stream).await {
                eprintln!("{peer}: echo failed: {error:#}");
            }
        });
    }
}
// ANCHOR_END: accept_clients

/// Sends every byte back to the client until it closes its side of the connection.
async fn echo(mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buffer = [0; 1024];
    loop {
        let count = stream.read(&mut buffer).await?;
        if count == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..count]).await?;
    }
}
