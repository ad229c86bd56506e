use crate::{project_fields, COMPANY};
use chrono::{DateTime, Utc};
use domain::workforce::ProjectStatus;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{Claimed, Enqueued, JobFilter, JobState, NewJob, Store, StoreError};

const LEASE: Duration = Duration::from_secs(60);
const OTHER: i64 = COMPANY + 1;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn t0() -> DateTime<Utc> {
    t("2026-11-22T10:00:00Z")
}

fn secs(n: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(n)
}

fn job(company: i64, kind: &str, lane: &str, key: Option<&str>, run_at: DateTime<Utc>) -> NewJob {
    NewJob {
        company_id: company,
        kind: kind.into(),
        lane: lane.into(),
        dedupe_key: key.map(Into::into),
        payload_json: format!(r#"{{"lane":"{lane}"}}"#),
        run_at,
        max_attempts: 5,
    }
}

async fn enqueue(s: &Store, new: NewJob) -> i64 {
    match s.enqueue_job(&new).await.unwrap() {
        Enqueued::New(id) => id,
        other => panic!("expected a new job, got {other:?}"),
    }
}

async fn claim(s: &Store, worker: &str, now: DateTime<Utc>) -> Option<Claimed> {
    s.claim_job(worker, now, LEASE).await.unwrap()
}

/// Claims and completes every job due at `now`, one at a time; their ids in claim order.
async fn drain(s: &Store, now: DateTime<Utc>) -> Vec<i64> {
    let mut ids = Vec::new();
    while let Some(c) = claim(s, "w", now).await {
        s.complete_job(c.lease, now).await.unwrap();
        ids.push(c.job.id);
    }
    ids
}

fn lost<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::LeaseLost))
}

both!(
    every_claim_bumps_the_token_and_an_old_holder_can_no_longer_heartbeat_complete_fail_or_release,
    |ctx| {
        let s = &ctx.store;
        let id = enqueue(s, job(COMPANY, "sync", "l", None, t0())).await;
        let first = claim(s, "worker-a", t0()).await.unwrap();
        assert_eq!(first.lease.job_id, id);
        let second = claim(s, "worker-b", secs(61)).await.unwrap();
        assert_eq!(second.job.id, id, "the lapsed job was taken back");
        assert!(second.lease.token > first.lease.token);

        let old = first.lease;
        assert!(lost(s.heartbeat_job(old, secs(62), LEASE).await));
        assert!(lost(s.complete_job(old, secs(62)).await));
        assert!(lost(
            s.fail_job(old, secs(62), "boom", Some(secs(90))).await
        ));
        assert!(lost(s.release_job(old, secs(62)).await));

        let now = s.job(COMPANY, id).await.unwrap().unwrap();
        assert_eq!(now.state, JobState::Running);
        assert_eq!(now.leased_by.as_deref(), Some("worker-b"));
        assert_eq!(now.attempts, 2);
        assert_eq!(
            now.lease_until,
            Some(secs(121)),
            "the new lease is untouched"
        );
        s.complete_job(second.lease, secs(63)).await.unwrap();
        let done = s.job(COMPANY, id).await.unwrap().unwrap();
        assert_eq!(
            (done.state, done.finished_at),
            (JobState::Done, Some(secs(63)))
        );
    }
);

both!(
    a_fenced_store_writes_while_its_lease_holds_and_nothing_once_it_was_taken,
    |ctx| {
        let s = &ctx.store;
        let id = enqueue(s, job(COMPANY, "sync", "l", None, t0())).await;
        let first = claim(s, "worker-a", t0()).await.unwrap();
        let fenced = s.fenced(first.lease);
        fenced
            .create_project(
                COMPANY,
                &project_fields("Held", None),
                ProjectStatus::Active,
            )
            .await
            .unwrap();

        let second = claim(s, "worker-b", secs(61)).await.unwrap();
        assert_eq!(second.job.id, id);
        assert!(lost(
            fenced
                .create_project(
                    COMPANY,
                    &project_fields("Late", None),
                    ProjectStatus::Active
                )
                .await
        ));
        assert!(lost(
            fenced
                .enqueue_job(&job(COMPANY, "follow-up", "m", None, t0()))
                .await
        ));
        let names: Vec<String> = s
            .projects(COMPANY)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.fields.name)
            .collect();
        assert_eq!(names, ["Held"], "the old holder's late write is not there");
        assert_eq!(
            s.jobs(&JobFilter::default()).await.unwrap().len(),
            1,
            "nor its follow-up job"
        );

        let current = s.fenced(second.lease);
        current
            .create_project(COMPANY, &project_fields("New", None), ProjectStatus::Active)
            .await
            .unwrap();
        s.complete_job(second.lease, secs(62)).await.unwrap();
        assert!(
            lost(
                current
                    .create_project(
                        COMPANY,
                        &project_fields("After", None),
                        ProjectStatus::Active
                    )
                    .await
            ),
            "a finished job fences too"
        );
        assert_eq!(s.projects(COMPANY).await.unwrap().len(), 2);
    }
);

