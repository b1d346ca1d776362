//! The shared application state: configuration, tenancy, policies, store,
//! keyring, clock, seeds and fault rules, behind one cheap-to-clone handle,
//! and what resets it. Imports no HTTP, router or pipeline.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;

use crate::clock::Clock;
use crate::config::ServeConfig;
use crate::crypto::{Keyring, RootKey};
use crate::iam::tenancy::Tenancy;
use crate::store::{write_private_file, Store};

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
    pub iam: crate::iam::policies::Iam,
    /// Resources.
    pub store: Store,
    /// Root key and unsealed-material cache, so unsealing happens once.
    pub keyring: Keyring,
    /// The clock every resource time reads.
    pub clock: Clock,
    /// When the process started, for the health endpoint.
    pub started: Instant,
    /// The `--seed` documents, applied at start and by every reset.
    pub seeds: Vec<SeedSource>,
    /// Fault rules and rate limits (`--faults`, `/_emulator/faults`);
    /// `faults.reset_to_start()` restores the start-up document.
    pub faults: crate::faults::Faults,
    /// Metrics and recent requests, fed once per OCI call from the
    /// pipeline's record (never reset).
    pub telemetry: crate::telemetry::Telemetry,
    /// The audit trail's writer (`--audit-log`, `--audit-max-events`):
    /// requests queue their event on it; readers flush it first.
    pub audit: crate::audit::sink::AuditLog,
    /// Per principal × operation × secret counters (reset by `reset()`).
    pub usage: crate::audit::usage::Usage,
    /// The prices `GET /_emulator/usage` bills at (`--prices`).
    pub prices: crate::audit::usage::Prices,
    /// The alert detectors (`--alerts-config`) and their alerts.
    pub alerts: crate::audit::alerts::Alerts,
    /// The auth service: token key, instance-principal PKI (read from or
    /// made and kept in `--data-dir`, mode 0600, before serving; without
    /// one, made on a thread while the emulator already serves).
    pub authority: crate::auth::AuthorityCell,
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
        let faults = crate::faults::Faults::load(config.faults.as_deref())?;
        // The audit trail's database: with a file the resources' (WAL
        // readers never wait for a writer); in memory one of its own, since
        // memdb locks a whole database for a write transaction and the
        // audit writer's batches would hold every resource read off.
        let (store, trail, root) = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let store = Store::open_file(dir)?;
                let root = root_key_in(dir, config.root_key.as_deref(), &store)?;
                (store.clone(), store, root)
            }
            None => {
                let root = match config.root_key.as_deref() {
                    Some(text) => RootKey::from_base64(text)?,
                    None => RootKey::generate(),
                };
                let trail = Store::in_memory()?;
                trail.cap_page_cache(TRAIL_PAGE_CACHE_KIB)?;
                (Store::in_memory()?, trail, root)
            }
        };
        let iam = crate::iam::policies::Iam::new(&tenancy.file)?;
        let audit = crate::audit::sink::AuditLog::start(
            trail,
            config.audit_max_events,
            config.audit_log.as_deref(),
        )?;
        let prices = crate::audit::usage::Prices::parse(&match &config.prices {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
            None => crate::audit::usage::DEFAULT_PRICES.to_owned(),
        })
        .map_err(|e| anyhow::anyhow!("the price file: {e}"))?;
        let alert_config = match &config.alerts_config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                crate::audit::alerts::AlertConfig::parse(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => crate::audit::alerts::AlertConfig::default(),
        };
        let authority = match config.data_dir.as_deref() {
            Some(dir) => crate::auth::AuthorityCell::ready(authority_in(
                Some(dir),
                config.token_ttl_seconds,
            )?),
            None => {
                let ttl = config.token_ttl_seconds;
                crate::auth::AuthorityCell::in_background(move || authority_in(None, ttl))?
            }
        };
        let seeds = match &config.seed {
            Some(path) => load_seeds(path)?,
            None => Vec::new(),
        };
        let state = Self(Arc::new(Inner {
            config,
            tenancy,
            iam,
            store,
            keyring: Keyring::new(root),
            clock: Clock::default(),
            started: Instant::now(),
            seeds,
            faults,
            telemetry: crate::telemetry::Telemetry::new(),
            audit,
            usage: crate::audit::usage::Usage::default(),
            prices,
            alerts: crate::audit::alerts::Alerts::new(alert_config),
            authority,
        }));
        let empty = state.store.blocking_write(|tx| {
            Ok::<_, crate::domain::Error>(crate::domain::state::counts(tx)?.0 == 0)
        })?;
        if empty {
            state.store.blocking_write(|tx| state.apply_seeds(tx))?;
        } else if !state.seeds.is_empty() {
            tracing::info!("the data dir already holds state; the seed is applied by POST /_emulator/reset only");
        }
        // A secret rotation under way when the emulator last stopped has no
        // task left to drive it: it ends as failed.
        let now = state.clock.now();
        let interrupted = state
            .store
            .blocking_write(|tx| crate::domain::secret_rotation::end_interrupted(tx, now))?;
        if interrupted > 0 {
            tracing::info!(secrets = interrupted, "interrupted secret rotations ended");
        }
        Ok(state)
    }

    /// The base URL for `{{publicUrl}}` in seeds: `--public-url`, else the
    /// listen address.
    pub fn public_url(&self) -> String {
        match &self.config.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.config.listen),
        }
    }

    /// Applies the start seeds (rendered now, so `{{now}}` is the time of
    /// this start or reset) inside `tx`.
    pub fn apply_seeds(&self, tx: &rusqlite::Transaction<'_>) -> crate::domain::Result<()> {
        for source in &self.seeds {
            self.apply_seed_text(tx, &source.text, &source.origin)?;
        }
        Ok(())
    }

    /// Renders, parses and applies one seed document inside `tx`; errors
    /// name `origin`, the entry and the field.
    pub fn apply_seed_text(
        &self,
        tx: &rusqlite::Transaction<'_>,
        text: &str,
        origin: &str,
    ) -> crate::domain::Result<()> {
        use crate::domain::{seed, Error};
        let now = self.clock.now();
        let rendered = seed::render(text, now, &self.public_url())
            .map_err(|e| Error::InvalidParameter(format!("{origin}: {e}")))?;
        let parsed = seed::parse(&rendered)
            .map_err(|e| Error::InvalidParameter(format!("{origin}: {e}")))?;
        seed::apply(tx, &self.keyring, now, &self.config.region, parsed, origin)
    }

    /// Sets the clock's offset from a snapshot or `/_emulator/time`;
    /// out of range (±100 years) is a 400 that changes nothing.
    pub fn set_clock_offset(&self, seconds: i64) -> crate::domain::Result<()> {
        self.clock
            .set_offset(seconds)
            .map_err(|e| crate::domain::Error::InvalidParameter(e.to_string()))
    }

    /// `POST /_emulator/reset`: the state at start. Every resource is wiped,
    /// the virtual clock goes back to the wall clock, the fault rules of the
    /// `--faults` file come back (with fresh counters and seeded sequences),
    /// runtime policy changes are dropped (the tenancy file's policies again),
    /// and the start seeds are applied again, in one transaction. The audit
    /// trail is emptied (the events queued before the reset are stored
    /// first, so none lands after it) and its retention is the default again;
    /// usage counters and alerts are forgotten.
    pub async fn reset(&self) -> crate::domain::Result<()> {
        self.audit.flush().await;
        self.usage.reset();
        self.alerts.reset();
        self.clock.set_offset(0).ok();
        self.faults.reset_to_start();
        self.iam.reset_policies();
        let state = self.clone();
        self.audit.store().write(crate::domain::audit::wipe).await?;
        self.store
            .write(move |tx| {
                crate::domain::state::wipe(tx)?;
                state.apply_seeds(tx)
            })
            .await
    }
}

