//! Where an incremental read starts next time.
//!
//! Procore's `filters[updated_at]` range is inclusive and its timestamps have whole seconds. A
//! cursor at the newest `updated_at` read would read that second's records again every sync
//! (all of them, when a bulk import stamped thousands with one second). Moving it one second
//! past the newest record is safe only once no write stamped with that second can still
//! appear, so the cursor moves past it only when Procore's own clock (the `Date` of the read)
//! is [`SETTLE`] beyond it; the local clock is never trusted.

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// How long after a second ends trestle assumes every write stamped with it is visible: far
/// longer than a Procore request takes to commit.
pub const SETTLE: Duration = Duration::seconds(60);

/// The inclusive start of the next read, after reading records up to `newest` in a read that
/// Procore answered at `server_time`.
pub fn next_cursor(newest: DateTime<Utc>, server_time: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let second = newest.trunc_subsecs(0);
    match server_time {
        Some(now) if second + SETTLE <= now => second + Duration::seconds(1),
        _ => second,
    }
}

/// A cursor as stored.
pub fn format(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_cursor_passes_the_newest_second_only_once_procore_is_well_past_it() {
        let newest = t("2026-11-22T10:00:00Z");
        assert_eq!(
            next_cursor(newest, Some(t("2026-11-22T10:05:00Z"))),
            t("2026-11-22T10:00:01Z")
        );
        assert_eq!(
            next_cursor(newest, Some(t("2026-11-22T10:00:59Z"))),
            newest,
            "a write stamped 10:00:00 may still appear"
        );
        assert_eq!(
            next_cursor(newest, None),
            newest,
            "no Date header: stay inclusive"
        );
    }

    #[test]
    fn a_cursor_is_stored_in_whole_seconds() {
        assert_eq!(
            format(next_cursor(t("2026-11-22T10:00:00.700Z"), None)),
            "2026-11-22T10:00:00Z"
        );
    }
}
