//! The work queue as a person sees it: the jobs `trestle serve` runs, and retrying one that
//! died (after fixing what killed it) or running a waiting one now.

use chrono::{DateTime, Utc};
use store::{Job, JobFilter, JobState, Store, StoreError};

/// Which jobs to list; `None` matches any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobQuery {
    pub company: Option<i64>,
    pub state: Option<JobState>,
    /// Only jobs older than this one: the next page after a page that ended there.
    pub before: Option<i64>,
    /// At most this many, newest first.
    pub limit: u32,
}

impl Default for JobQuery {
    fn default() -> Self {
        JobQuery {
            company: None,
            state: None,
            before: None,
            limit: 20,
        }
    }
}

/// The jobs matching `query`, newest first. Jobs of companies no longer connected are listed
/// too: their dead jobs say why their work stopped.
///
/// # Errors
/// The store failed.
pub async fn list(store: &Store, query: &JobQuery) -> Result<Vec<Job>, StoreError> {
    store
        .jobs(&JobFilter {
            company: query.company,
            state: query.state,
            kind: None,
            before: query.before,
            limit: query.limit,
        })
        .await
}

/// A job put back in the queue by a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retried {
    /// The job as it was before the retry (its state says whether it was dead or pending).
    pub job: Job,
    /// A pending job of the same kind was waiting already and took this one's place (the
    /// queue coalesces interchangeable work); its id.
    pub merged_into: Option<i64>,
}

/// Why a job was not retried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RetryError {
    /// No such job (of the company named, or of any connected company when none was).
    #[error("there is no job {id}{}", of_company(*company))]
    UnknownJob { id: i64, company: Option<i64> },
    /// Running jobs finish (or fail) on their own, and done ones have nothing left to do.
    #[error("job {id} is {}; only a dead or pending job can be retried or discarded", state.as_str())]
    NotRetryable { id: i64, state: JobState },
    #[error("the store: {0}")]
    Store(StoreError),
}

fn of_company(company: Option<i64>) -> String {
    company.map_or_else(
        || " of any connected company".into(),
        |c| format!(" of Procore company {c}"),
    )
}

impl From<StoreError> for RetryError {
    fn from(e: StoreError) -> Self {
        RetryError::Store(e)
    }
}

/// Makes a dead or pending job due at `now`, its attempts counted again from none. Without a
/// company the job is looked for among every connected company's (a job id is unique, so
/// naming the company only guards against a typo in the id).
///
/// # Errors
/// The job is unknown, running or done, or the store failed.
pub async fn retry(
    store: &Store,
    company: Option<i64>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Retried, RetryError> {
    let job = find(store, company, id)
        .await?
        .ok_or(RetryError::UnknownJob { id, company })?;
    if !matches!(job.state, JobState::Dead | JobState::Pending) {
        return Err(RetryError::NotRetryable {
            id,
            state: job.state,
        });
    }
    match store.retry_job(job.company_id, id, now).await {
        Ok(()) => {}
        // It changed between the read and the retry (a worker claimed or finished it).
        Err(StoreError::Conflict(_) | StoreError::NotFound { .. }) => {
            let state = store
                .job(job.company_id, id)
                .await?
                .map_or(JobState::Done, |j| j.state);
            return Err(RetryError::NotRetryable { id, state });
        }
        Err(e) => return Err(e.into()),
    }
    let merged_into = match store.job(job.company_id, id).await? {
        Some(_) => None,
        None => merged_with(store, &job).await?,
    };
    Ok(Retried { job, merged_into })
}

/// Discards a dead or pending job: the work is not done (a sync the next reconcile does
/// anyway, an upload of a form deleted since). Returns the job as it was.
///
/// # Errors
/// The job is unknown, running or done ([`RetryError::NotRetryable`] says which), or the
/// store failed.
pub async fn discard(store: &Store, company: Option<i64>, id: i64) -> Result<Job, RetryError> {
    let job = find(store, company, id)
        .await?
        .ok_or(RetryError::UnknownJob { id, company })?;
    if !store.discard_job(job.company_id, id).await? {
        let state = store
            .job(job.company_id, id)
            .await?
            .map_or(JobState::Done, |j| j.state);
        return Err(RetryError::NotRetryable { id, state });
    }
    Ok(job)
}

async fn find(store: &Store, company: Option<i64>, id: i64) -> Result<Option<Job>, StoreError> {
    if let Some(company) = company {
        return store.job(company, id).await;
    }
    for connection in store.connections().await? {
        if let Some(job) = store.job(connection.company_id, id).await? {
            return Ok(Some(job));
        }
    }
    Ok(None)
}

/// The pending job that absorbed `job` when it went back to the queue: the company's pending
/// job with the same dedupe key.
async fn merged_with(store: &Store, job: &Job) -> Result<Option<i64>, StoreError> {
    let pending = store
        .jobs(&JobFilter {
            company: Some(job.company_id),
            state: Some(JobState::Pending),
            kind: Some(job.kind.clone()),
            before: None,
            limit: 100,
        })
        .await?;
    Ok(pending
        .into_iter()
        .find(|p| p.dedupe_key.is_some() && p.dedupe_key == job.dedupe_key)
        .map(|p| p.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::SecretKey;
    use sync::jobs::{enqueue, Work};

    async fn store_in(dir: &std::path::Path) -> Store {
        let url = format!("sqlite://{}?mode=rwc", dir.join("trestle.sqlite").display());
        Store::open(&url, SecretKey::generate()).await.unwrap()
    }

    #[tokio::test]
    async fn a_dead_job_retried_while_the_same_work_waits_says_which_job_took_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path()).await;
        let now = Utc::now();
        let dead = enqueue(&store, 7, &Work::Hook, now, 1).await.unwrap().id();
        let claimed = store
            .claim_job("test", now, std::time::Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        store
            .fail_job(claimed.lease, now, "refused", None)
            .await
            .unwrap();
        let waiting = enqueue(&store, 7, &Work::Hook, now, 3).await.unwrap().id();
        assert_ne!(dead, waiting);

        let retried = retry(&store, Some(7), dead, now).await.unwrap();
        assert_eq!(retried.job.state, JobState::Dead, "as it was");
        assert_eq!(retried.merged_into, Some(waiting));
    }

    #[tokio::test]
    async fn a_job_of_another_company_is_unknown_to_this_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path()).await;
        let id = enqueue(&store, 7, &Work::Route, Utc::now(), 3)
            .await
            .unwrap()
            .id();
        let err = retry(&store, Some(8), id, Utc::now()).await.unwrap_err();
        assert!(
            matches!(
                err,
                RetryError::UnknownJob {
                    company: Some(8),
                    ..
                }
            ),
            "{err:?}"
        );
        let err = retry(&store, None, id, Utc::now()).await.unwrap_err();
        assert!(
            matches!(err, RetryError::UnknownJob { company: None, .. }),
            "company 7 is not connected, so it is not looked in: {err:?}"
        );
    }
}
