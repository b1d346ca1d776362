//! Assembling the emulator: state, router, listener, graceful shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{write_private_file, ServeConfig};
use crate::crypto::{Keyring, RootKey};
use crate::iam::tenancy::Tenancy;
use crate::store::Store;

/// Everything a request may need, behind one cheap-to-clone handle.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared state's fields.
pub struct Inner {
    /// The configuration `serve` started with.
    pub config: ServeConfig,
    /// Users, groups, API keys, policies: parsed once at start, read-only.
    pub tenancy: Tenancy,
    /// The policies in force (runtime-replaceable; `reset_policies()`
    /// restores the tenancy file's) and the decision log.
    pub iam: crate::iam::authz::Iam,
    /// Resources.
    pub store: Store,
    /// Root key and unsealed-material cache, so unsealing happens once.
    pub keyring: Keyring,
    /// The clock every resource time reads.
    pub clock: Clock,
    /// When the process started, for the health endpoint.
    pub started: Instant,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state from a configuration: loads the tenancy, opens the
    /// store, loads or creates the root key.
    pub fn new(config: ServeConfig) -> anyhow::Result<Self> {
        let tenancy = match &config.tenancy {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                Tenancy::load(&text, &path.display().to_string())?
            }
            None => Tenancy::embedded(),
        };
        let (store, root) = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let store = Store::open_file(dir)?;
                let root = root_key_in(dir, config.root_key.as_deref(), &store)?;
                (store, root)
            }
            None => {
                let root = match config.root_key.as_deref() {
                    Some(text) => RootKey::from_base64(text)?,
                    None => RootKey::generate(),
                };
                (Store::in_memory()?, root)
            }
        };
        let iam = crate::iam::authz::Iam::new(&tenancy.file)?;
        Ok(Self(Arc::new(Inner {
            config,
            tenancy,
            iam,
            store,
            keyring: Keyring::new(root),
            clock: Clock::default(),
            started: Instant::now(),
        })))
    }
}

/// The root key for a data dir: `--root-key` if given, else `root.key` if
/// it exists, else a new one. The store keeps a value sealed under the key it
/// was first used with; a different key is refused here, before anything is
/// read or `root.key` is touched. The key is then written to `root.key`
/// (mode 0600 from the first byte) so a restart without the flag opens the
/// same state.
fn root_key_in(
    dir: &std::path::Path,
    given: Option<&str>,
    store: &Store,
) -> anyhow::Result<RootKey> {
    let path = dir.join("root.key");
    let key = match given {
        Some(text) => RootKey::from_base64(text)?,
        None if path.exists() => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            RootKey::from_base64(&text)
                .with_context(|| format!("{} is not a root key", path.display()))?
        }
        None => RootKey::generate(),
    };
    let check = store.blocking_write(|tx| {
        let stored = crate::store::meta(tx, ROOT_CHECK)?;
        if stored.is_none() {
            crate::store::set_meta(tx, ROOT_CHECK, &key.check_value()?)?;
        }
        Ok(stored)
    })?;
    if let Some(stored) = check {
        anyhow::ensure!(
            key.opens_check_value(&stored),
            "the state in {} was sealed under another root key; start with the same --root-key \
             (or without it, to use {})",
            dir.display(),
            path.display()
        );
    }
    write_private_file(&path, key.to_base64().as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

/// The `meta` key of the root key check value.
const ROOT_CHECK: &str = "root_key_check";

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

    /// Serves until `shutdown` resolves, then stops accepting and lets
    /// in-flight requests finish (bounded by 10 s).
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.state.clone());
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let serve = axum::serve(self.listener, router).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopped_tx.send(());
        });
        let drained = async {
            let _ = stopped_rx.await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        };
        tokio::select! {
            result = serve => result.context("serving")?,
            _ = drained => tracing::warn!("in-flight requests did not finish within 10 s; stopping anyway"),
        }
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
