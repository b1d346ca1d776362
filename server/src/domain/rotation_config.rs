//! A secret's rotation settings and state as stored on the secret: its
//! `rotationConfig` (SDK `RotationConfig`, `AdbTargetSystemDetails`,
//! `FunctionTargetSystemDetails`), the run under way and `rotationStatus`.
//! Types and their checks only, so `secrets` can hold them without
//! depending on the rotation's operations ([`super::secret_rotation`],
//! which re-exports everything here).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Error, Result};
use crate::ocid::is_ocid_of;

/// The shortest `rotationInterval`, in days (SDK `RotationConfig`: "The
/// minimum value is 1 day and maximum value is 360 days").
pub const MIN_INTERVAL_DAYS: u32 = 1;
/// The longest `rotationInterval`, in days.
pub const MAX_INTERVAL_DAYS: u32 = 360;

/// `TargetSystemDetails`, polymorphic on `targetSystemType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "targetSystemType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetSystem {
    /// `AdbTargetSystemDetails`: an Autonomous Database (`adbId`).
    #[serde(rename_all = "camelCase")]
    Adb {
        /// `ocid1.autonomousdatabase…`.
        adb_id: String,
    },
    /// `FunctionTargetSystemDetails`: an OCI Function (`functionId`), bound
    /// to a local HTTP endpoint by the tenancy file's `functions`.
    #[serde(rename_all = "camelCase")]
    Function {
        /// `ocid1.fnfunc…`.
        function_id: String,
    },
}

/// A validated `rotationConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationConfig {
    /// `targetSystemDetails`.
    pub target: TargetSystem,
    /// `rotationInterval` in days (`P<n>D`, 1–360); `None` when not given.
    #[serde(default)]
    pub interval_days: Option<u32>,
    /// `isScheduledRotationEnabled` (default false).
    #[serde(default)]
    pub scheduled: bool,
}

impl RotationConfig {
    /// Validates a request's `rotationConfig`: the target id must be an
    /// OCID of its type (`autonomousdatabase` for ADB, `fnfunc` for
    /// FUNCTION), `rotationInterval` an ISO 8601 duration in whole days
    /// `P1D`–`P360D`, and `isScheduledRotationEnabled: true` needs an
    /// interval (SDK `RotationConfig`: "when set to true rotationInterval
    /// must be set"). Anything else is 400 `InvalidParameter`.
    pub fn new(
        target: TargetSystem,
        interval: Option<&str>,
        scheduled: Option<bool>,
    ) -> Result<Self> {
        match &target {
            TargetSystem::Adb { adb_id } if !is_ocid_of(adb_id, "autonomousdatabase") => {
                return Err(Error::InvalidParameter(
                    "rotationConfig.targetSystemDetails.adbId must be an autonomous database OCID."
                        .into(),
                ))
            }
            TargetSystem::Function { function_id } if !is_ocid_of(function_id, "fnfunc") => {
                return Err(Error::InvalidParameter(
                    "rotationConfig.targetSystemDetails.functionId must be a function OCID (ocid1.fnfunc…)."
                        .into(),
                ))
            }
            _ => {}
        }
        let interval_days = interval.map(parse_interval_days).transpose()?;
        let scheduled = scheduled.unwrap_or(false);
        if scheduled && interval_days.is_none() {
            return Err(Error::InvalidParameter(
                "rotationConfig.rotationInterval is required when isScheduledRotationEnabled is true."
                    .into(),
            ));
        }
        Ok(Self {
            target,
            interval_days,
            scheduled,
        })
    }

    /// When a scheduled rotation next falls due, counted from `from`;
    /// `None` unless scheduled rotation is enabled.
    pub fn next_after(&self, from: OffsetDateTime) -> Option<OffsetDateTime> {
        match (self.scheduled, self.interval_days) {
            (true, Some(days)) => Some(from + Duration::days(i64::from(days))),
            _ => None,
        }
    }
}

/// Parses `rotationInterval`: `P<n>D` with `n` from 1 to 360.
pub fn parse_interval_days(text: &str) -> Result<u32> {
    super::parse_days(
        text,
        "rotationConfig.rotationInterval",
        MIN_INTERVAL_DAYS,
        MAX_INTERVAL_DAYS,
    )
}

/// `Secret.rotationStatus` (SDK `Secret.ROTATION_STATUS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStatus {
    /// A run is under way.
    InProgress,
    /// No run; scheduled rotation is enabled.
    Scheduled,
    /// No run; scheduled rotation is off.
    NotEnabled,
    /// `CancelSecretRotation` was called during a run that has not stopped yet.
    Cancelling,
}

impl RotationStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RotationStatus::InProgress => "IN_PROGRESS",
            RotationStatus::Scheduled => "SCHEDULED",
            RotationStatus::NotEnabled => "NOT_ENABLED",
            RotationStatus::Cancelling => "CANCELLING",
        }
    }
}

/// A rotation under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The `opc-work-request-id` `RotateSecret` answered (or one made for a
    /// scheduled run); names the run in every write.
    pub work_request_id: String,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// `CancelSecretRotation` asked it to stop.
    #[serde(default)]
    pub cancelling: bool,
}

/// A secret's rotation configuration and the state of its rotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rotation {
    /// `rotationConfig`.
    pub config: RotationConfig,
    /// `lastRotationTime`: the end of the last successful run.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_rotation_time: Option<OffsetDateTime>,
    /// `nextRotationTime`: when a scheduled run falls due.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub next_rotation_time: Option<OffsetDateTime>,
    /// The run under way, if any.
    #[serde(default)]
    pub run: Option<Run>,
    /// Why the last run failed or stopped (`lifecycleDetails`); cleared when
    /// a run starts.
    #[serde(default)]
    pub details: Option<String>,
}

impl Rotation {
    /// A newly configured rotation at `now`.
    pub fn new(config: RotationConfig, now: OffsetDateTime) -> Self {
        Self {
            next_rotation_time: config.next_after(now),
            config,
            last_rotation_time: None,
            run: None,
            details: None,
        }
    }

    /// The rotation after an `UpdateSecret` gives `config` at `now`: the
    /// run and history stay; the schedule restarts from `now` when it
    /// changes (interval or enablement), else it is kept.
    pub fn reconfigure(old: Option<Self>, config: RotationConfig, now: OffsetDateTime) -> Self {
        match old {
            None => Self::new(config, now),
            Some(mut r) => {
                let same_schedule = r.config.scheduled == config.scheduled
                    && r.config.interval_days == config.interval_days;
                if !same_schedule || r.next_rotation_time.is_none() {
                    r.next_rotation_time = config.next_after(now);
                }
                r.config = config;
                r
            }
        }
    }

    /// `rotationStatus`.
    pub fn status(&self) -> RotationStatus {
        match &self.run {
            Some(run) if run.cancelling => RotationStatus::Cancelling,
            Some(_) => RotationStatus::InProgress,
            None if self.config.scheduled => RotationStatus::Scheduled,
            None => RotationStatus::NotEnabled,
        }
    }
}
