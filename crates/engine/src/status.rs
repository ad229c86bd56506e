//! Each connected company's state as the operator checks it: its health, its webhook, its
//! queue and its last syncs, read from the store alone. Asking Procore would make the check
//! slow, spend the company's request budget, and fail when Procore does, which is exactly when
//! the answer is wanted; the workers and hook checks keep what is read here up to date.

use crate::hooks::connections;
use crate::open::OpenError;
use crate::Integration;
use chrono::{DateTime, Utc};
use store::{HealthEntry, HealthState, Job, JobFilter, JobState, Run, Store, StoreError};

/// How many dead jobs a status shows, newest first.
pub const DEAD_SHOWN: u32 = 5;

/// Jobs of one state are counted up to this many; a queue longer than that is reported as
/// "at least" it (the count is for a person, who needs to know it is long, not how long).
pub const COUNT_CAP: u32 = 1000;

/// How many of a company's latest runs are looked through for each integration's last real
/// (not dry) one.
const RUNS_LOOKED_AT: u32 = 200;

/// One connected company's state.
#[derive(Debug, Clone)]
pub struct CompanyStatus {
    pub company_id: i64,
    /// What the workers found wrong (entries in state `ok` are left out); empty when healthy.
    pub health: Vec<HealthEntry>,
    pub webhook: WebhookStatus,
    pub queue: QueueStatus,
    /// The last real run of each integration the company has on.
    pub last_runs: Vec<LastRun>,
}

impl CompanyStatus {
    /// The worst state of the company's health entries; `Ok` without any.
    pub fn state(&self) -> HealthState {
        self.health
            .iter()
            .map(|h| h.state)
            .max()
            .unwrap_or(HealthState::Ok)
    }
}

/// The company's webhook as recorded by the last registration or check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookStatus {
    /// Where the settings want it to deliver; `None` without `server.public_url`.
    pub wanted_url: Option<String>,
    /// What was registered in Procore; `None` when none is recorded.
    pub registered: Option<RegisteredHook>,
}

impl WebhookStatus {
    /// Whether a hook is registered where the settings want one.
    pub fn in_place(&self) -> bool {
        match (&self.wanted_url, &self.registered) {
            (Some(wanted), Some(hook)) => hook.hook_id.is_some() && &hook.destination_url == wanted,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredHook {
    /// Procore's id of the hook; `None` when its creation did not finish.
    pub hook_id: Option<i64>,
    pub destination_url: String,
    /// When the hook was last seen in Procore as recorded.
    pub checked_at: Option<DateTime<Utc>>,
}

/// The company's jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatus {
    /// Jobs by state, each at most [`COUNT_CAP`], in [`JobState::ALL`]'s order.
    pub counts: Vec<(JobState, Count)>,
    /// The newest dead jobs (at most [`DEAD_SHOWN`]), whose last errors say why they died.
    pub dead: Vec<Job>,
}

impl QueueStatus {
    /// The count of `state`.
    pub fn count(&self, state: JobState) -> Count {
        self.counts
            .iter()
            .find(|(s, _)| *s == state)
            .map_or(Count::default(), |(_, c)| *c)
    }
}

/// A number of jobs, exact below [`COUNT_CAP`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub n: u32,
    /// There are at least `n`, maybe more.
    pub at_least: bool,
}

/// The last real run of one integration.
#[derive(Debug, Clone)]
pub struct LastRun {
    pub integration: Integration,
    /// `None`: it has not run yet (or not among the company's latest runs).
    pub run: Option<Run>,
    /// What the run did; `None` when it did not finish (it is running, or its process stopped)
    /// or its summary cannot be read.
    pub summary: Option<RunSummary>,
}

/// A finished run's summary, as the integration wrote it.
#[derive(Debug, Clone)]
pub enum RunSummary {
    Workforce(sync::workforce::Summary),
    Compliance(sync::compliance::Summary),
}

/// Why a status could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("the store: {0}")]
    Store(StoreError),
}

impl From<StoreError> for StatusError {
    fn from(e: StoreError) -> Self {
        StatusError::Store(e)
    }
}

/// The state of `company`, or of every connected company with `None` (by company id).
/// `public_url` is `server.public_url`, where each company's hook should point.
///
/// # Errors
/// The company named is not connected, or the store failed.
pub async fn status(
    public_url: Option<&str>,
    store: &Store,
    company: Option<i64>,
) -> Result<Vec<CompanyStatus>, StatusError> {
    let mut all = Vec::new();
    for connection in connections(store, company).await? {
        all.push(company_status(public_url, store, connection.company_id).await?);
    }
    Ok(all)
}

