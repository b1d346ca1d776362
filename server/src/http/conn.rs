//! Dropping and resetting connections on purpose.
//!
//! Each accepted connection's stream is a [`FaultStream`] sharing a
//! [`ConnHandle`] with every request on it (the accept loop in `serve` puts
//! the handle in the request's extensions). When the pipeline says a fault
//! rule drops the connection, the HTTP layer calls
//! [`ConnHandle::abort`]; from then on the stream refuses every read and
//! write, so hyper fails writing the response head — not one byte goes out
//! — and drops the stream. `close` then ends with a FIN; `reset` sets
//! `SO_LINGER` 0 first, so the kernel sends an RST. The client sees a
//! connection closed (or reset) without a response, as when a load balancer
//! or the service dies mid-request.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::faults::DropKind;

const OPEN: u8 = 0;
const CLOSE: u8 = 1;
const RESET: u8 = 2;

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

/// A TCP stream that fails all I/O once its connection was aborted.
#[derive(Debug)]
pub struct FaultStream {
    inner: TcpStream,
    handle: ConnHandle,
}

impl FaultStream {
    /// Wraps an accepted connection; the handle is for its requests.
    pub fn new(inner: TcpStream) -> (Self, ConnHandle) {
        let handle = ConnHandle(Arc::new(AtomicU8::new(OPEN)));
        (
            Self {
                inner,
                handle: handle.clone(),
            },
            handle,
        )
    }

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
