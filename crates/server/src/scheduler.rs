//! The scheduler: what runs without a webhook asking for it.
//!
//! Procore drops a delivery it could not make for 12 hours, and may never send some, so each
//! company gets an incremental sync of each integration every `reconcile_every` and a whole
//! read of the workforce integration every `full_reconcile_every` (the compliance integration
//! reads whole every `full_read_days`, its own setting; while its hook delivers, its reconcile
//! leaves commitments, one request per followed project, to the commitment webhooks); the compliance integration is evaluated once a day at a
//! local time (an expiring policy moves without anything changing in Procore); and each
//! company's hook is checked when the server starts. When each last ran is kept in the store
//! (beside the sync cursors), so a schedule missed while no server ran runs once on start,
//! and several processes share one schedule: the jobs they enqueue for one moment coalesce.
//! Done jobs and processed deliveries are pruned once older than `keep_done_for` (a week by
//! default).

use crate::Shared;
use chrono::{DateTime, Duration as Span, FixedOffset, NaiveTime, Utc};
use std::time::Duration;
use sync::jobs::{enqueue, integrations, Integration, Work};
use tokio_util::sync::CancellationToken;

/// Whether something run every `every` is due at `now`, having last run at `last`.
pub fn interval_due(now: DateTime<Utc>, last: Option<DateTime<Utc>>, every: Duration) -> bool {
    match last {
        None => true,
        Some(last) => now - last >= Span::from_std(every).unwrap_or(Span::MAX),
    }
}

/// Whether the daily run at local time `at` (in `offset`) is due at `now`: the last such
/// moment at or before `now` came after `last`. Never run: due.
pub fn evaluation_due(
    now: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
    at: NaiveTime,
    offset: FixedOffset,
) -> bool {
    let local = now.with_timezone(&offset);
    let today = local.date_naive().and_time(at);
    let Some(mut moment) = today.and_local_timezone(offset).single() else {
        return false;
    };
    if moment > local {
        moment -= Span::days(1);
    }
    last.is_none_or(|l| l < moment.with_timezone(&Utc))
}

const RECONCILED: &str = "service.reconciled.";
const WHOLE: &str = "service.whole.";
const EVALUATED: &str = "service.evaluated";

/// How often the pruning runs, unless what is kept is kept for less.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How often to prune what is kept for `keep`: hourly, or every `keep` when that is shorter,
/// so nothing stays much longer than `keep` whatever it is.
fn prune_every(keep: Duration) -> Duration {
    PRUNE_EVERY.min(keep)
}

pub(crate) async fn run(shared: Shared, stop: CancellationToken) {
    let mut first = true;
    let mut pruned: Option<std::time::Instant> = None;
    loop {
        if let Err(e) = tick(&shared, first).await {
            tracing::warn!(error = %e, "the scheduler could not look at what is due");
        }
        let keep = shared.config.keep_done_for;
        if pruned.is_none_or(|at| at.elapsed() >= prune_every(keep)) {
            if let Err(e) = prune(&shared.store, keep, Utc::now()).await {
                tracing::warn!(error = %e, "could not prune old jobs and deliveries");
            }
            pruned = Some(std::time::Instant::now());
        }
        first = false;
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(shared.config.schedule_every) => {}
        }
    }
}

/// Removes the jobs done and the deliveries processed over `keep` before `now` (they are
/// kept for `trestle jobs` and to know late repeats of a delivery), and the API's idempotency
/// keys over a day old, so these tables do not grow without end.
async fn prune(store: &store::Store, keep: Duration, now: DateTime<Utc>) -> store::Result<()> {
    let before = Span::from_std(keep)
        .ok()
        .and_then(|keep| now.checked_sub_signed(keep))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let jobs = store.prune_jobs(before).await?;
    let deliveries = store.prune_deliveries(before).await?;
    // Idempotency keys are kept a day whatever `keep` says: the API promises no more, and
    // one of the answers kept is a new token's secret.
    let keys = store
        .prune_idempotency_keys(now - store::IDEMPOTENCY_KEPT)
        .await?;
    if jobs + deliveries + keys > 0 {
        tracing::info!(jobs, deliveries, keys, kept_for = ?keep, "pruned what was done long enough ago");
    }
    Ok(())
}

