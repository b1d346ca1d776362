//! Secret rotation: a secret's `rotationConfig` (SDK `RotationConfig`,
//! `AdbTargetSystemDetails`, `FunctionTargetSystemDetails`), its
//! `rotationStatus` / `lastRotationTime` / `nextRotationTime` (SDK `Secret`),
//! and the state changes of `RotateSecret` and `CancelSecretRotation`
//! (`VaultsClient.rotate_secret`, `cancel_secret_rotation`).
//!
//! A rotation is a *run*: started by `RotateSecret` or by the clock passing
//! `nextRotationTime` ([`start_due`]), driven step by step outside the store
//! by `services::secret_rotation` (it calls a FUNCTION target over HTTP, or
//! makes an ADB target's new version itself), and ended by [`finish`]. The
//! run is stored on the secret (`Rotation::run`) so every read shows
//! `rotationStatus: IN_PROGRESS` while it lasts; each write of the run
//! checks the run's work request id, so a cancelled or replaced run never
//! writes over a newer one.
//!
//! `rotationStatus` takes the SDK model's values only: `IN_PROGRESS` while a
//! run lasts, `CANCELLING` after `CancelSecretRotation` until the run
//! stops, else `SCHEDULED` when `isScheduledRotationEnabled`, else
//! `NOT_ENABLED`. The SDK has no failed status: a failed run leaves the
//! status as it was before and says why in `lifecycleDetails`
//! ([`Rotation::details`]).

use time::OffsetDateTime;

use rusqlite::{params, Connection, Transaction};

pub use super::rotation_config::*;
use super::secrets::{self, Secret, SecretState};
use super::{new_etag, Error, Result};
use crate::store::{self, SECRETS};

/// The longest `lifecycleDetails` kept from a failed step, in characters.
const MAX_DETAILS_CHARS: usize = 400;

/// What a run needs to be driven outside the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The secret.
    pub secret_id: String,
    /// The run's work request id.
    pub work_request_id: String,
    /// Where it rotates.
    pub target: TargetSystem,
}

/// Marks a run started on `secret` (already checked current and `ACTIVE`).
fn begin(
    tx: &Transaction<'_>,
    mut secret: Secret,
    now: OffsetDateTime,
    work_request_id: String,
) -> Result<(Secret, Started)> {
    let rotation = secret.rotation.as_mut().ok_or_else(|| {
        Error::InvalidParameter(format!(
            "Secret {} has no rotationConfig; set rotationConfig.targetSystemDetails with UpdateSecret before rotating it.",
            secret.id
        ))
    })?;
    if rotation.run.is_some() {
        return Err(Error::IncorrectState(format!(
            "A rotation of secret {} is already in progress.",
            secret.id
        )));
    }
    rotation.run = Some(Run {
        work_request_id: work_request_id.clone(),
        started: now,
        cancelling: false,
    });
    rotation.details = None;
    let started = Started {
        secret_id: secret.id.clone(),
        work_request_id,
        target: rotation.config.target.clone(),
    };
    secret.etag = new_etag();
    secrets::save(tx, &secret)?;
    Ok((secret, started))
}

/// `RotateSecret`: starts a run on the resolved `secret`. The secret must
/// be unchanged since it was resolved and match `if-match` (412), be
/// `ACTIVE` (409 `IncorrectState`), have a `rotationConfig` (400
/// `InvalidParameter`: "expects secret to have a valid Target System
/// Details object", SDK docstring) and no run under way (409
/// `IncorrectState`).
pub fn start(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    secret: Secret,
    if_match: Option<&str>,
    work_request_id: String,
) -> Result<(Secret, Started)> {
    secrets::for_change(tx, &secret, if_match)?;
    secret.ensure_active("rotated")?;
    begin(tx, secret, now, work_request_id)
}

/// `CancelSecretRotation`: stops the run under way (it becomes `CANCELLING`
/// until the driver sees it between two steps) and turns scheduled
/// rotation off, which clears `nextRotationTime` (oci-cli help: it "also
/// disables future rotations"). 400 `InvalidParameter` without a
/// `rotationConfig`; 409 `IncorrectState` unless `ACTIVE`.
pub fn cancel(tx: &Transaction<'_>, secret: Secret, if_match: Option<&str>) -> Result<Secret> {
    secrets::for_change(tx, &secret, if_match)?;
    secret.ensure_active("have its rotation cancelled")?;
    let mut secret = secret;
    let rotation = secret.rotation.as_mut().ok_or_else(|| {
        Error::InvalidParameter(format!(
            "Secret {} has no rotationConfig; there is no rotation to cancel.",
            secret.id
        ))
    })?;
    if let Some(run) = rotation.run.as_mut() {
        run.cancelling = true;
    }
    rotation.config.scheduled = false;
    rotation.next_rotation_time = None;
    secret.etag = new_etag();
    secrets::save(tx, &secret)?;
    Ok(secret)
}