/// One seed document kept from start, re-applied by every reset.
#[derive(Debug, Clone)]
pub struct SeedSource {
    /// The file it came from, for error messages.
    pub origin: String,
    /// Its text, before rendering.
    pub text: String,
}

/// Reads `--seed`: a file, or every `*.json` in a directory (sorted by name).
/// Each is checked by parsing it once now, so a bad seed stops the start.
fn load_seeds(path: &std::path::Path) -> anyhow::Result<Vec<SeedSource>> {
    let files = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            Ok(SeedSource {
                origin: file.display().to_string(),
                text,
            })
        })
        .collect()
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
        Ok::<_, anyhow::Error>(stored)
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

/// The page cache of each connection to the in-memory audit trail, KiB: its
/// pages are second copies of the `memdb` ones, and SQLite's default
/// (2,000 KiB a connection, three connections) cost about 6 MiB of RSS for
/// a database that is only appended to and read now and then.
const TRAIL_PAGE_CACHE_KIB: u32 = 256;

/// The auth service's keys: fresh without a data dir; with one, read from
/// `DIR/auth-{token,ca,intermediate}.key.pem` when present, else made and
/// written there (mode 0600 from the first byte), so tokens and leaf
/// certificates stay valid across restarts.
fn authority_in(
    dir: Option<&std::path::Path>,
    instance_token_ttl: i64,
) -> anyhow::Result<crate::auth::Authority> {
    use crate::auth::{Authority, StoredKeys};
    let Some(dir) = dir else {
        return Authority::new(StoredKeys::default(), instance_token_ttl);
    };
    let read = |name: &str| -> anyhow::Result<Option<zeroize::Zeroizing<String>>> {
        let path = dir.join(name);
        if !path.exists() {
            return Ok(None);
        }
        std::fs::read_to_string(&path)
            .map(|t| Some(zeroize::Zeroizing::new(t)))
            .with_context(|| format!("reading {}", path.display()))
    };
    let token = read("auth-token.key.pem")?;
    let token_der = match &token {
        Some(pem) => Some(zeroize::Zeroizing::new(
            crate::crypto::decode_pem(pem)
                .map_err(|e| anyhow::anyhow!("auth-token.key.pem: {e}"))?
                .1,
        )),
        None => None,
    };
    let ca = read("auth-ca.key.pem")?;
    let intermediate = read("auth-intermediate.key.pem")?;
    let authority = Authority::new(
        StoredKeys {
            token_key: token_der.as_ref().map(|d| d.as_slice()),
            ca_key: ca.as_ref().map(|k| k.as_str()),
            intermediate_key: intermediate.as_ref().map(|k| k.as_str()),
        },
        instance_token_ttl,
    )?;
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        write_private_file(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
    };
    if token.is_none() {
        write(
            "auth-token.key.pem",
            &crate::crypto::asymmetric::private_pem(authority.tokens.pkcs8()),
        )?;
    }
    if ca.is_none() {
        write("auth-ca.key.pem", authority.pki.ca_key_pem())?;
    }
    if intermediate.is_none() {
        write(
            "auth-intermediate.key.pem",
            &authority.pki.intermediate_key_pem(),
        )?;
    }
    Ok(authority)
}
