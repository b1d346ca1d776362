//! The right-hand side of a policy condition (`'text'`, `/pattern/`, a
//! bare word), shared by the statement parser (`policy`) and the time
//! conditions (`time_conditions`), as Oracle's policy syntax writes it.

use std::fmt;

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `'text'`: a literal, even when it contains `*`.
    Quoted(String),
    /// `/db-*/`: `*` matches any run of characters.
    Pattern(String),
    /// A bare word (OCIDs are usually written so).
    Word(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Quoted(text) => write!(f, "'{text}'"),
            Value::Pattern(text) => write!(f, "/{text}/"),
            Value::Word(text) => f.write_str(text),
        }
    }
}