both!(
    a_lane_runs_one_job_at_a_time_and_a_busy_lane_holds_up_no_other,
    |ctx| {
        let s = &ctx.store;
        let a1 = enqueue(s, job(COMPANY, "upload", "uploads", None, t0())).await;
        let a2 = enqueue(s, job(COMPANY, "upload", "uploads", None, t0())).await;
        let b1 = enqueue(s, job(COMPANY, "insurance", "insurance", None, t0())).await;
        let c1 = enqueue(s, job(OTHER, "upload", "uploads", None, t0())).await;

        let first = claim(s, "w1", t0()).await.unwrap();
        assert_eq!(first.job.id, a1);
        assert_eq!(claim(s, "w2", t0()).await.unwrap().job.id, b1);
        assert_eq!(
            claim(s, "w3", t0()).await.unwrap().job.id,
            c1,
            "a lane is per company"
        );
        assert!(claim(s, "w4", t0()).await.is_none(), "a2 waits for a1");
        s.complete_job(first.lease, t0()).await.unwrap();
        assert_eq!(claim(s, "w4", t0()).await.unwrap().job.id, a2);
    }
);

both!(
    a_job_whose_lease_ran_out_is_taken_back_with_one_more_attempt_before_the_rest_of_its_lane,
    |ctx| {
        let s = &ctx.store;
        let j1 = enqueue(s, job(COMPANY, "upload", "uploads", None, t0())).await;
        let j2 = enqueue(s, job(COMPANY, "upload", "uploads", None, t0())).await;
        let first = claim(s, "crashed", t0()).await.unwrap();
        assert_eq!((first.job.id, first.job.attempts), (j1, 1));
        assert!(claim(s, "other", secs(59)).await.is_none(), "still leased");

        let again = claim(s, "other", secs(60)).await.unwrap();
        assert_eq!((again.job.id, again.job.attempts), (j1, 2));
        assert_eq!(again.job.leased_by.as_deref(), Some("other"));
        assert!(again
            .job
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("crashed") && e.contains("lease")));
        s.complete_job(again.lease, secs(61)).await.unwrap();
        assert_eq!(drain(s, secs(61)).await, [j2]);
    }
);

both!(a_heartbeat_keeps_a_job_from_being_taken_back, |ctx| {
    let s = &ctx.store;
    enqueue(s, job(COMPANY, "sync", "l", None, t0())).await;
    let held = claim(s, "w", t0()).await.unwrap();
    s.heartbeat_job(held.lease, secs(50), LEASE).await.unwrap();
    assert!(claim(s, "x", secs(100)).await.is_none());
    let taken = claim(s, "x", secs(110)).await.unwrap();
    assert_eq!(taken.job.id, held.job.id);
});

both!(
    due_jobs_are_claimed_by_run_at_then_id_and_never_before_their_time,
    |ctx| {
        let s = &ctx.store;
        let later = enqueue(s, job(COMPANY, "k", "a", None, secs(600))).await;
        let y = enqueue(s, job(COMPANY, "k", "b", None, t0())).await;
        let z = enqueue(s, job(COMPANY, "k", "c", None, t0())).await;
        let w = enqueue(s, job(COMPANY, "k", "d", None, secs(-300))).await;
        assert_eq!(drain(s, t0()).await, [w, y, z]);
        assert_eq!(drain(s, secs(599)).await, Vec::<i64>::new());
        assert_eq!(drain(s, secs(600)).await, [later]);
    }
);

