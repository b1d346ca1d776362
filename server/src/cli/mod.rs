//! Subcommands other than `serve` that need more than the command line's
//! types (those live in `config`): `policy check` / `policy lint`.

pub mod policy;
