//! Automatic key rotation: a key's `isAutoRotationEnabled` and
//! `autoKeyRotationDetails` (the `AutoKeyRotationDetails` model of the `oci`
//! Python SDK, `oci/key_management/models/auto_key_rotation_details.py`,
//! and Oracle's "Enabling and Updating Auto Key Rotation" page), and the
//! rotations its schedule makes as the emulator's time passes.
//!
//! Rules, as Oracle documents them:
//! - only keys in a `VIRTUAL_PRIVATE` vault rotate automatically ("This
//!   feature is available only for virtual private vaults"); asking for it
//!   in a `DEFAULT` vault is 400 `InvalidParameter` (OCI's answer there is
//!   not documented);
//! - `rotationIntervalInDays` is 60–365 and required when a schedule is
//!   first set (400 `MissingParameter` without it);
//! - `timeOfScheduleStart` and `timeOfNextRotation` are dates: KMS "ignores
//!   the time and replaces it with 00:00" (UTC); the start defaults to
//!   today;
//! - a rotation needs the key `ENABLED` and its vault `ACTIVE` (Oracle's
//!   release note of 2024-02-27); otherwise it fails: `lastRotationStatus`
//!   `FAILED` with a message saying why, and the schedule goes on.
//!
//! Choices where Oracle is silent, each documented here:
//! - The first rotation is one interval after the schedule's start (a
//!   schedule started today with 90 days first rotates in 90 days), then one
//!   every interval; `timeOfNextRotation` is the first such day after the
//!   schedule is set. A `timeOfNextRotation` sent in a request moves the
//!   next rotation to that day (today or later).
//! - When the clock passes several scheduled days at once, each one makes
//!   its own rotation, as if OCI's scheduler had run on each of those days:
//!   each new version's `timeCreated` (and `timeOfLastRotation`) is its
//!   scheduled day, and the newest is the key's current version.
//! - `timeOfLastRotation`, `lastRotationStatus` and `lastRotationMessage` are
//!   the service's: a request may send them back unchanged (a client that
//!   round-trips the model), but a different value is 400 `InvalidParameter`
//!   rather than silently ignored. `timeOfLastRotation` is the day of the last
//!   successful rotation. Manual rotation (`CreateKeyVersion`) does not move
//!   the schedule.
//!
//! Rotations are applied deterministically, never by a timer: the pipeline's
//! resolve step calls [`rotate_due`] for a key a request names whose next
//! rotation has come ([`is_due`]), before reading it, and moving the clock
//! (`POST /_emulator/time`) calls [`rotate_all_due`].

use rusqlite::{Connection, Transaction};
use time::{Duration, OffsetDateTime, Time, UtcOffset};

use super::keys::{self, Key, KeyState};
use super::vaults::{self, Vault, VaultState, VaultType};
use super::{new_etag, Error, Result};
use crate::crypto::{KeyBytes, Keyring};
use crate::store::{self, KEYS};

/// `rotationIntervalInDays` bounds, inclusive (the SDK model's docstring).
pub const INTERVAL_DAYS: std::ops::RangeInclusive<u64> = 60..=365;

pub use super::keys::{AutoRotation, RotationStatus};

/// What `CreateKey` or `UpdateKey` asks of the schedule (from
/// `isAutoRotationEnabled` and `autoKeyRotationDetails`); times as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationRequest {
    /// `isAutoRotationEnabled`, when sent.
    pub enabled: Option<bool>,
    /// Whether `autoKeyRotationDetails` was sent at all.
    pub details_given: bool,
    /// `rotationIntervalInDays`, not yet range-checked.
    pub interval_days: Option<u64>,
    /// `timeOfScheduleStart`.
    pub time_of_schedule_start: Option<OffsetDateTime>,
    /// `timeOfNextRotation`.
    pub time_of_next_rotation: Option<OffsetDateTime>,
    /// `timeOfLastRotation` (must equal the stored one).
    pub time_of_last_rotation: Option<OffsetDateTime>,
    /// `lastRotationStatus` (must equal the stored one).
    pub last_rotation_status: Option<RotationStatus>,
    /// `lastRotationMessage` (must equal the stored one).
    pub last_rotation_message: Option<String>,
}

