//! Identity: the tenancy (compartments, groups, users and their API keys,
//! policies). Policy evaluation comes with the IAM issue; until then every
//! authenticated user may do everything, and policies are loaded and kept.

pub mod tenancy;