/// Starts a run on every `ACTIVE` secret whose scheduled rotation the
/// clock has passed (`nextRotationTime <= now`, no run under way); each
/// gets a work request id from `new_id`. Called when `POST /_emulator/time`
/// moves the clock: a run started here is driven like a `RotateSecret` one.
pub fn start_due(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    mut new_id: impl FnMut() -> String,
) -> Result<Vec<Started>> {
    let all: Vec<Secret> = store::query_docs(tx, "SELECT doc FROM secrets", params![])?;
    let mut started = Vec::new();
    for secret in all {
        let secret = secret.settle(now);
        let due = secret.lifecycle_state == SecretState::Active
            && secret.rotation.as_ref().is_some_and(|r| {
                r.run.is_none()
                    && r.config.scheduled
                    && r.next_rotation_time.is_some_and(|t| t <= now)
            });
        if due {
            started.push(begin(tx, secret, now, new_id())?.1);
        }
    }
    Ok(started)
}

/// Ends every run stored as under way: at start-up none has a task left to
/// drive it (the emulator stopped during a rotation, with `--data-dir`).
/// Each ends as failed, saying so in `lifecycleDetails`; returns how many.
pub fn end_interrupted(tx: &Transaction<'_>, now: OffsetDateTime) -> Result<usize> {
    let all: Vec<Secret> = store::query_docs(tx, "SELECT doc FROM secrets", params![])?;
    let mut ended = 0;
    for secret in all {
        if secret.rotation.as_ref().is_some_and(|r| r.run.is_some()) {
            end(
                tx,
                secret,
                now,
                Err(
                    "Secret rotation was interrupted: the emulator stopped before it ended.".into(),
                ),
            )?;
            ended += 1;
        }
    }
    Ok(ended)
}

/// The secret of a run, loaded inside the write; `None` when the run is no
/// longer its secret's current one (cancelled and finished, replaced, or
/// the secret is gone).
fn load_run(tx: &Connection, run: &Started, now: OffsetDateTime) -> Result<Option<Secret>> {
    let Some(secret) = store::get::<Secret>(tx, &SECRETS, &run.secret_id)? else {
        return Ok(None);
    };
    let secret = secret.settle(now);
    let ours = secret
        .rotation
        .as_ref()
        .and_then(|r| r.run.as_ref())
        .is_some_and(|r| r.work_request_id == run.work_request_id);
    Ok(ours.then_some(secret))
}

/// Before a step: whether the run may go on. A cancelled run is ended here
/// (`lifecycleDetails` says at which step) and `false` is returned, as it is
/// for a run that is no longer current or a secret no longer `ACTIVE`.
pub fn may_continue(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    run: &Started,
    next_step: &str,
) -> Result<bool> {
    let Some(secret) = load_run(tx, run, now)? else {
        return Ok(false);
    };
    let cancelling = secret
        .rotation
        .as_ref()
        .and_then(|r| r.run.as_ref())
        .is_some_and(|r| r.cancelling);
    if cancelling {
        end(
            tx,
            secret,
            now,
            Err(format!(
                "Secret rotation was cancelled by CancelSecretRotation before step {next_step}."
            )),
        )?;
        return Ok(false);
    }
    if secret.lifecycle_state != SecretState::Active {
        let reason = format!(
            "Secret rotation stopped before step {next_step}: the secret is {}.",
            secret.lifecycle_state.as_str()
        );
        end(tx, secret, now, Err(reason))?;
        return Ok(false);
    }
    Ok(true)
}

/// Ends a run: success sets `lastRotationTime`; failure keeps what the
/// steps left behind and puts `reason` in `lifecycleDetails`. Either way a
/// scheduled rotation falls due one interval after `now`. A run that is no
/// longer current changes nothing.
pub fn finish(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    run: &Started,
    outcome: std::result::Result<(), String>,
) -> Result<()> {
    if let Some(secret) = load_run(tx, run, now)? {
        end(tx, secret, now, outcome)?;
    }
    Ok(())
}