/// 00:00 UTC of `t`'s day (UTC): the day KMS keeps of a schedule time.
pub fn day_of(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC).replace_time(Time::MIDNIGHT)
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidParameter(message.into())
}

/// The first day `start + k × interval` (k ≥ 1) after `now`.
fn next_after(
    start: OffsetDateTime,
    interval_days: u16,
    now: OffsetDateTime,
) -> Result<OffsetDateTime> {
    let out_of_range = || invalid("autoKeyRotationDetails.timeOfScheduleStart is out of range.");
    let interval = i64::from(interval_days);
    let periods = if now < start {
        1
    } else {
        (now - start).whole_days() / interval + 1
    };
    let mut next = periods
        .checked_mul(interval)
        .and_then(|days| start.checked_add(Duration::days(days)))
        .ok_or_else(out_of_range)?;
    // `whole_days` truncates, so one more interval may be needed.
    while next <= now {
        next = next
            .checked_add(Duration::days(interval))
            .ok_or_else(out_of_range)?;
    }
    Ok(next)
}

/// The schedule a key gets from `request`, given the one it has (`current`),
/// its vault and the request's time `now`. `Ok(current)` unchanged when
/// the request says nothing of rotation.
///
/// # Errors
/// 400 `InvalidParameter`: rotation asked for in a vault not
/// `VIRTUAL_PRIVATE`; an interval outside 60–365; a next rotation before
/// today; a service-set field changed; a time out of range. 400
/// `MissingParameter`: a new schedule without `rotationIntervalInDays`.
pub fn schedule(
    vault: &Vault,
    now: OffsetDateTime,
    current: Option<&AutoRotation>,
    request: RotationRequest,
) -> Result<Option<AutoRotation>> {
    let asks_for_rotation = request.enabled == Some(true) || request.details_given;
    if !asks_for_rotation && request.enabled.is_none() {
        return Ok(current.cloned());
    }
    if asks_for_rotation && vault.vault_type != VaultType::VirtualPrivate {
        return Err(invalid(format!(
            "Automatic key rotation is available only for keys in a VIRTUAL_PRIVATE vault; vault {} is {}.",
            vault.id,
            match vault.vault_type {
                VaultType::Default => "DEFAULT",
                VaultType::VirtualPrivate => "VIRTUAL_PRIVATE",
                VaultType::External => "EXTERNAL",
            }
        )));
    }
    let stored = |f: fn(&AutoRotation) -> Option<String>| current.and_then(f);
    let service_fields = [
        (
            "timeOfLastRotation",
            request.time_of_last_rotation.map(crate::clock::format_time),
            stored(|r| r.time_of_last_rotation.map(crate::clock::format_time)),
        ),
        (
            "lastRotationStatus",
            request.last_rotation_status.map(|s| format!("{s:?}")),
            stored(|r| r.last_rotation_status.map(|s| format!("{s:?}"))),
        ),
        (
            "lastRotationMessage",
            request.last_rotation_message.clone(),
            stored(|r| r.last_rotation_message.clone()),
        ),
    ];
    for (field, given, kept) in service_fields {
        if given.is_some() && given != kept {
            return Err(invalid(format!(
                "autoKeyRotationDetails.{field} is set by the service; it cannot be changed."
            )));
        }
    }
    let interval_days = match (request.interval_days, current) {
        (Some(days), _) if INTERVAL_DAYS.contains(&days) => days as u16,
        (Some(_), _) => {
            return Err(invalid(format!(
                "autoKeyRotationDetails.rotationIntervalInDays must be between {} and {} days.",
                INTERVAL_DAYS.start(),
                INTERVAL_DAYS.end()
            )))
        }
        (None, Some(current)) => current.interval_days,
        (None, None) if asks_for_rotation => {
            return Err(Error::MissingParameter(
                "autoKeyRotationDetails.rotationIntervalInDays is required to schedule automatic key rotation.".into(),
            ))
        }
        // `isAutoRotationEnabled: false` on a key without a schedule.
        (None, None) => return Ok(None),
    };
    let enabled = request
        .enabled
        .or(current.map(|c| c.enabled))
        .unwrap_or(false);
    let start = request
        .time_of_schedule_start
        .map(day_of)
        .or(current.map(|c| c.time_of_schedule_start))
        .unwrap_or_else(|| day_of(now));
    let requested_next = request
        .time_of_next_rotation
        .map(day_of)
        .filter(|next| current.and_then(|c| c.time_of_next_rotation) != Some(*next));
    let unchanged = current.is_some_and(|c| {
        c.enabled && c.interval_days == interval_days && c.time_of_schedule_start == start
    });
    let time_of_next_rotation = match (enabled, requested_next) {
        (false, Some(_)) => {
            return Err(invalid(
                "autoKeyRotationDetails.timeOfNextRotation needs isAutoRotationEnabled true.",
            ))
        }
        (false, None) => None,
        (true, Some(next)) if next < day_of(now) => {
            return Err(invalid(
                "autoKeyRotationDetails.timeOfNextRotation must be today or later.",
            ))
        }
        (true, Some(next)) if next <= start => {
            return Err(invalid(
                "autoKeyRotationDetails.timeOfNextRotation must be after timeOfScheduleStart.",
            ))
        }
        (true, Some(next)) => Some(next),
        (true, None) if unchanged => current.and_then(|c| c.time_of_next_rotation),
        (true, None) => Some(next_after(start, interval_days, now)?),
    };
    Ok(Some(AutoRotation {
        enabled,
        interval_days,
        time_of_schedule_start: start,
        time_of_next_rotation,
        time_of_last_rotation: current.and_then(|c| c.time_of_last_rotation),
        last_rotation_status: current.and_then(|c| c.last_rotation_status),
        last_rotation_message: current.and_then(|c| c.last_rotation_message.clone()),
    }))
}

