//! Secret rules (`secretRules`), after the Vault API's `SecretExpiryRule`
//! and `SecretReuseRule` models and Oracle's "Rules for Secrets" page
//! (<https://docs.oracle.com/iaas/Content/KeyManagement/Concepts/secretrules.htm>).
//!
//! - `SECRET_EXPIRY_RULE`: each version expires `secretVersionExpiryInterval`
//!   (`P1D`–`P90D`, whole days only) after it is made, and every version at
//!   `timeOfAbsoluteExpiry` (1–365 days ahead when set), whichever comes
//!   first. With `isSecretContentRetrievalBlockedOnExpiry`, an expired
//!   version's bundle is refused; turning the flag off makes it readable
//!   again (SDK model docs).
//! - `SECRET_REUSE_RULE`: new content equal to an earlier version's is
//!   refused; `isEnforcedOnDeletedSecretVersions` extends that to deleted
//!   versions.
//!
//! At most one rule of each type (Oracle's "Updating a Secret's Rules").

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Error, Result};

/// The longest `secretVersionExpiryInterval`, in days.
pub const MAX_VERSION_EXPIRY_DAYS: u32 = 90;
/// `timeOfAbsoluteExpiry` must be at least this many days ahead.
pub const MIN_ABSOLUTE_EXPIRY_DAYS: i64 = 1;
/// `timeOfAbsoluteExpiry` must be at most this many days ahead.
pub const MAX_ABSOLUTE_EXPIRY_DAYS: i64 = 365;

/// `SecretExpiryRule`, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiryRule {
    /// `secretVersionExpiryInterval` in days (1–90).
    #[serde(default)]
    pub interval_days: Option<u32>,
    /// `timeOfAbsoluteExpiry`.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_absolute_expiry: Option<OffsetDateTime>,
    /// `isSecretContentRetrievalBlockedOnExpiry` (default false).
    pub blocked_on_expiry: bool,
}

/// `SecretReuseRule`, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReuseRule {
    /// `isEnforcedOnDeletedSecretVersions` (default false).
    pub enforced_on_deleted: bool,
}

/// A secret's rules: at most one of each type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretRules {
    /// The `SECRET_EXPIRY_RULE`, if any.
    #[serde(default)]
    pub expiry: Option<ExpiryRule>,
    /// The `SECRET_REUSE_RULE`, if any.
    #[serde(default)]
    pub reuse: Option<ReuseRule>,
}

/// One rule as a request gives it (`SecretRule` subtypes), before checks.
#[derive(Debug, Clone)]
pub enum RuleInput {
    /// `SECRET_EXPIRY_RULE`.
    Expiry {
        /// `secretVersionExpiryInterval`, e.g. `P30D`.
        interval: Option<String>,
        /// `timeOfAbsoluteExpiry`.
        time_of_absolute_expiry: Option<OffsetDateTime>,
        /// `isSecretContentRetrievalBlockedOnExpiry`.
        blocked: Option<bool>,
    },
    /// `SECRET_REUSE_RULE`.
    Reuse {
        /// `isEnforcedOnDeletedSecretVersions`.
        enforced_on_deleted: Option<bool>,
    },
}

/// Parses `secretVersionExpiryInterval`: `P<n>D` with `n` from 1 to 90.
pub fn parse_interval_days(text: &str) -> Result<u32> {
    super::parse_days(
        text,
        "secretVersionExpiryInterval",
        1,
        MAX_VERSION_EXPIRY_DAYS,
    )
}

