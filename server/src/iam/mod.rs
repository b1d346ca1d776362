//! Identity and access: the tenancy (compartments, groups, users and their
//! API keys, dynamic groups, policies), the policy language, its evaluation
//! and the explanations of decisions.
//!
//! - [`tenancy`]: the tenancy file and principals.
//! - [`policy`]: statements parsed and printed.
//! - [`time_conditions`]: the `request.utc-timestamp` variables, their
//!   operators and values, evaluated at the request's time.
//! - [`dynamic_groups`]: matching rules and which instance or resource
//!   principals they take in.
//! - [`eval`]: compiled policies, decisions, explanations, lint.
//! - [`authz`]: the checks an operation needs on its resolved targets, the
//!   pure authorise decision, simulation.
//! - [`policies`]: the policy set in force ([`policies::Iam`]).
//! - [`decisions`]: the log of recorded decisions `GET
//!   /_emulator/decisions/{opc-request-id}` explains (the pipeline records).
//!
//! Pure: this module imports `operation`, `crypto` (API key parsing) and
//! `ocid` only; it never reads the store or sees HTTP. The pipeline hands it
//! the principal, the operation and the resolved target.

pub mod authz;
pub mod decisions;
pub mod dynamic_groups;
pub mod eval;
pub mod policies;
pub mod policy;
pub mod tenancy;
pub mod time_conditions;
pub mod value;