/// Sets `key`'s schedule from `request` ([`schedule`]) and saves it with a
/// new etag when it changed. The caller has checked the key is fresh (a
/// create, or `keys::update` in the same transaction).
///
/// # Errors
/// Those of [`schedule`]; a store failure.
pub fn configure(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    vault: &Vault,
    mut key: Key,
    request: RotationRequest,
) -> Result<Key> {
    let next = schedule(vault, now, key.auto_rotation.as_ref(), request)?;
    if next != key.auto_rotation {
        key.auto_rotation = next;
        key.etag = new_etag();
        keys::save(tx, &key)?;
    }
    Ok(key)
}

/// Whether `key`'s next automatic rotation has come by `now`.
pub fn is_due(key: &Key, now: OffsetDateTime) -> bool {
    key.auto_rotation
        .as_ref()
        .is_some_and(|r| r.enabled && r.time_of_next_rotation.is_some_and(|t| t <= now))
}

/// Applies every rotation of key `key_id` scheduled on or before `now`, in
/// order (see the module doc), and saves the key once with a new etag.
/// Nothing happens when none is due (another request applied them first).
/// Returns how many versions were made.
///
/// # Errors
/// A store or sealing failure (the write then changes nothing).
pub fn rotate_due(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    key_id: &str,
    materials: &mut Materials,
) -> Result<usize> {
    let Some(mut key) = store::get::<Key>(tx, &KEYS, key_id)? else {
        return Ok(0);
    };
    let Some(mut rotation) = key.auto_rotation.clone().filter(|_| is_due(&key, now)) else {
        return Ok(0);
    };
    let interval = Duration::days(i64::from(rotation.interval_days));
    let mut made = 0;
    while let Some(at) = rotation.time_of_next_rotation.filter(|t| *t <= now) {
        let key_state = key.clone().settle(at).lifecycle_state;
        let vault_state = vaults::find(tx, &key.vault_id, at)?.map(|v| v.lifecycle_state);
        let refusal = match (key_state, vault_state) {
            (KeyState::Enabled, Some(VaultState::Active)) => None,
            (KeyState::Enabled, state) => Some(format!(
                "its vault was {}",
                state.map_or("DELETED", vaults::state_name)
            )),
            (state, _) => Some(format!("the key was {}", state.as_str())),
        };
        if let Some(refusal) = refusal {
            rotation.last_rotation_status = Some(RotationStatus::Failed);
            rotation.last_rotation_message = Some(format!(
                "Automatic rotation needs an ENABLED key in an ACTIVE vault; {refusal}."
            ));
        } else {
            // Made before the write by `pregenerate`; only a rotation the
            // caller did not foresee (a schedule changed in between) makes
            // its material here, inside the write.
            let material = match materials.get_mut(&key.id).and_then(Vec::pop) {
                Some(material) => material,
                None => key.key_shape.generate()?,
            };
            let mut version = keys::new_version(
                tx,
                keyring,
                at,
                region,
                &key,
                &material,
                keys::Origin::Internal,
            )?;
            version.is_auto_rotated = true;
            keys::update_version(tx, &version)?;
            key.current_key_version = version.id.clone();
            rotation.time_of_last_rotation = Some(at);
            rotation.last_rotation_status = Some(RotationStatus::Success);
            rotation.last_rotation_message = Some(format!(
                "Automatic rotation created key version {}.",
                version.id
            ));
            made += 1;
        }
        rotation.time_of_next_rotation = at.checked_add(interval);
    }
    key.auto_rotation = Some(rotation);
    key.etag = new_etag();
    keys::save(tx, &key)?;
    Ok(made)
}

