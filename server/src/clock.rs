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

/// Wall clock plus an offset in seconds. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Clock {
    /// Seconds added to the system time; changed only by explicit requests,
    /// always within ±[`MAX_OFFSET_SECONDS`].
    offset_seconds: AtomicI64,
}

impl Clock {
    /// The emulator's current time, truncated to milliseconds (OCI emits
    /// millisecond precision).
    pub fn now(&self) -> OffsetDateTime {
        let wall = OffsetDateTime::now_utc();
        let now = wall
            .checked_add(time::Duration::seconds(self.offset_seconds()))
            .unwrap_or(wall);
        now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
            .unwrap_or(now)
    }

    /// The current offset from the wall clock, in seconds.
    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Sets the offset from the wall clock, in seconds.
    ///
    /// # Errors
    /// [`OffsetOutOfRange`] beyond ±[`MAX_OFFSET_SECONDS`]; nothing changes.
    pub fn set_offset(&self, seconds: i64) -> Result<(), OffsetOutOfRange> {
        check_offset(seconds)?;
        self.offset_seconds.store(seconds, Ordering::Relaxed);
        Ok(())
    }

    /// Moves the clock by `seconds` (going backwards is checked by the
    /// caller).
    ///
    /// # Errors
    /// [`OffsetOutOfRange`] when the resulting offset would leave the range;
    /// nothing changes.
    pub fn advance(&self, seconds: i64) -> Result<(), OffsetOutOfRange> {
        self.offset_seconds
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |current| {
                current
                    .checked_add(seconds)
                    .filter(|next| check_offset(*next).is_ok())
            })
            .map(drop)
            .map_err(|current| OffsetOutOfRange(current.saturating_add(seconds)))
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
}
