//! Known wrong: a fixed pool of two threads, the same design as `echo_pool_of_sixteen` (whose
//! `serve_with` it uses). Two clients at once are served; the third waits until one leaves.

use std::net::TcpListener;

use crate::check_proofs::echo_pool_of_sixteen::serve_with;

pub fn serve(listener: TcpListener) -> anyhow::Result<()> {
    serve_with(listener, 2)
}
