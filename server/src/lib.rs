//! oci-vault-emulator: a local, offline emulator of OCI Vault.
//!
//! Map of the crate, in the order a request meets it (see ARCHITECTURE.md):
//! - [`config`]: the command line and `OCI_EMULATOR_*` environment.
//! - [`app`]: shared state, listener, graceful shutdown.
//! - [`http`]: the request pipeline (request id → route → body →
//!   signature → handler → log line) and `/_emulator/` endpoints.
//! - [`operation`]: the single table of OCI operations; routing keys on it.
//! - [`services`]: one module per OCI API, wire types named after the SDK
//!   models, thin handlers.
//! - [`domain`]: vaults, keys, secrets and their rules; no HTTP.
//! - [`crypto`]: AES-GCM, sealing at rest, the ciphertext format.
//! - [`store`]: SQLite; SQL lives only there.
//! - [`iam`]: the tenancy (users, API keys, groups, policies).
//! - [`error`]: OCI error codes and statuses, in one table.
//! - [`clock`]: the one clock resources read.
//! - [`faults`]: fault rules and rate limits, `/_emulator/faults`.

pub mod app;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod faults;
pub mod http;
pub mod iam;
pub mod operation;
pub mod services;
pub mod store;

pub use app::Application;
pub use config::ServeConfig;
