//! The accept loop: hyper's HTTP/1 server over abortable connections
//! ([`super::conn`]), with a header-read timeout so a client that sends its
//! headers slowly (or opens a connection and says nothing) is disconnected
//! instead of holding the connection forever, and graceful shutdown.
//!
//! `axum::serve` does the same without the timeout setting; this is its
//! loop with hyper's own `header_read_timeout`.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use super::conn::FaultStream;

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting and waits up to `drain` for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: let it pass
                    // rather than spin on the error.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tcp;
        let _ = tcp.set_nodelay(true);
        let (stream, handle) = FaultStream::new(tcp);
        let service =
            router
                .clone()
                .map_request(move |mut request: axum::http::Request<Incoming>| {
                    request.extensions_mut().insert(handle.clone());
                    // The client's address, for the audit event.
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    request
                });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "in-flight requests did not finish within {} s; stopping anyway",
            drain.as_secs()
        );
    }
}
