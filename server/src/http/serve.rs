//! The accept loop: hyper's HTTP/1 server over abortable connections
//! ([`super::conn`]), with the bounds that keep a flood of clients from
//! exhausting the process's file descriptors, and graceful shutdown.
//!
//! - **Slow and idle connections.** hyper's header-read timeout
//!   (`--header-read-timeout-secs`) closes a connection that does not send a
//!   complete request head in time. In hyper 1.x the timer starts whenever
//!   the connection starts reading a head (`proto/h1/conn.rs`
//!   `poll_read_head`), and a keep-alive connection going idle after a
//!   response re-enters that read at once (`State::idle` sets
//!   `notify_read` when the timeout is set), so the same bound is the idle
//!   keep-alive timeout: a connection that says nothing for that long, first
//!   request or next one, is closed. A body that stalls is bounded by the
//!   pipeline's own body timeout.
//! - **Connection limit** (`--max-connections`). Each served connection
//!   holds a permit; past the limit a new connection is answered at once with
//!   OCI's 503 `ServiceUnavailable` error body and `Connection: close`
//!   (503 is retried by the OCI SDKs' default retry strategy, like every
//!   5xx but 501) instead of waiting in the accept backlog; at most
//!   [`REFUSALS_IN_FLIGHT`] such answers are being written at once, beyond
//!   which a connection is closed unanswered.
//! - **Accept errors** (`EMFILE` and the like) pause the loop briefly rather
//!   than spin on the error.
//!
//! `axum::serve` does the same without these settings; this is its loop
//! with hyper's own `header_read_timeout`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use super::conn::FaultStream;

/// The bounds the accept loop applies to client connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// hyper's header-read timeout, which is also the idle keep-alive
    /// timeout (see the module doc).
    pub header_read_timeout: Duration,
    /// Connections served at once (at least 1).
    pub max_connections: usize,
    /// After shutdown, how long the requests in flight may take.
    pub drain: Duration,
}

/// Refused connections being answered at once (each holds a descriptor for
/// at most [`REFUSAL_DEADLINE`]).
pub const REFUSALS_IN_FLIGHT: usize = 64;

/// The longest a refused connection is kept: to write the 503 and read what
/// the client sent until it closes (so the close is a FIN the client reads
/// the answer before, not a reset that can discard it).
const REFUSAL_DEADLINE: Duration = Duration::from_secs(2);

/// How often, at most, a refusal is logged (with the count since the last).
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting and waits up to `limits.drain` for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusals = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    let mut refused_since_log: u64 = 0;
    let mut last_refusal_log: Option<Instant> = None;
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
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            refused_since_log += 1;
            if last_refusal_log.is_none_or(|t| t.elapsed() >= REFUSAL_LOG_INTERVAL) {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    refused = refused_since_log,
                    "connection limit reached: refusing new connections with 503 ServiceUnavailable"
                );
                refused_since_log = 0;
                last_refusal_log = Some(Instant::now());
            }
            if let Ok(slot) = refusals.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(tcp, limits.max_connections).await;
                    drop(slot);
                });
            }
            continue;
        };
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
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            // The connection's place is free once it is closed.
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "in-flight requests did not finish within {} s; stopping anyway",
            limits.drain.as_secs()
        );
    }
}

/// The answer a connection past the limit gets, whatever it asks: OCI's
/// error body with 503 `ServiceUnavailable`, and the connection closed.
fn refusal(max_connections: usize) -> Vec<u8> {
    let body = serde_json::json!({
        "code": "ServiceUnavailable",
        "message": format!(
            "The emulator is serving its maximum of {max_connections} connections (--max-connections); retry later."
        ),
    })
    .to_string();
    let request_id: String = crate::crypto::random_bytes(16)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nopc-request-id: {request_id}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Writes [`refusal`] without waiting for the request, ends the write side,
/// then reads (and discards) what the client sends until it closes, all
/// within [`REFUSAL_DEADLINE`].
async fn refuse(mut tcp: TcpStream, max_connections: usize) {
    let answer = refusal(max_connections);
    let _ = tokio::time::timeout(REFUSAL_DEADLINE, async move {
        tcp.write_all(&answer).await?;
        tcp.shutdown().await?;
        let mut sink = [0u8; 4096];
        while tcp.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_an_oci_503_that_closes_the_connection() {
        let text = String::from_utf8(refusal(2)).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let mut lines = head.split("\r\n");
        assert_eq!(lines.next(), Some("HTTP/1.1 503 Service Unavailable"));
        let headers: Vec<&str> = lines.collect();
        assert!(headers.contains(&"connection: close"), "{head}");
        assert!(
            headers.contains(&"content-type: application/json"),
            "{head}"
        );
        assert!(
            headers.contains(&format!("content-length: {}", body.len()).as_str()),
            "{head}"
        );
        let id = headers
            .iter()
            .find_map(|h| h.strip_prefix("opc-request-id: "))
            .unwrap();
        assert_eq!(id.len(), 32);
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "code": "ServiceUnavailable",
                "message": "The emulator is serving its maximum of 2 connections (--max-connections); retry later."
            })
        );
    }
}
