//! oci-vault-emulator: a local, offline emulator of OCI Vault.
//!
//! Map of the crate, in the order a request meets it (ARCHITECTURE.md has
//! the layering rules, which `tests/layering.rs` keeps):
//! - [`config`]: the command line and `OCI_EMULATOR_*` environment.
//! - [`app`]: the listener, graceful shutdown; [`state`]: the shared state.
//! - [`http`]: router, per-request layers, accept loop, `/_emulator/`.
//! - [`pipeline`]: the request's way through, in one function, and the one
//!   resolver of a request's target.
//! - [`operation`]: the single table of OCI operations and their target rules.
//! - [`auth`]: request signatures → the caller.
//! - [`faults`]: pure fault and rate-limit decisions.
//! - [`iam`]: the tenancy, the policy language, pure authorisation.
//! - [`services`]: one module per OCI API, wire types named after the SDK
//!   models, thin handlers.
//! - [`domain`]: vaults, keys, secrets and their rules; no HTTP.
//! - [`store`]: SQLite. [`crypto`]: AES-GCM, sealing at rest, API keys.
//! - [`error`]: OCI error codes and statuses, in one table.
//! - [`clock`], [`ocid`]: the one clock; OCIDs.
//! - [`telemetry`]: metrics and recent requests, fed from each request's record.
//! - [`audit`]: the audit trail in OCI's shape, usage and cost, alerts, fed
//!   from the same record.
//! - [`cli`]: `policy check` / `policy lint`.

#![deny(unsafe_code)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod faults;
pub mod http;
pub mod iam;
pub mod ocid;
pub mod operation;
pub mod pipeline;
pub mod services;
pub mod state;
pub mod store;
pub mod telemetry;

pub use app::Application;
pub use config::ServeConfig;
