//! The simulated clock: real time plus an offset.
//!
//! Why: token lifetimes (5400 s), authorization codes (600 s) and rate-limit windows (1 h)
//! are too long to wait for in tests, so [`crate::Sim::advance_clock`] adds to an offset
//! and everything time-dependent reads [`now`].

use chrono::{DateTime, Utc};

/// How far the simulated clock may run ahead of real time: a hundred years, in milliseconds.
pub const MAX_OFFSET_MS: i64 = 100 * 366 * 24 * 3600 * 1000;

/// Real time plus `offset_ms`.
pub fn now(offset_ms: i64) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::milliseconds(offset_ms)
}

/// Procore's timestamp format: ISO 8601 UTC with a `Z`, second precision.
pub fn ts(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
