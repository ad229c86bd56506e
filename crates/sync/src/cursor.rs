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
    // Procore's timestamps are untrusted input: one may sit at the very end (or start) of the
    // representable range, where plain `+`/`-` panic. Checked arithmetic keeps the rule total:
    // a bound that cannot be computed is left out of the minimum.
    let second = newest.trunc_subsecs(0);
    let next = match server_time {
        Some(now) => {
            let past_newest = second.checked_add_signed(Duration::seconds(1));
            let settled = now.trunc_subsecs(0).checked_sub_signed(SETTLE);
            match (past_newest, settled) {
                (Some(a), Some(b)) => a.min(b),
                (None, Some(b)) => second.min(b),
                // Procore's clock is at the start of time: stay inclusive, as without a clock.
                (_, None) => second,
            }
        }
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

    fn far(s: &str) -> DateTime<Utc> {
        procore::de::parse_datetime(&serde_json::Value::String(s.into()))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn extreme_timestamps_never_panic_the_cursor_rule_and_it_never_moves_back() {
        let mut values = vec![
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::UNIX_EPOCH,
            t("2026-11-22T10:00:00Z"),
            // What Procore's decoder accepts at the far ends of the range.
            far("+262142-12-31T23:59:59"),
            far("-262142-01-01T00:00:00+0000"),
        ];
        // Values right at the edges of the range, and a spread in between.
        for s in [1i64, 59, 60, 61, 3600] {
            values.push(DateTime::<Utc>::MAX_UTC - Duration::seconds(s));
            values.push(DateTime::<Utc>::MIN_UTC + Duration::seconds(s));
        }
        let (lo, hi) = (
            DateTime::<Utc>::MIN_UTC.timestamp(),
            DateTime::<Utc>::MAX_UTC.timestamp(),
        );
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200 {
            // A small xorshift keeps the spread reproducible without a dependency.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = lo + (x % (hi - lo) as u64) as i64;
            values.push(DateTime::from_timestamp(secs, (x % 1_000_000_000) as u32).unwrap());
        }
        for &newest in &values {
            for server in values.iter().copied().map(Some).chain([None]) {
                for previous in [None, Some(newest), Some(DateTime::<Utc>::MAX_UTC)] {
                    let next = next_cursor(newest, server, previous);
                    if let Some(p) = previous {
                        assert!(next >= p, "moved back: {newest} {server:?} {p}");
                    }
                    let _ = format(next);
                }
            }
        }
    }

    #[test]
    fn a_cursor_is_stored_in_whole_seconds() {
        assert_eq!(
            format(next_cursor(t("2026-11-22T10:00:00.700Z"), None, None)),
            "2026-11-22T10:00:00Z"
        );
    }
}