both!(jobs_of_one_lane_run_in_enqueue_order, |ctx| {
    let s = &ctx.store;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(enqueue(s, job(COMPANY, "insurance", "vendor-7", None, t0())).await);
    }
    assert_eq!(drain(s, t0()).await, ids);
});

both!(
    an_older_due_job_of_another_company_goes_before_a_flood_enqueued_after_it,
    |ctx| {
        let s = &ctx.store;
        for i in 0..30 {
            enqueue(s, job(COMPANY, "k", &format!("l{i}"), None, t0())).await;
        }
        let theirs = enqueue(s, job(OTHER, "k", "l0", None, secs(1))).await;
        for i in 0..30 {
            enqueue(s, job(COMPANY, "k", &format!("m{i}"), None, secs(2))).await;
        }
        let order = drain(s, secs(3)).await;
        assert_eq!(order.len(), 61);
        assert_eq!(order.iter().position(|id| *id == theirs), Some(30));
    }
);

both!(
    a_pending_job_absorbs_a_new_one_with_its_dedupe_key_and_runs_at_the_earlier_time,
    |ctx| {
        let s = &ctx.store;
        let mut first = job(COMPANY, "sync", "sync", Some("sync:workforce"), secs(10));
        first.payload_json = r#"{"first":true}"#.into();
        let id = enqueue(s, first).await;
        assert_eq!(
            s.enqueue_job(&job(
                COMPANY,
                "sync",
                "sync",
                Some("sync:workforce"),
                secs(5)
            ))
            .await
            .unwrap(),
            Enqueued::Coalesced(id)
        );
        assert_eq!(
            s.enqueue_job(&job(
                COMPANY,
                "sync",
                "sync",
                Some("sync:workforce"),
                secs(20)
            ))
            .await
            .unwrap(),
            Enqueued::Coalesced(id)
        );
        let kept = s.job(COMPANY, id).await.unwrap().unwrap();
        assert_eq!(kept.run_at, secs(5));
        assert_eq!(kept.payload_json, r#"{"first":true}"#);
        let theirs = s
            .enqueue_job(&job(OTHER, "sync", "sync", Some("sync:workforce"), secs(5)))
            .await
            .unwrap();
        assert!(
            matches!(theirs, Enqueued::New(other) if other != id),
            "dedupe keys are per company"
        );
        assert!(
            matches!(
                s.enqueue_job(&job(COMPANY, "sync", "sync", None, secs(5)))
                    .await
                    .unwrap(),
                Enqueued::New(_)
            ),
            "no key, no coalescing"
        );
        assert_eq!(s.jobs(&JobFilter::default()).await.unwrap().len(), 3);
    }
);

both!(
    a_running_job_does_not_absorb_a_new_job_with_its_dedupe_key,
    |ctx| {
        let s = &ctx.store;
        let key = Some("sync:compliance");
        let first = enqueue(s, job(COMPANY, "sync", "sync", key, t0())).await;
        let running = claim(s, "w", t0()).await.unwrap();
        assert_eq!(running.job.id, first);
        let second = enqueue(s, job(COMPANY, "sync", "sync", key, t0())).await;
        assert_ne!(second, first);
        s.complete_job(running.lease, t0()).await.unwrap();
        assert_eq!(drain(s, t0()).await, [second]);
    }
);

both!(
    a_job_going_back_to_pending_merges_into_the_pending_job_with_its_dedupe_key,
    |ctx| {
        let s = &ctx.store;
        let key = Some("sync:workforce");
        let failing = enqueue(s, job(COMPANY, "sync", "sync", key, t0())).await;
        let held = claim(s, "w", t0()).await.unwrap();
        let newer = enqueue(s, job(COMPANY, "sync", "sync", key, secs(600))).await;
        assert_eq!(
            s.fail_job(held.lease, secs(1), "503 from Procore", Some(secs(60)))
                .await
                .unwrap(),
            JobState::Pending
        );
        assert_eq!(s.job(COMPANY, failing).await.unwrap(), None);
        let merged = s.job(COMPANY, newer).await.unwrap().unwrap();
        assert_eq!(merged.state, JobState::Pending);
        assert_eq!(merged.run_at, secs(60), "the earlier time wins");
        assert_eq!(merged.last_error.as_deref(), Some("503 from Procore"));
        assert_eq!(drain(s, secs(60)).await, [newer]);
    }
);

both!(
    a_job_failing_its_last_attempt_is_dead_with_its_error_and_a_person_can_revive_it,
    |ctx| {
        let s = &ctx.store;
        let mut new = job(COMPANY, "upload", "uploads", None, t0());
        new.max_attempts = 2;
        let id = enqueue(s, new).await;
        let first = claim(s, "w", t0()).await.unwrap();
        assert_eq!(
            s.fail_job(first.lease, t0(), "503 from Procore", Some(secs(60)))
                .await
                .unwrap(),
            JobState::Pending
        );
        assert!(
            claim(s, "w", secs(59)).await.is_none(),
            "waits for its retry time"
        );
        let second = claim(s, "w", secs(60)).await.unwrap();
        assert_eq!(second.job.attempts, 2);
        assert_eq!(second.job.last_error.as_deref(), Some("503 from Procore"));
        assert_eq!(
            s.fail_job(second.lease, secs(61), "502 from Procore", Some(secs(120)))
                .await
                .unwrap(),
            JobState::Dead
        );
        assert!(claim(s, "w", secs(100_000)).await.is_none());
        let dead = s.job(COMPANY, id).await.unwrap().unwrap();
        assert_eq!(dead.state, JobState::Dead);
        assert_eq!(dead.last_error.as_deref(), Some("502 from Procore"));
        assert_eq!(dead.finished_at, Some(secs(61)));

        s.retry_job(COMPANY, id, secs(200)).await.unwrap();
        let revived = s.job(COMPANY, id).await.unwrap().unwrap();
        assert_eq!(
            (
                revived.state,
                revived.attempts,
                revived.run_at,
                revived.finished_at
            ),
            (JobState::Pending, 0, secs(200), None)
        );
        assert_eq!(claim(s, "w", secs(200)).await.unwrap().job.attempts, 1);
    }
);

both!(a_permanent_error_makes_a_job_dead_at_once, |ctx| {
    let s = &ctx.store;
    let id = enqueue(s, job(COMPANY, "upload", "uploads", None, t0())).await;
    let held = claim(s, "w", t0()).await.unwrap();
    assert_eq!(
        s.fail_job(held.lease, secs(1), "403: no permission", None)
            .await
            .unwrap(),
        JobState::Dead
    );
    let dead = s.job(COMPANY, id).await.unwrap().unwrap();
    assert_eq!((dead.attempts, dead.max_attempts), (1, 5));
    assert_eq!(dead.last_error.as_deref(), Some("403: no permission"));
    assert!(claim(s, "w", secs(100_000)).await.is_none());
});

both!(
    a_released_job_is_back_in_line_at_its_time_without_counting_the_attempt,
    |ctx| {
        let s = &ctx.store;
        let id = enqueue(s, job(COMPANY, "upload", "uploads", None, t0())).await;
        let held = claim(s, "w", t0()).await.unwrap();
        s.release_job(held.lease, secs(300)).await.unwrap();
        let back = s.job(COMPANY, id).await.unwrap().unwrap();
        assert_eq!(
            (back.state, back.attempts, back.run_at, back.lease_until),
            (JobState::Pending, 0, secs(300), None)
        );
        assert!(claim(s, "w", secs(299)).await.is_none());
        assert_eq!(claim(s, "w", secs(300)).await.unwrap().job.attempts, 1);
    }
);

both!(
    a_job_whose_worker_keeps_dying_is_dead_when_its_last_lease_runs_out,
    |ctx| {
        let s = &ctx.store;
        let mut new = job(COMPANY, "upload", "uploads", None, t0());
        new.max_attempts = 2;
        let id = enqueue(s, new).await;
        let next = enqueue(s, job(COMPANY, "upload", "uploads", None, t0())).await;
        claim(s, "a", t0()).await.unwrap();
        let last = claim(s, "b", secs(60)).await.unwrap();
        assert_eq!((last.job.id, last.job.attempts), (id, 2));

        let freed = claim(s, "c", secs(120)).await.unwrap();
        assert_eq!(freed.job.id, next, "the dead job no longer holds its lane");
        let dead = s.job(COMPANY, id).await.unwrap().unwrap();
        assert_eq!(dead.state, JobState::Dead);
        assert!(dead
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("lease")));
        assert!(lost(s.complete_job(last.lease, secs(121)).await));
    }
);

