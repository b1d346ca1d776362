//! Dropping and resetting connections on purpose.
//!
//! [`FaultListener`] wraps the TCP listener `axum::serve` accepts from; each
//! connection's stream carries a shared [`ConnHandle`] that reaches the
//! request as `ConnectInfo<ConnHandle>`. A `drop` rule calls
//! [`ConnHandle::abort`]; from then on the stream refuses every read and
//! write, so hyper fails writing the response head — not one byte goes out
//! — and drops the stream. `close` then ends with a FIN; `reset` sets
//! `SO_LINGER` 0 first, so the kernel sends an RST. The client sees a
//! connection closed (or reset) without a response, as when a load balancer
//! or the service dies mid-request.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::rules::DropKind;

const OPEN: u8 = 0;
const CLOSE: u8 = 1;
const RESET: u8 = 2;

/// The TCP listener, with abortable connections.
#[derive(Debug)]
pub struct FaultListener(pub TcpListener);

impl Listener for FaultListener {
    type Io = FaultStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (inner, addr) = Listener::accept(&mut self.0).await;
        let stream = FaultStream {
            inner,
            handle: ConnHandle(Arc::new(AtomicU8::new(OPEN))),
        };
        (stream, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Listener::local_addr(&self.0)
    }
}

/// The handle a request holds on its connection.
#[derive(Debug, Clone)]
pub struct ConnHandle(Arc<AtomicU8>);

impl ConnHandle {
    /// Makes the connection end without a response (see the module doc).
    pub fn abort(&self, kind: DropKind) {
        let state = match kind {
            DropKind::Close => CLOSE,
            DropKind::Reset => RESET,
        };
        self.0.store(state, Ordering::Release);
    }

    fn state(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }
}

impl Connected<IncomingStream<'_, FaultListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> Self {
        stream.io().handle.clone()
    }
}

/// A TCP stream that fails all I/O once its connection was aborted.
#[derive(Debug)]
pub struct FaultStream {
    inner: TcpStream,
    handle: ConnHandle,
}

impl FaultStream {
    /// `Some(error)` once aborted (and `SO_LINGER` 0 set for a reset).
    fn aborted(&self) -> Option<io::Error> {
        match self.handle.state() {
            OPEN => None,
            state => {
                if state == RESET {
                    let _ = self.inner.set_zero_linger();
                }
                Some(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "connection dropped by a fault rule",
                ))
            }
        }
    }
}

impl Drop for FaultStream {
    fn drop(&mut self) {
        if self.handle.state() == RESET {
            // Zero linger: close() sends RST and returns at once.
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for FaultStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.aborted() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.aborted() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.aborted() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.aborted() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.aborted() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
