//! Subcommands other than `serve` that need more than the command line's
//! types (those live in `config`): `policy check` / `policy lint`, `token
//! session` / `token resource-principal`.

pub mod policy;
pub mod token;