both!(
    a_person_retries_only_dead_or_pending_jobs_of_the_company_they_name,
    |ctx| {
        let s = &ctx.store;
        let running = enqueue(s, job(COMPANY, "k", "a", None, t0())).await;
        let done = enqueue(s, job(COMPANY, "k", "b", None, t0())).await;
        let pending = enqueue(s, job(COMPANY, "k", "c", None, secs(600))).await;
        claim(s, "w", t0()).await.unwrap();
        let d = claim(s, "w", t0()).await.unwrap();
        s.complete_job(d.lease, t0()).await.unwrap();

        assert!(matches!(
            s.retry_job(COMPANY, running, t0()).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            s.retry_job(COMPANY, done, t0()).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            s.retry_job(OTHER, pending, t0()).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            s.retry_job(COMPANY, 999_999, t0()).await,
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(s.job(OTHER, pending).await.unwrap(), None);

        s.retry_job(COMPANY, pending, secs(5)).await.unwrap();
        assert_eq!(
            s.job(COMPANY, pending).await.unwrap().unwrap().run_at,
            secs(5),
            "a pending job runs now"
        );
    }
);

both!(
    the_job_list_filters_newest_first_and_the_counts_cover_every_kind_and_state,
    |ctx| {
        let s = &ctx.store;
        let a = enqueue(s, job(COMPANY, "upload", "a", None, t0())).await;
        let b = enqueue(s, job(COMPANY, "sync", "b", None, t0())).await;
        let c = enqueue(s, job(OTHER, "upload", "a", None, t0())).await;
        let d = enqueue(s, job(COMPANY, "upload", "d", None, secs(600))).await;
        let held = claim(s, "w", t0()).await.unwrap();
        assert_eq!(held.job.id, a);
        s.complete_job(held.lease, t0()).await.unwrap();

        let ids = |jobs: Vec<store::Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
        assert_eq!(
            ids(s.jobs(&JobFilter::default()).await.unwrap()),
            [d, c, b, a]
        );
        let mine_uploads = JobFilter {
            company: Some(COMPANY),
            kind: Some("upload".into()),
            ..JobFilter::default()
        };
        assert_eq!(ids(s.jobs(&mine_uploads).await.unwrap()), [d, a]);
        let pending_one = JobFilter {
            state: Some(JobState::Pending),
            limit: 1,
            ..JobFilter::default()
        };
        assert_eq!(ids(s.jobs(&pending_one).await.unwrap()), [d]);

        let counts = s.job_counts().await.unwrap();
        assert_eq!(
            counts,
            [
                ("sync".to_string(), JobState::Pending, 1),
                ("upload".to_string(), JobState::Done, 1),
                ("upload".to_string(), JobState::Pending, 2),
            ]
        );
    }
);

both!(
    pruning_removes_done_jobs_finished_before_the_cutoff_and_keeps_dead_ones,
    |ctx| {
        let s = &ctx.store;
        let old = enqueue(s, job(COMPANY, "k", "a", None, t0())).await;
        let dead = enqueue(s, job(COMPANY, "k", "b", None, t0())).await;
        let recent = enqueue(s, job(COMPANY, "k", "c", None, t0())).await;
        let held = claim(s, "w", t0()).await.unwrap();
        s.complete_job(held.lease, secs(10)).await.unwrap();
        let held = claim(s, "w", t0()).await.unwrap();
        s.fail_job(held.lease, secs(10), "gone", None)
            .await
            .unwrap();
        let held = claim(s, "w", t0()).await.unwrap();
        s.complete_job(held.lease, secs(100)).await.unwrap();

        assert_eq!(s.prune_jobs(secs(50)).await.unwrap(), 1);
        assert_eq!(s.job(COMPANY, old).await.unwrap(), None);
        assert!(s.job(COMPANY, dead).await.unwrap().is_some());
        assert!(s.job(COMPANY, recent).await.unwrap().is_some());
    }
);

both!(
    four_processes_complete_every_job_once_and_never_run_two_jobs_of_a_lane_at_once,
    |ctx| {
        const JOBS: usize = 200;
        const LANES: usize = 20;
        // Each lane's jobs one after the other, so that a claimer that skips a job another
        // claimer holds meets the same lane's next job first.
        for i in 0..JOBS {
            let lane = i / (JOBS / LANES);
            let company = COMPANY + (lane % 2) as i64;
            enqueue(
                &ctx.store,
                job(company, "k", &format!("lane-{lane}"), None, t0()),
            )
            .await;
        }
        let running: Arc<Mutex<BTreeSet<(i64, String)>>> = Arc::default();
        let claims: Arc<Mutex<Vec<(i64, String, i64)>>> = Arc::default();
        let overlaps = Arc::new(AtomicUsize::new(0));
        let completed = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for w in 0..4 {
            // A separate pool, as another process has.
            let store = ctx.reopen(ctx.key()).await.unwrap();
            let (running, claims, overlaps, completed) = (
                running.clone(),
                claims.clone(),
                overlaps.clone(),
                completed.clone(),
            );
            workers.push(tokio::spawn(async move {
                let worker = format!("worker-{w}");
                while completed.load(Ordering::SeqCst) < JOBS {
                    let Some(c) = store.claim_job(&worker, t0(), LEASE).await.unwrap() else {
                        tokio::task::yield_now().await;
                        continue;
                    };
                    let lane = (c.job.company_id, c.job.lane.clone());
                    if !running.lock().unwrap().insert(lane.clone()) {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    claims
                        .lock()
                        .unwrap()
                        .push((lane.0, lane.1.clone(), c.job.id));
                    tokio::task::yield_now().await;
                    // Out of the set before the job is done in the database, so a claim of the
                    // lane's next job can never find it still there.
                    running.lock().unwrap().remove(&lane);
                    store.complete_job(c.lease, t0()).await.unwrap();
                    completed.fetch_add(1, Ordering::SeqCst);
                }
                store.close().await;
            }));
        }
        for w in workers {
            w.await.unwrap();
        }
        assert_eq!(
            overlaps.load(Ordering::SeqCst),
            0,
            "two jobs of a lane ran at once"
        );
        let claims = claims.lock().unwrap().clone();
        let ids: BTreeSet<i64> = claims.iter().map(|c| c.2).collect();
        assert_eq!(
            (claims.len(), ids.len()),
            (JOBS, JOBS),
            "every job exactly once"
        );
        let mut per_lane: BTreeMap<(i64, String), Vec<i64>> = BTreeMap::new();
        for (company, lane, id) in claims {
            per_lane.entry((company, lane)).or_default().push(id);
        }
        assert_eq!(per_lane.len(), LANES);
        for (lane, ids) in per_lane {
            assert!(ids.is_sorted(), "lane {lane:?} ran out of order: {ids:?}");
        }
        let done = JobFilter {
            state: Some(JobState::Done),
            limit: 1000,
            ..JobFilter::default()
        };
        assert_eq!(ctx.store.jobs(&done).await.unwrap().len(), JOBS);
    }
);

both!(jobs_older_than_a_page_are_listed_after_it, |ctx| {
    let s = &ctx.store;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(enqueue(s, job(COMPANY, "route", "route", None, secs(i))).await);
    }
    let page = |before| JobFilter {
        company: Some(COMPANY),
        before,
        limit: 2,
        ..JobFilter::default()
    };
    let first: Vec<i64> = s
        .jobs(&page(None))
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(first, [ids[4], ids[3]]);
    let second: Vec<i64> = s
        .jobs(&page(Some(ids[3])))
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(second, [ids[2], ids[1]]);
    let last = s.jobs(&page(Some(ids[1]))).await.unwrap();
    assert_eq!(last.iter().map(|j| j.id).collect::<Vec<_>>(), [ids[0]]);
});
