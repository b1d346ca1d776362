//! The one clock that everything about resources reads, and the one way
//! times are written on the wire.
//!
//! Creation times, deletion windows and scheduled deletions read
//! [`Clock::now`]; only the signature's date check uses the real wall clock
//! (clients sign with real time). The offset lets `/_emulator/time` and tests
//! move time without sleeping. It is bounded by [`MAX_OFFSET_SECONDS`], so
//! the emulator's now, plus any deletion window, is always a representable
//! date: an out-of-range offset is refused where it is given, never turned
//! into a panic later.

use std::sync::atomic::{AtomicI64, Ordering};

use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

/// The largest offset from the wall clock, either way: 100 years in
/// seconds. Far beyond any deletion window or certificate lifetime a test
/// needs, and far from the end of the calendar `time` can represent.
pub const MAX_OFFSET_SECONDS: i64 = 100 * 366 * 86_400;

/// An offset outside ±[`MAX_OFFSET_SECONDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the clock offset {0} s is outside ±{MAX_OFFSET_SECONDS} s (100 years)")]
pub struct OffsetOutOfRange(pub i64);

/// Wall clock plus an offset, kept in milliseconds (the clock's resolution,
/// so `POST /_emulator/time {"set": T}` lands on T, not up to a second
/// before it). Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the system time; changed only by explicit
    /// requests, always within ±[`MAX_OFFSET_SECONDS`].
    offset_millis: AtomicI64,
}

impl Clock {
    /// The emulator's current time, truncated to milliseconds (OCI emits
    /// millisecond precision).
    pub fn now(&self) -> OffsetDateTime {
        let wall = OffsetDateTime::now_utc();
        let now = wall
            .checked_add(time::Duration::milliseconds(
                self.offset_millis.load(Ordering::Relaxed),
            ))
            .unwrap_or(wall);
        now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
            .unwrap_or(now)
    }

    /// The current offset from the wall clock, in whole seconds (toward
    /// zero).
    pub fn offset_seconds(&self) -> i64 {
        self.offset_millis.load(Ordering::Relaxed) / 1000
    }

    /// Sets the offset from the wall clock, in seconds.
    ///
    /// # Errors
    /// [`OffsetOutOfRange`] beyond ±[`MAX_OFFSET_SECONDS`]; nothing changes.
    pub fn set_offset(&self, seconds: i64) -> Result<(), OffsetOutOfRange> {
        check_offset(seconds)?;
        self.offset_millis.store(seconds * 1000, Ordering::Relaxed);
        Ok(())
    }

    /// Sets the clock so that it reads `target` now (to the millisecond,
    /// never before it).
    ///
    /// # Errors
    /// [`OffsetOutOfRange`] when `target` is over 100 years from the wall
    /// clock; nothing changes.
    pub fn set_to(&self, target: OffsetDateTime) -> Result<(), OffsetOutOfRange> {
        let nanos = (target - OffsetDateTime::now_utc()).whole_nanoseconds();
        // Rounded up, so the first reading is at or after `target`.
        let millis = -((-nanos).div_euclid(1_000_000));
        let millis = i64::try_from(millis).unwrap_or(i64::MAX);
        check_offset(millis / 1000)?;
        self.offset_millis.store(millis, Ordering::Relaxed);
        Ok(())
    }

    /// Moves the clock by `seconds` (going backwards is checked by the
    /// caller).
    ///
    /// # Errors
    /// [`OffsetOutOfRange`] when the resulting offset would leave the range;
    /// nothing changes.
    pub fn advance(&self, seconds: i64) -> Result<(), OffsetOutOfRange> {
        let millis = seconds.checked_mul(1000).ok_or(OffsetOutOfRange(seconds))?;
        self.offset_millis
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |current| {
                current
                    .checked_add(millis)
                    .filter(|next| check_offset(*next / 1000).is_ok())
            })
            .map(drop)
            .map_err(|current| OffsetOutOfRange((current / 1000).saturating_add(seconds)))
    }
}

/// Checks an offset against ±[`MAX_OFFSET_SECONDS`].
///
/// # Errors
/// [`OffsetOutOfRange`] outside it.
pub fn check_offset(seconds: i64) -> Result<(), OffsetOutOfRange> {
    if seconds.unsigned_abs() > MAX_OFFSET_SECONDS as u64 {
        return Err(OffsetOutOfRange(seconds));
    }
    Ok(())
}

const RFC3339_MS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A time as OCI emits it: UTC, milliseconds, `Z` (`2018-04-03T21:10:29.600Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(RFC3339_MS)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_have_milliseconds_and_z() {
        assert_eq!(
            format_time(datetime!(2018-04-03 21:10:29.6 UTC)),
            "2018-04-03T21:10:29.600Z"
        );
        assert_eq!(
            format_time(datetime!(2018-04-03 23:10:29 +02:00)),
            "2018-04-03T21:10:29.000Z"
        );
    }

    #[test]
    fn offsets_beyond_a_century_are_refused_and_change_nothing() {
        let clock = Clock::default();
        clock.set_offset(3600).unwrap();
        assert_eq!(clock.set_offset(i64::MAX), Err(OffsetOutOfRange(i64::MAX)));
        assert!(clock.advance(i64::MAX).is_err());
        assert!(clock.advance(MAX_OFFSET_SECONDS).is_err());
        assert_eq!(clock.offset_seconds(), 3600);
        clock.advance(-7200).unwrap();
        assert_eq!(clock.offset_seconds(), -3600);
        clock.set_offset(-MAX_OFFSET_SECONDS).unwrap();
        let _ = clock.now();
    }

    /// Setting the clock to midnight reads midnight, not the second before
    /// (the offset used to be whole seconds, truncated).
    #[test]
    fn set_to_reads_the_target_not_the_second_before() {
        let clock = Clock::default();
        let midnight = (OffsetDateTime::now_utc() + time::Duration::days(10))
            .replace_time(time::Time::MIDNIGHT);
        for target in [midnight, midnight + time::Duration::milliseconds(900)] {
            clock.set_to(target).unwrap();
            let now = clock.now();
            assert!(now >= target, "{now} is before {target}");
            assert!(
                now - target < time::Duration::seconds(1),
                "{now} vs {target}"
            );
        }
        assert!(clock
            .set_to(OffsetDateTime::now_utc() + time::Duration::days(365 * 101))
            .is_err());
        assert!(clock.now() >= midnight);
    }
}
