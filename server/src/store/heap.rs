//! Giving the heap a bulk write used back to the system.
//!
//! A write transaction that changes thousands of rows (a `/_emulator/seed`
//! of a few thousand secrets, a restore, a reset of a large store) makes
//! SQLite hold every page it changes twice for a moment: in its page cache
//! and in the in-memory rollback journal. glibc keeps what such a burst
//! freed in its per-thread arenas rather than returning it, so the
//! process's resident memory stayed about 30 MiB above the data after
//! seeding 100,000 secrets (measured with `bench/run`). After a
//! transaction that changed at least [`BULK_ROWS`] rows, the store asks
//! glibc to return free heap pages (`malloc_trim(3)`); ordinary writes of
//! a few rows never do.
//!
//! Beside `crypto/evp.rs`, this one call is the crate's only `unsafe` code.

#![allow(unsafe_code)]

/// Rows changed by one transaction from which it counts as bulk.
pub const BULK_ROWS: u64 = 4096;

/// Returns the free pages of every malloc arena to the system (glibc on
/// Linux; elsewhere nothing to do).
pub fn release_free_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks;
    // it takes no pointer from us and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
