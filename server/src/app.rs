//! Assembling the emulator: state, router, listener, graceful shutdown.

use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::config::ServeConfig;
use crate::state::AppState;

/// A bound, ready-to-run emulator.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Builds the state and binds the listener (port 0 picks a free port).
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let listen = config.listen;
        let state = AppState::new(config)?;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        Ok(Self { listener, state })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The bound address as `ip:port`.
    pub fn local_addr_display(&self) -> String {
        self.listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    /// The shared state (tests use it to move the clock).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets
    /// in-flight requests finish (bounded by 10 s) and stores the audit
    /// events still queued.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let limits = crate::http::serve::Limits {
            header_read_timeout: Duration::from_secs(self.state.config.header_read_timeout_secs),
            max_connections: self.state.config.connection_limit(),
            drain: Duration::from_secs(10),
        };
        tracing::info!(
            max_connections = limits.max_connections,
            header_read_timeout_secs = limits.header_read_timeout.as_secs(),
            "connection limits"
        );
        let state = self.state.clone();
        let router = crate::http::router(self.state);
        crate::http::serve::serve(self.listener, router, limits, shutdown).await;
        // The audit events of the last requests are stored before exit.
        state.audit.flush().await;
        Ok(())
    }
}

/// Resolves on the first SIGTERM or SIGINT; a second one exits at once.
pub async fn shutdown_signal() {
    wait_for_signal().await;
    tracing::info!("shutting down: finishing in-flight requests (a second signal exits at once)");
    tokio::spawn(async {
        wait_for_signal().await;
        std::process::exit(130);
    });
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
