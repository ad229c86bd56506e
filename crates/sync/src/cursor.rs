//! Where an incremental read starts next time.
//!
//! Procore's `filters[updated_at]` range is inclusive and its timestamps have whole seconds. A
//! cursor at the newest `updated_at` read would read that second's records again every sync
//! (all of them, when a bulk import stamped thousands with one second). But a write is stamped
//! before it commits, so a change stamped a little before the newest record read may become
//! visible only after the read. The cursor therefore moves one second past the newest record,
//! but never beyond [`SETTLE`] before Procore's own clock at the start of the read (its `Date`
//! header): every write stamped earlier than that has committed. Without a `Date` header it
//! stays at the newest record, inclusive. The local clock is never trusted.

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// How long a write stamped with `updated_at` may take to become visible: far longer than a
/// Procore request takes to commit.
pub const SETTLE: Duration = Duration::seconds(60);

/// The inclusive start of the next read, after reading records up to `newest` in a read that
/// Procore began answering at `server_time`. Never before `previous`: cursors only move forward.
pub fn next_cursor(
    newest: DateTime<Utc>,
    server_time: Option<DateTime<Utc>>,
    previous: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let second = newest.trunc_subsecs(0);
    let next = match server_time {
        Some(now) => (second + Duration::seconds(1)).min(now.trunc_subsecs(0) - SETTLE),
        None => second,
    };
    previous.map_or(next, |p| next.max(p))
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
            next_cursor(newest, Some(t("2026-11-22T10:05:00Z")), None),
            t("2026-11-22T10:00:01Z")
        );
        assert_eq!(
            next_cursor(newest, None, None),
            newest,
            "no Date header: stay inclusive"
        );
    }

    #[test]
    fn the_cursor_stays_a_settling_time_behind_procores_clock() {
        // The newest record is 10 seconds old: a change stamped a little earlier may not be
        // visible yet, so the next read starts a minute before Procore's clock.
        assert_eq!(
            next_cursor(
                t("2026-11-22T10:04:50Z"),
                Some(t("2026-11-22T10:05:00Z")),
                None
            ),
            t("2026-11-22T10:04:00Z")
        );
    }

    #[test]
    fn a_cursor_never_moves_back() {
        assert_eq!(
            next_cursor(
                t("2026-11-22T09:00:00Z"),
                Some(t("2026-11-22T10:05:00Z")),
                Some(t("2026-11-22T09:30:00Z"))
            ),
            t("2026-11-22T09:30:00Z")
        );
    }

    #[test]
    fn a_cursor_is_stored_in_whole_seconds() {
        assert_eq!(
            format(next_cursor(t("2026-11-22T10:00:00.700Z"), None, None)),
            "2026-11-22T10:00:00Z"
        );
    }
}