fn end(
    tx: &Transaction<'_>,
    mut secret: Secret,
    now: OffsetDateTime,
    outcome: std::result::Result<(), String>,
) -> Result<()> {
    let Some(rotation) = secret.rotation.as_mut() else {
        return Ok(());
    };
    rotation.run = None;
    match outcome {
        Ok(()) => {
            rotation.last_rotation_time = Some(now);
            rotation.details = None;
        }
        Err(reason) => rotation.details = Some(truncate(&reason)),
    }
    rotation.next_rotation_time = rotation.config.next_after(now);
    secret.etag = new_etag();
    secrets::save(tx, &secret)
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_DETAILS_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_DETAILS_CHARS - 1).collect();
    out.push('…');
    out
}

/// An ADB target without a reachable database: the new version is made
/// here, `CURRENT` at once (the old one becomes `PREVIOUS`), from `content`
/// (generated by the driver, outside the store's lock); then the run ends
/// successfully. A run that is no longer current changes nothing.
pub fn rotate_adb(
    tx: &Transaction<'_>,
    keyring: &crate::crypto::Keyring,
    now: OffsetDateTime,
    run: &Started,
    content: secrets::NewContent,
) -> Result<()> {
    let Some(secret) = load_run(tx, run, now)? else {
        return Ok(());
    };
    let change = secrets::SecretUpdate {
        content: Some(content),
        ..Default::default()
    };
    let secret = secrets::update(tx, keyring, now, secret, None, change)?;
    end(tx, secret, now, Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn function() -> TargetSystem {
        TargetSystem::Function {
            function_id: "ocid1.fnfunc.oc1.iad.aaaa".into(),
        }
    }

    #[test]
    fn intervals_are_whole_days_from_one_to_360() {
        assert_eq!(parse_interval_days("P1D").unwrap(), 1);
        assert_eq!(parse_interval_days("P360D").unwrap(), 360);
        for bad in ["P0D", "P361D", "P1W", "PT24H", "1D", "P-1D", "P1000D", "P"] {
            assert!(
                matches!(parse_interval_days(bad), Err(Error::InvalidParameter(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn scheduled_rotation_needs_an_interval_and_targets_need_their_ocid_type() {
        assert!(RotationConfig::new(function(), None, Some(true)).is_err());
        assert!(RotationConfig::new(function(), None, None).is_ok());
        let adb_with_function_id = TargetSystem::Adb {
            adb_id: "ocid1.fnfunc.oc1.iad.aaaa".into(),
        };
        assert!(RotationConfig::new(adb_with_function_id, Some("P1D"), None).is_err());
        let bad_function = TargetSystem::Function {
            function_id: "not-an-ocid".into(),
        };
        assert!(RotationConfig::new(bad_function, Some("P1D"), None).is_err());
    }

    #[test]
    fn status_follows_the_run_then_the_schedule() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let config = RotationConfig::new(function(), Some("P7D"), Some(true)).unwrap();
        let mut r = Rotation::new(config, now);
        assert_eq!(r.status(), RotationStatus::Scheduled);
        assert_eq!(r.next_rotation_time, Some(now + Duration::days(7)));
        r.run = Some(Run {
            work_request_id: "w".into(),
            started: now,
            cancelling: false,
        });
        assert_eq!(r.status(), RotationStatus::InProgress);
        r.run.as_mut().unwrap().cancelling = true;
        assert_eq!(r.status(), RotationStatus::Cancelling);
        r.run = None;
        r.config.scheduled = false;
        assert_eq!(r.status(), RotationStatus::NotEnabled);
    }

    #[test]
    fn reconfiguring_keeps_the_schedule_unless_it_changes() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let t1 = t0 + Duration::days(3);
        let weekly = RotationConfig::new(function(), Some("P7D"), Some(true)).unwrap();
        let kept = Rotation::reconfigure(Some(Rotation::new(weekly.clone(), t0)), weekly, t1);
        assert_eq!(kept.next_rotation_time, Some(t0 + Duration::days(7)));
        let daily = RotationConfig::new(function(), Some("P1D"), Some(true)).unwrap();
        let moved = Rotation::reconfigure(Some(kept), daily, t1);
        assert_eq!(moved.next_rotation_time, Some(t1 + Duration::days(1)));
    }

    #[test]
    fn long_details_are_cut() {
        let long = "x".repeat(1000);
        assert_eq!(truncate(&long).chars().count(), MAX_DETAILS_CHARS);
        assert_eq!(truncate("short"), "short");
    }
}
