//! The one clock that everything about resources reads.
//!
//! Creation times, deletion windows and scheduled deletions read
//! [`Clock::now`]; only the signature's date check uses the real wall clock
//! (clients sign with real time). The offset lets `/_emulator/time` and tests
//! move time forward without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// Wall clock plus an offset in seconds. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Clock {
    /// Seconds added to the system time; changed only by explicit requests.
    offset_seconds: AtomicI64,
}

impl Clock {
    /// The emulator's current time, truncated to milliseconds (OCI emits
    /// millisecond precision).
    pub fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc()
            + time::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed));
        now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
            .unwrap_or(now)
    }

    /// The current offset from the wall clock, in seconds.
    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Sets the offset from the wall clock, in seconds.
    pub fn set_offset(&self, seconds: i64) {
        self.offset_seconds.store(seconds, Ordering::Relaxed);
    }

    /// Moves the clock by `seconds` (going backwards is checked by the
    /// caller).
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}