async fn last(shared: &Shared, company: i64, key: &str) -> store::Result<Option<DateTime<Utc>>> {
    Ok(shared
        .store
        .cursor(company, key)
        .await?
        .and_then(|v| v.parse().ok()))
}

async fn tick(shared: &Shared, first: bool) -> store::Result<()> {
    let store = &shared.store;
    let config = &shared.config;
    let mut enqueued = false;
    for connection in store.connections().await? {
        let company = connection.company_id;
        let now = Utc::now();
        let stamp = now.to_rfc3339();
        let on = integrations(store, company).await?;
        for (integration, enabled) in [
            (Integration::Workforce, on.workforce),
            (Integration::Compliance, on.compliance),
        ] {
            if !enabled {
                continue;
            }
            let name = integration.as_str();
            let whole_key = format!("{WHOLE}{name}");
            let reconciled_key = format!("{RECONCILED}{name}");
            // The compliance integration reads whole by its own setting (`full_read_days`),
            // which its incremental sync honours.
            let full = match last(shared, company, &whole_key).await? {
                _ if integration == Integration::Compliance => false,
                // The clock of whole reads starts with the first server: the connect, or the
                // first sync without cursors, read everything already.
                None => {
                    store.set_cursor(company, &whole_key, &stamp).await?;
                    false
                }
                Some(at) => interval_due(now, Some(at), config.full_reconcile_every),
            };
            let due = full
                || interval_due(
                    now,
                    last(shared, company, &reconciled_key).await?,
                    config.reconcile_every,
                );
            if due {
                let work = Work::Sync {
                    integration,
                    full,
                    targets: None,
                };
                enqueue(store, company, &work, now, config.job_attempts).await?;
                store.set_cursor(company, &reconciled_key, &stamp).await?;
                if full {
                    store.set_cursor(company, &whole_key, &stamp).await?;
                }
                enqueued = true;
            }
        }
        if on.compliance
            && evaluation_due(
                now,
                last(shared, company, EVALUATED).await?,
                config.evaluate_at,
                config.utc_offset,
            )
        {
            // A compliance sync evaluates every party with that day's date.
            let work = Work::Sync {
                integration: Integration::Compliance,
                full: false,
                targets: None,
            };
            enqueue(store, company, &work, now, config.job_attempts).await?;
            store.set_cursor(company, EVALUATED, &stamp).await?;
            enqueued = true;
        }
        if first && config.public_url.is_some() {
            enqueue(store, company, &Work::Hook, now, config.job_attempts).await?;
            enqueued = true;
        }
    }
    if enqueued {
        shared.wake.notify_waiters();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn pruning_runs_hourly_or_every_retention_period_when_that_is_shorter() {
        assert_eq!(
            prune_every(crate::ServerConfig::default().keep_done_for),
            PRUNE_EVERY
        );
        assert_eq!(prune_every(Duration::from_secs(5)), Duration::from_secs(5));
    }

    /// What is left: done jobs and processed deliveries.
    async fn kept(store: &store::Store) -> (i64, i64) {
        let done = store
            .job_counts()
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, state, _)| *state == store::JobState::Done)
            .map(|(_, _, n)| n)
            .sum();
        (done, store.delivery_counts().await.unwrap().processed)
    }

    #[tokio::test]
    async fn a_short_retention_prunes_what_was_done_the_default_keeps_a_week_and_api_keys_a_day() {
        let db = testkit::Database::new(testkit::Backend::Sqlite).await;
        let store = db.open().await;
        let company = 7;
        let done_at = at("2026-12-01T10:00:00Z");
        let delivery = store::NewDelivery {
            company_id: company,
            event_key: "01JRETENTION".into(),
            resource_name: "Projects".into(),
            event_type: "update".into(),
            resource_id: Some(1),
            project_id: None,
            body_json: "{}".into(),
            received_at: done_at,
        };
        let job = sync::jobs::new_job(company, &Work::Route, done_at, 3);
        let store::Received::Stored(id) = store.receive_delivery(&delivery, &job).await.unwrap()
        else {
            panic!("a new delivery");
        };
        let claimed = store
            .claim_job("worker", done_at, Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        store.complete_job(claimed.lease, done_at).await.unwrap();
        store
            .mark_deliveries_processed(company, &[id], done_at)
            .await
            .unwrap();
        assert_eq!(kept(&store).await, (1, 1));
        let claim = store
            .claim_idempotency_key("caller", "key-1", "request", done_at)
            .await
            .unwrap();
        assert_eq!(claim, store::KeyClaim::First);
        store
            .answer_idempotency_key("caller", "key-1", 201, None, "{\"token\": \"secret\"}")
            .await
            .unwrap();

        let default = crate::ServerConfig::default().keep_done_for;
        prune(&store, default, done_at + Span::hours(2))
            .await
            .unwrap();
        let again = store
            .claim_idempotency_key("caller", "key-1", "request", done_at + Span::hours(2))
            .await
            .unwrap();
        assert!(
            matches!(again, store::KeyClaim::Answered { status: 201, .. }),
            "{again:?}"
        );
        prune(&store, default, done_at + Span::days(6))
            .await
            .unwrap();
        assert_eq!(kept(&store).await, (1, 1), "six days old, kept by default");
        let left = store
            .prune_idempotency_keys(done_at + Span::days(30))
            .await
            .unwrap();
        assert_eq!(left, 0, "a key six days old is gone");

        prune(&store, Duration::from_secs(3600), done_at + Span::hours(2))
            .await
            .unwrap();
        assert_eq!(kept(&store).await, (0, 0), "two hours old, kept for one");
    }

    #[test]
    fn a_schedule_never_run_is_due_and_one_run_recently_is_not() {
        let every = Duration::from_secs(900);
        let now = at("2026-12-03T10:00:00Z");
        assert!(interval_due(now, None, every));
        assert!(!interval_due(now, Some(at("2026-12-03T09:50:00Z")), every));
        assert!(interval_due(now, Some(at("2026-12-03T09:45:00Z")), every));
    }

    #[test]
    fn the_daily_evaluation_is_due_once_its_local_time_has_passed_since_the_last() {
        let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap();
        let utc = FixedOffset::east_opt(0).unwrap();
        // Evaluated yesterday at 06:00; at 05:59 today it is not due, at 06:00 it is.
        let last = Some(at("2026-12-02T06:00:05Z"));
        assert!(!evaluation_due(at("2026-12-03T05:59:00Z"), last, six, utc));
        assert!(evaluation_due(at("2026-12-03T06:00:00Z"), last, six, utc));
        // Once run today it is not due again today.
        let today = Some(at("2026-12-03T06:00:01Z"));
        assert!(!evaluation_due(at("2026-12-03T23:00:00Z"), today, six, utc));
    }

    #[test]
    fn the_evaluation_time_is_read_in_the_configured_time_zone() {
        let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap();
        let denver = FixedOffset::west_opt(7 * 3600).unwrap();
        let last = Some(at("2026-12-02T13:00:05Z")); // 06:00:05 in Denver, yesterday
        assert!(!evaluation_due(
            at("2026-12-03T12:59:00Z"),
            last,
            six,
            denver
        ));
        assert!(evaluation_due(
            at("2026-12-03T13:00:00Z"),
            last,
            six,
            denver
        ));
    }

    #[test]
    fn a_server_down_over_several_days_evaluates_once_on_start() {
        let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap();
        let utc = FixedOffset::east_opt(0).unwrap();
        let now = at("2026-12-03T12:00:00Z");
        assert!(evaluation_due(
            now,
            Some(at("2026-11-28T06:00:00Z")),
            six,
            utc
        ));
        // The run it started counts for today.
        assert!(!evaluation_due(now, Some(now), six, utc));
    }
}
