//! Subcommands other than `serve` that need more than the command line's
//! types (those live in `config`): `policy check` / `policy lint`,
//! `scan-logs` (the leak scan, against a running emulator), and `token
//! session` / `token resource-principal`.

pub mod policy;
pub mod scan_logs;
pub mod token;