/// [`rotate_due`] for every key whose rotation has come by `now` (after
/// the clock moved). Returns how many versions were made.
///
/// # Errors
/// As [`rotate_due`].
pub fn rotate_all_due(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    materials: &mut Materials,
) -> Result<usize> {
    let mut made = 0;
    for key in due_keys(tx, now)? {
        made += rotate_due(tx, keyring, now, region, &key.id, materials)?;
    }
    Ok(made)
}

/// Every key with a rotation due by `now`.
pub fn due_keys(tx: &Connection, now: OffsetDateTime) -> Result<Vec<Key>> {
    let all: Vec<Key> = store::query_docs(tx, "SELECT doc FROM keys", [])?;
    Ok(all.into_iter().filter(|k| is_due(k, now)).collect())
}

/// Key material for rotations, by key OCID, made before the write that
/// uses it ([`pregenerate`]).
pub type Materials = std::collections::HashMap<String, Vec<KeyBytes>>;

/// How many rotations of `key` are scheduled on or before `now`.
pub fn due_count(key: &Key, now: OffsetDateTime) -> usize {
    let Some(rotation) = key.auto_rotation.as_ref().filter(|r| r.enabled) else {
        return 0;
    };
    let interval = Duration::days(i64::from(rotation.interval_days));
    let mut count = 0;
    let mut next = rotation.time_of_next_rotation;
    while let Some(at) = next.filter(|t| *t <= now) {
        count += 1;
        next = at.checked_add(interval);
    }
    count
}