async fn company_status(
    public_url: Option<&str>,
    store: &Store,
    company: i64,
) -> Result<CompanyStatus, StoreError> {
    let health = store
        .health(Some(company))
        .await?
        .into_iter()
        .filter(|h| h.state != HealthState::Ok)
        .collect();
    let registered = store.hook_record(company).await?.map(|r| RegisteredHook {
        hook_id: r.hook_id,
        destination_url: r.destination_url,
        checked_at: r.checked_at,
    });
    let webhook = WebhookStatus {
        wanted_url: public_url.map(|p| sync::webhooks::destination_url(p, company)),
        registered,
    };
    Ok(CompanyStatus {
        company_id: company,
        health,
        webhook,
        queue: queue(store, company).await?,
        last_runs: last_runs(store, company).await?,
    })
}

async fn queue(store: &Store, company: i64) -> Result<QueueStatus, StoreError> {
    let mut counts = Vec::new();
    let mut dead = Vec::new();
    for state in JobState::ALL {
        let jobs = store
            .jobs(&JobFilter {
                company: Some(company),
                state: Some(state),
                kind: None,
                before: None,
                limit: COUNT_CAP,
            })
            .await?;
        let n = u32::try_from(jobs.len()).unwrap_or(COUNT_CAP);
        counts.push((
            state,
            Count {
                n,
                at_least: n >= COUNT_CAP,
            },
        ));
        if state == JobState::Dead {
            dead = jobs.into_iter().take(DEAD_SHOWN as usize).collect();
        }
    }
    Ok(QueueStatus { counts, dead })
}

async fn last_runs(store: &Store, company: i64) -> Result<Vec<LastRun>, StoreError> {
    let on = sync::jobs::integrations(store, company).await?;
    let runs = store.runs(company, None, RUNS_LOOKED_AT).await?;
    let mut last = Vec::new();
    for (integration, is_on) in [
        (Integration::Workforce, on.workforce),
        (Integration::Compliance, on.compliance),
    ] {
        if !is_on {
            continue;
        }
        let run = runs
            .iter()
            .find(|r| !r.dry_run && r.integration == integration.as_str())
            .cloned();
        let summary = run.as_ref().and_then(|r| summary_of(integration, r));
        last.push(LastRun {
            integration,
            run,
            summary,
        });
    }
    Ok(last)
}

fn summary_of(integration: Integration, run: &Run) -> Option<RunSummary> {
    run.finished_at?;
    let json = run.summary_json.as_deref()?;
    match integration {
        Integration::Workforce => serde_json::from_str(json).ok().map(RunSummary::Workforce),
        Integration::Compliance => serde_json::from_str(json).ok().map(RunSummary::Compliance),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(url: &str, id: Option<i64>) -> Option<RegisteredHook> {
        Some(RegisteredHook {
            hook_id: id,
            destination_url: url.into(),
            checked_at: None,
        })
    }

    #[test]
    fn a_hook_is_in_place_only_when_procore_has_it_at_the_address_the_settings_want() {
        let wanted = Some("https://t.example/webhooks/procore/1".to_string());
        let status = |wanted: &Option<String>, registered| WebhookStatus {
            wanted_url: wanted.clone(),
            registered,
        };
        assert!(status(
            &wanted,
            hook("https://t.example/webhooks/procore/1", Some(5))
        )
        .in_place());
        assert!(!status(
            &wanted,
            hook("https://old.example/webhooks/procore/1", Some(5))
        )
        .in_place());
        assert!(
            !status(&wanted, hook("https://t.example/webhooks/procore/1", None)).in_place(),
            "a creation that did not finish"
        );
        assert!(!status(&wanted, None).in_place());
        assert!(!status(&None, hook("https://t.example/webhooks/procore/1", Some(5))).in_place());
    }

    #[test]
    fn a_company_is_as_healthy_as_its_worst_entry() {
        let entry = |aspect: &str, state| HealthEntry {
            company_id: 1,
            aspect: aspect.into(),
            state,
            problem: String::new(),
            remedy: String::new(),
            since: Utc::now(),
            updated_at: Utc::now(),
        };
        let mut company = CompanyStatus {
            company_id: 1,
            health: Vec::new(),
            webhook: WebhookStatus {
                wanted_url: None,
                registered: None,
            },
            queue: QueueStatus {
                counts: Vec::new(),
                dead: Vec::new(),
            },
            last_runs: Vec::new(),
        };
        assert_eq!(company.state(), HealthState::Ok);
        company.health = vec![
            entry("rate_limit", HealthState::Degraded),
            entry("credentials", HealthState::Failing),
            entry("webhook", HealthState::Degraded),
        ];
        assert_eq!(company.state(), HealthState::Failing);
    }
}
