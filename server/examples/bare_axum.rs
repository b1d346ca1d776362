//! The ceiling for `bench/run`: a bare axum hello-world, built with the
//! same dependencies and release profile as the emulator, answering
//! `GET /` with `200 Hello, World!` (13 bytes, `text/plain`) and nothing
//! else — no signature, no store, no log line.
//!
//! `bare_axum [--listen ADDR]` (default `127.0.0.1:0`) prints
//! `listening on <addr>` on stdout once bound, then serves until killed.
//! The tokio runtime is the same multi-threaded one the emulator runs on,
//! with as many workers as cores.

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut listen: SocketAddr = "127.0.0.1:0".parse().expect("a valid default address");
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(addr)) => {
                listen = addr.parse().map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("--listen: {e}"))
                })?;
            }
            _ => {
                eprintln!("usage: bare_axum [--listen ADDR]");
                std::process::exit(2);
            }
        }
    }
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
