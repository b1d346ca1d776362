//! Identity and access: the tenancy (compartments, groups, users and their
//! API keys, dynamic groups, policies), the policy language, its evaluation
//! and the explanations of decisions.
//!
//! - [`tenancy`]: the tenancy file and principals.
//! - [`policy`]: statements parsed and printed.
//! - [`eval`]: compiled policies, decisions, explanations, lint.
//! - [`authz`]: the runtime policy set, the decision log and the checks an
//!   operation needs on its resolved targets.
//! - [`cli`]: `policy check` / `policy lint`, offline from a tenancy file.

pub mod authz;
pub mod cli;
pub mod eval;
pub mod policy;
pub mod tenancy;
