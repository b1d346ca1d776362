//! Subcommands other than `serve` that need more than the command line's
//! types (those live in `config`): `policy check` / `policy lint`, and
//! `scan-logs` (the leak scan, against a running emulator).

pub mod policy;
pub mod scan_logs;