/// Fresh material for every rotation of `keys` due by `now`. Callers run
/// this on the blocking pool before they open the write: an RSA-4096 pair
/// takes up to a second, and the store's lock must not wait on it (a clock
/// moved five years over three RSA-4096 keys made 90 of them).
///
/// # Errors
/// A failing generator.
pub fn pregenerate(keys: &[Key], now: OffsetDateTime) -> Result<Materials> {
    let mut materials = Materials::new();
    for key in keys {
        let made = (0..due_count(key, now))
            .map(|_| key.key_shape.generate())
            .collect::<Result<Vec<_>>>()?;
        materials.insert(key.id.clone(), made);
    }
    Ok(materials)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn vault(vault_type: VaultType) -> Vault {
        Vault {
            id: "ocid1.vault.oc1.iad.v".into(),
            compartment_id: "c".into(),
            display_name: "v".into(),
            vault_type,
            lifecycle_state: VaultState::Active,
            time_created: datetime!(2025-01-01 0:00 UTC),
            time_of_deletion: None,
            tags: Default::default(),
            vault_key: "k".into(),
            wrapping_key_id: "w".into(),
            etag: "e".into(),
            region: None,
            replica: None,
            restored_from_vault_id: None,
        }
    }

    fn enable(days: u64) -> RotationRequest {
        RotationRequest {
            enabled: Some(true),
            details_given: true,
            interval_days: Some(days),
            ..RotationRequest::default()
        }
    }

    const NOW: OffsetDateTime = datetime!(2025-03-10 15:30 UTC);

    #[test]
    fn a_new_schedule_starts_today_and_first_rotates_one_interval_later() {
        let r = schedule(&vault(VaultType::VirtualPrivate), NOW, None, enable(60))
            .unwrap()
            .unwrap();
        assert_eq!(r.time_of_schedule_start, datetime!(2025-03-10 0:00 UTC));
        assert_eq!(
            r.time_of_next_rotation,
            Some(datetime!(2025-05-09 0:00 UTC))
        );
        assert!(r.enabled && r.interval_days == 60 && r.last_rotation_status.is_none());
    }

    #[test]
    fn a_past_start_gives_the_first_scheduled_day_after_now() {
        let request = RotationRequest {
            time_of_schedule_start: Some(datetime!(2024-01-01 13:14 UTC)),
            ..enable(90)
        };
        let r = schedule(&vault(VaultType::VirtualPrivate), NOW, None, request)
            .unwrap()
            .unwrap();
        assert_eq!(r.time_of_schedule_start, datetime!(2024-01-01 0:00 UTC));
        // 2024-01-01 + 5 × 90 days = 2025-03-26 (2024 is a leap year), the
        // first scheduled day after NOW.
        assert_eq!(
            r.time_of_next_rotation,
            Some(datetime!(2025-03-26 0:00 UTC))
        );
    }

    #[test]
    fn rotation_is_refused_outside_virtual_private_vaults_but_false_is_fine() {
        let err = schedule(&vault(VaultType::Default), NOW, None, enable(60)).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter(m) if m.contains("VIRTUAL_PRIVATE")));
        let off = RotationRequest {
            enabled: Some(false),
            ..RotationRequest::default()
        };
        assert_eq!(
            schedule(&vault(VaultType::Default), NOW, None, off).unwrap(),
            None
        );
    }

    #[test]
    fn intervals_are_60_to_365_days_and_required_for_a_new_schedule() {
        let v = vault(VaultType::VirtualPrivate);
        for days in [0, 59, 366, u64::MAX] {
            let err = schedule(&v, NOW, None, enable(days)).unwrap_err();
            assert!(matches!(err, Error::InvalidParameter(m) if m.contains("between 60 and 365")));
        }
        for days in [60, 365] {
            assert!(schedule(&v, NOW, None, enable(days)).is_ok());
        }
        let no_interval = RotationRequest {
            enabled: Some(true),
            ..RotationRequest::default()
        };
        let err = schedule(&v, NOW, None, no_interval).unwrap_err();
        assert!(matches!(err, Error::MissingParameter(m) if m.contains("rotationIntervalInDays")));
    }

    #[test]
    fn service_fields_may_be_sent_back_unchanged_but_not_changed() {
        let v = vault(VaultType::VirtualPrivate);
        let mut current = schedule(&v, NOW, None, enable(60)).unwrap().unwrap();
        current.last_rotation_status = Some(RotationStatus::Success);
        let same = RotationRequest {
            last_rotation_status: Some(RotationStatus::Success),
            time_of_next_rotation: current.time_of_next_rotation,
            ..enable(60)
        };
        assert_eq!(
            schedule(&v, NOW, Some(&current), same).unwrap(),
            Some(current.clone())
        );
        let changed = RotationRequest {
            last_rotation_status: Some(RotationStatus::Failed),
            ..enable(60)
        };
        let err = schedule(&v, NOW, Some(&current), changed).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter(m) if m.contains("lastRotationStatus")));
    }

    #[test]
    fn disabling_keeps_the_interval_and_clears_the_next_rotation() {
        let v = vault(VaultType::VirtualPrivate);
        let current = schedule(&v, NOW, None, enable(120)).unwrap().unwrap();
        let off = RotationRequest {
            enabled: Some(false),
            ..RotationRequest::default()
        };
        let r = schedule(&v, NOW, Some(&current), off).unwrap().unwrap();
        assert_eq!(
            (r.enabled, r.interval_days, r.time_of_next_rotation),
            (false, 120, None)
        );
        let on = RotationRequest {
            enabled: Some(true),
            ..RotationRequest::default()
        };
        let later = NOW + Duration::days(10);
        let r = schedule(&v, later, Some(&r), on).unwrap().unwrap();
        assert_eq!(
            r.time_of_next_rotation,
            Some(datetime!(2025-07-08 0:00 UTC))
        );
    }

    #[test]
    fn a_requested_next_rotation_is_a_day_from_today_on() {
        let v = vault(VaultType::VirtualPrivate);
        let tomorrow = RotationRequest {
            time_of_next_rotation: Some(datetime!(2025-03-11 18:00 UTC)),
            ..enable(60)
        };
        let r = schedule(&v, NOW, None, tomorrow).unwrap().unwrap();
        assert_eq!(
            r.time_of_next_rotation,
            Some(datetime!(2025-03-11 0:00 UTC))
        );
        let yesterday = RotationRequest {
            time_of_next_rotation: Some(datetime!(2025-03-09 0:00 UTC)),
            ..enable(60)
        };
        assert!(matches!(
            schedule(&v, NOW, None, yesterday).unwrap_err(),
            Error::InvalidParameter(m) if m.contains("today or later")
        ));
    }

    #[test]
    fn a_next_rotation_before_the_schedule_starts_is_refused() {
        let request = RotationRequest {
            time_of_schedule_start: Some(NOW + Duration::days(100)),
            time_of_next_rotation: Some(NOW + Duration::days(1)),
            ..enable(60)
        };
        let err = schedule(&vault(VaultType::VirtualPrivate), NOW, None, request).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter(m) if m.contains("after timeOfScheduleStart"))
        );
    }

    #[test]
    fn due_count_counts_every_scheduled_day_passed() {
        let v = vault(VaultType::VirtualPrivate);
        let r = schedule(&v, NOW, None, enable(60)).unwrap().unwrap();
        let mut key: Key = serde_json::from_value(serde_json::json!({
            "id": "k", "vaultId": "v", "compartmentId": "c", "displayName": "k",
            "keyShape": {"algorithm": "AES", "length": 32}, "protectionMode": "HSM",
            "lifecycleState": "ENABLED", "currentKeyVersion": "kv",
            "timeCreated": "2025-03-10T00:00:00Z", "tags": {}, "etag": "e"
        }))
        .unwrap();
        key.auto_rotation = Some(r);
        assert_eq!(due_count(&key, NOW), 0);
        assert_eq!(due_count(&key, NOW + Duration::days(61)), 1);
        assert_eq!(due_count(&key, NOW + Duration::days(181)), 3);
        assert_eq!(
            pregenerate(&[key], NOW + Duration::days(181)).unwrap()["k"].len(),
            3
        );
    }

    #[test]
    fn a_start_at_the_end_of_the_calendar_is_a_400_not_a_panic() {
        let request = RotationRequest {
            time_of_schedule_start: Some(datetime!(9999-12-31 0:00 UTC)),
            ..enable(365)
        };
        let err = schedule(&vault(VaultType::VirtualPrivate), NOW, None, request).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter(m) if m.contains("out of range")));
    }
}
