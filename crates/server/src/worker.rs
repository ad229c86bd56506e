//! The workers: each claims a job, runs it with a store fenced by the job's lease while a
//! heartbeat keeps the lease, and completes, retries or buries it.
//!
//! Every write a job makes goes through `Store::fenced`, which checks the lease inside the
//! write's own transaction: a worker that stalled past its lease (a long pause, a network
//! partition from the database) and lost the job to another process cannot write anything
//! more for it, not even its completion. The heartbeat learning the lease is gone stops the
//! job at once.

use crate::work;
use crate::Shared;
use chrono::Utc;
use rand::Rng;
use std::time::Instant;
use store::{Claimed, StoreError};
use sync::jobs::Work;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub(crate) struct Workers {
    tasks: JoinSet<()>,
}

impl Workers {
    /// Waits for every worker to stop (after a stop was asked for).
    pub async fn stopped(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts [`crate::ServerConfig::workers`] workers that run until `stop` is cancelled.
pub(crate) fn spawn(shared: Shared, stop: CancellationToken) -> Workers {
    let mut tasks = JoinSet::new();
    for n in 0..shared.config.workers.max(1) {
        tasks.spawn(work_loop(shared.clone(), stop.clone(), n));
    }
    Workers { tasks }
}

async fn work_loop(shared: Shared, stop: CancellationToken, n: usize) {
    let name = format!("{}/{n}", shared.config.worker_name);
    while !stop.is_cancelled() {
        let claimed = shared
            .store
            .claim_job(&name, Utc::now(), shared.config.lease)
            .await;
        match claimed {
            Ok(Some(claimed)) => run_claimed(&shared, claimed, &stop).await,
            Ok(None) => {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = shared.wake.notified() => {}
                    () = tokio::time::sleep(shared.config.poll_every) => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not claim a job; trying again");
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = tokio::time::sleep(shared.config.poll_every) => {}
                }
            }
        }
    }
}

/// How a claimed job ended for this worker.
enum Ended {
    Ran(Result<String, work::Failure>),
    /// The heartbeat found the lease taken: another process holds the job now.
    LeaseLost,
    /// A stop was asked for and the grace period ran out.
    Abandoned,
}

async fn run_claimed(shared: &Shared, claimed: Claimed, stop: &CancellationToken) {
    let Claimed { job, lease } = claimed;
    let store = shared.store.fenced(lease);
    let work: Work = match serde_json::from_str(&job.payload_json) {
        Ok(w) => w,
        Err(e) => {
            let message = format!(
                "the job's payload cannot be read ({e}); a newer trestle may have written it"
            );
            if let Err(e) = shared
                .store
                .fail_job(lease, Utc::now(), &message, None)
                .await
            {
                tracing::warn!(job = job.id, error = %e, "could not bury an unreadable job");
            }
            return;
        }
    };
    let started = Instant::now();
    let config = &shared.config;
    let run = work::run(shared, &store, job.company_id, &work, Utc::now());
    let heartbeat = async {
        loop {
            tokio::time::sleep(config.lease / 3).await;
            match shared
                .store
                .heartbeat_job(lease, Utc::now(), config.lease)
                .await
            {
                Err(StoreError::LeaseLost) => return,
                Err(e) => tracing::warn!(job = job.id, error = %e, "heartbeat failed"),
                Ok(()) => {}
            }
        }
    };
    let grace = async {
        stop.cancelled().await;
        tokio::time::sleep(config.shutdown_grace).await;
    };
    let ended = tokio::select! {
        r = run => Ended::Ran(r),
        () = heartbeat => Ended::LeaseLost,
        () = grace => Ended::Abandoned,
    };
    let now = Utc::now();
    let kind = work.kind();
    let outcome = match ended {
        Ended::Ran(Ok(summary)) => {
            tracing::info!(job = job.id, company = job.company_id, kind, "{summary}");
            shared.store.complete_job(lease, now).await.map(|()| "done")
        }
        Ended::Ran(Err(failure)) => {
            let retry_at = failure.retry.then(|| {
                let delay = store::retry_delay(
                    job.attempts,
                    config.retry_base,
                    config.retry_cap,
                    rand::rng().random::<f64>(),
                );
                now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1))
            });
            tracing::warn!(job = job.id, company = job.company_id, kind, error = %failure.message, "job failed");
            shared
                .store
                .fail_job(lease, now, &failure.message, retry_at)
                .await
                .map(|state| match state {
                    store::JobState::Dead => "dead",
                    _ => "retry",
                })
        }
        Ended::LeaseLost => {
            tracing::warn!(
                job = job.id,
                kind,
                "lost the job's lease to another worker; stopped it"
            );
            Ok("lease_lost")
        }
        Ended::Abandoned => shared
            .store
            .release_job(lease, now)
            .await
            .map(|()| "released"),
    };
    match outcome {
        Ok(outcome) => shared
            .metrics
            .job_finished(&kind, outcome, started.elapsed()),
        Err(e) => tracing::warn!(job = job.id, error = %e, "could not record how the job ended"),
    }
}