impl SecretRules {
    /// Validates a request's rule list at `now`: at most one rule of each
    /// type; an expiry rule needs an interval or an absolute time; the
    /// interval is `P1D`–`P90D`; the absolute time is 1–365 days after
    /// `now`. Anything else is 400 `InvalidParameter`.
    pub fn from_inputs(inputs: Vec<RuleInput>, now: OffsetDateTime) -> Result<Self> {
        let mut rules = SecretRules::default();
        for input in inputs {
            match input {
                RuleInput::Expiry {
                    interval,
                    time_of_absolute_expiry,
                    blocked,
                } => {
                    if rules.expiry.is_some() {
                        return Err(Error::InvalidParameter(
                            "secretRules may hold at most one SECRET_EXPIRY_RULE.".into(),
                        ));
                    }
                    if interval.is_none() && time_of_absolute_expiry.is_none() {
                        return Err(Error::InvalidParameter(
                            "A SECRET_EXPIRY_RULE needs secretVersionExpiryInterval or timeOfAbsoluteExpiry.".into(),
                        ));
                    }
                    let interval_days = interval.as_deref().map(parse_interval_days).transpose()?;
                    if let Some(at) = time_of_absolute_expiry {
                        let ahead = at - now;
                        if ahead < Duration::days(MIN_ABSOLUTE_EXPIRY_DAYS)
                            || ahead > Duration::days(MAX_ABSOLUTE_EXPIRY_DAYS)
                        {
                            return Err(Error::InvalidParameter(format!(
                                "timeOfAbsoluteExpiry must be between {MIN_ABSOLUTE_EXPIRY_DAYS} and {MAX_ABSOLUTE_EXPIRY_DAYS} days from now."
                            )));
                        }
                    }
                    rules.expiry = Some(ExpiryRule {
                        interval_days,
                        time_of_absolute_expiry,
                        blocked_on_expiry: blocked.unwrap_or(false),
                    });
                }
                RuleInput::Reuse {
                    enforced_on_deleted,
                } => {
                    if rules.reuse.is_some() {
                        return Err(Error::InvalidParameter(
                            "secretRules may hold at most one SECRET_REUSE_RULE.".into(),
                        ));
                    }
                    rules.reuse = Some(ReuseRule {
                        enforced_on_deleted: enforced_on_deleted.unwrap_or(false),
                    });
                }
            }
        }
        Ok(rules)
    }

    /// When a version whose expiry clock starts at `start` expires under
    /// these rules: `start` + interval, or the absolute time, whichever is
    /// first; `None` without an expiry rule.
    pub fn expiry_from(&self, start: OffsetDateTime) -> Option<OffsetDateTime> {
        let rule = self.expiry.as_ref()?;
        let by_interval = rule
            .interval_days
            .and_then(|d| start.checked_add(Duration::days(i64::from(d))));
        match (by_interval, rule.time_of_absolute_expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether a bundle read of a version expiring at `expiry` is refused at
    /// `now` (expired, and the rule blocks retrieval).
    pub fn blocks(&self, expiry: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
        self.expiry.as_ref().is_some_and(|r| r.blocked_on_expiry)
            && expiry.is_some_and(|at| at <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);

    fn expiry(interval: Option<&str>, at: Option<OffsetDateTime>) -> RuleInput {
        RuleInput::Expiry {
            interval: interval.map(str::to_owned),
            time_of_absolute_expiry: at,
            blocked: Some(true),
        }
    }

    #[test]
    fn intervals_are_whole_days_from_one_to_ninety() {
        assert_eq!(parse_interval_days("P1D").unwrap(), 1);
        assert_eq!(parse_interval_days("P90D").unwrap(), 90);
        for bad in [
            "P0D", "P91D", "PT1H", "P1W", "1D", "P-1D", "P D", "PD", "P0001D",
        ] {
            assert!(parse_interval_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn absolute_expiry_is_one_to_365_days_ahead() {
        let ok = |d: i64| {
            SecretRules::from_inputs(vec![expiry(None, Some(NOW + Duration::days(d)))], NOW)
        };
        assert!(ok(1).is_ok() && ok(365).is_ok());
        assert!(ok(0).is_err() && ok(366).is_err() && ok(-5).is_err());
    }

    #[test]
    fn one_rule_of_each_type_and_expiry_needs_a_time() {
        let reuse = || RuleInput::Reuse {
            enforced_on_deleted: None,
        };
        assert!(SecretRules::from_inputs(vec![reuse(), reuse()], NOW).is_err());
        assert!(SecretRules::from_inputs(vec![expiry(None, None)], NOW).is_err());
        let both = SecretRules::from_inputs(vec![reuse(), expiry(Some("P3D"), None)], NOW).unwrap();
        assert_eq!(
            both.reuse,
            Some(ReuseRule {
                enforced_on_deleted: false
            })
        );
        assert_eq!(both.expiry_from(NOW), Some(NOW + Duration::days(3)));
    }

    #[test]
    fn the_earlier_of_interval_and_absolute_time_wins() {
        let at = NOW + Duration::days(2);
        let rules = SecretRules::from_inputs(vec![expiry(Some("P3D"), Some(at))], NOW).unwrap();
        assert_eq!(rules.expiry_from(NOW), Some(at));
        assert!(!rules.blocks(Some(at), at - Duration::seconds(1)));
        assert!(rules.blocks(Some(at), at));
        assert!(!SecretRules::default().blocks(Some(at), at));
    }
}
