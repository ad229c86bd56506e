//! What each kind of job (`sync::jobs::Work`) does when a worker runs it.

use crate::Shared;
use chrono::{DateTime, Utc};
use engine::run::{Reads, RunOptions};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use store::{Connection, HealthState, Store};
use sync::jobs::{integrations, new_job, Integration, Work};
use sync::webhooks::{route, Targets, HOOK_GAP};

/// A company's client and a digest of the credentials it was built with.
type Cached = ([u8; 32], procore::Client);

/// Procore clients by company, kept for the life of the process: one token cache and one
/// rate-limit pacer per Procore app and company, whichever job is asking. A connection saved
/// again with other credentials gets a new client.
#[derive(Clone)]
pub(crate) struct ClientCache {
    build: crate::Clients,
    clients: Arc<Mutex<HashMap<i64, Cached>>>,
}

impl ClientCache {
    pub fn new(build: crate::Clients) -> Self {
        ClientCache {
            build,
            clients: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn get(&self, connection: &Connection) -> Result<procore::Client, String> {
        let mut hash = Sha256::new();
        hash.update(connection.client_id.as_bytes());
        hash.update([0]);
        hash.update(connection.client_secret.expose_secret().as_bytes());
        let identity: [u8; 32] = hash.finalize().into();
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((known, client)) = clients.get(&connection.company_id) {
            if *known == identity {
                return Ok(client.clone());
            }
        }
        let client = (self.build)(connection)?;
        clients.insert(connection.company_id, (identity, client.clone()));
        Ok(client)
    }

    /// Every client made so far, for the metrics.
    pub fn all(&self) -> Vec<(i64, procore::Client)> {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.iter().map(|(c, (_, k))| (*c, k.clone())).collect()
    }
}

/// Why a job failed, and what it says about the company's health.
#[derive(Debug)]
pub(crate) struct Failure {
    pub message: String,
    /// Trying again later may help (Procore unavailable, rate limited); otherwise the job is
    /// dead at once and waits for a person.
    pub retry: bool,
}

impl Failure {
    fn permanent(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retry: false,
        }
    }
}

impl From<store::StoreError> for Failure {
    fn from(e: store::StoreError) -> Self {
        // A lost lease is not retried by this holder: someone else holds the job now.
        let retry = !matches!(e, store::StoreError::LeaseLost);
        Failure {
            message: format!("the store: {e}"),
            retry,
        }
    }
}

/// Runs one job with `store` (fenced by the job's lease). `Ok` carries a one-line summary.
pub(crate) async fn run(
    shared: &Shared,
    store: &Store,
    company: i64,
    work: &Work,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    match work {
        Work::Route => route_deliveries(shared, store, company, now).await,
        Work::Hook => check_hook(shared, store, company, now).await,
        Work::Sync {
            integration,
            full,
            targets,
        } => {
            sync(
                shared,
                store,
                company,
                *integration,
                *full,
                targets.as_ref(),
                now,
            )
            .await
        }
    }
}

/// Reads the stored deliveries (oldest first, in batches), turns them into the records to read
/// and enqueues one sync of those per integration that follows them, then marks them done.
/// A crash before the marking makes the next routing read them again: a second read of the
/// same records, which changes nothing twice.
async fn route_deliveries(
    shared: &Shared,
    store: &Store,
    company: i64,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    let service_account = store
        .cursor(company, sync::workforce::collect::SERVICE_ACCOUNT)
        .await?
        .and_then(|v| v.parse().ok());
    let on = integrations(store, company).await?;
    let mut routed_total = 0;
    let mut own = 0;
    loop {
        let batch = store.unprocessed_deliveries(company, 500).await?;
        if batch.is_empty() {
            break;
        }
        let parsed: Vec<_> = batch
            .iter()
            .filter_map(|d| procore::webhook::parse(d.body_json.as_bytes()).ok())
            .collect();
        let routed = route(&parsed, service_account);
        own += routed.own;
        let workforce = routed.targets.workforce();
        if on.workforce && !workforce.is_empty() {
            enqueue_sync(
                shared,
                store,
                company,
                Integration::Workforce,
                workforce,
                now,
            )
            .await?;
        }
        if on.compliance && !routed.targets.is_empty() {
            enqueue_sync(
                shared,
                store,
                company,
                Integration::Compliance,
                routed.targets,
                now,
            )
            .await?;
        }
        let ids: Vec<i64> = batch.iter().map(|d| d.id).collect();
        store.mark_deliveries_processed(company, &ids, now).await?;
        routed_total += batch.len();
    }
    shared.wake.notify_waiters();
    Ok(format!(
        "{routed_total} deliveries routed ({own} about trestle's own writes)"
    ))
}

async fn enqueue_sync(
    shared: &Shared,
    store: &Store,
    company: i64,
    integration: Integration,
    targets: Targets,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let work = Work::Sync {
        integration,
        full: false,
        targets: Some(targets),
    };
    store
        .enqueue_job(&new_job(company, &work, now, shared.config.job_attempts))
        .await?;
    Ok(())
}

async fn connection(store: &Store, company: i64) -> Result<Connection, Failure> {
    store.connection(company).await?.ok_or_else(|| {
        Failure::permanent(format!(
            "Procore company {company} is no longer connected; its work was dropped"
        ))
    })
}

async fn check_hook(
    shared: &Shared,
    store: &Store,
    company: i64,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    let Some(public_url) = shared.config.public_url.as_deref() else {
        return Ok("no public URL: no hook".into());
    };
    let connection = connection(store, company).await?;
    let client = shared
        .clients
        .get(&connection)
        .map_err(Failure::permanent)?;
    let destination = sync::webhooks::destination_url(public_url, company);
    let on = integrations(store, company).await?;
    let outcome = sync::webhooks::ensure_hook(&client, store, company, &destination, on, now)
        .await
        .map_err(|e| e.to_string());
    // A hook that had to be made or completed (or whose check failed part way) delivered
    // nothing of the events it lacked: this opens the gap, which stays open until a reconcile
    // has read what changed meanwhile.
    sync::webhooks::record_hook_check(
        store,
        company,
        outcome.as_ref().map_err(String::as_str),
        now,
    )
    .await?;
    match outcome {
        Ok(report) => {
            let gap =
                sync::webhooks::queue_gap_reads(store, company, now, shared.config.job_attempts)
                    .await?;
            if gap {
                shared.wake.notify_waiters();
            }
            let reconcile = if gap {
                "; a reconcile reads what it could not deliver"
            } else {
                ""
            };
            Ok(if report.repaired() {
                format!(
                    "hook repaired: {} triggers added, {} removed{}{reconcile}",
                    report.triggers_added.len(),
                    report.triggers_removed.len(),
                    if report.created { ", hook created" } else { "" }
                )
            } else {
                format!("hook in place{reconcile}")
            })
        }
        // Checking is idempotent (it reads what is there before changing it), so any failure,
        // an unknown write outcome included, is worth another try.
        Err(message) => Err(Failure {
            message,
            retry: true,
        }),
    }
}

/// When the company's discarded deliveries were last looked at.
const DISCARDS_CHECKED: &str = "service.discards_checked";

/// Whether the company's hook brings its commitment changes, so a reconcile may leave
/// commitments to it: the hook is registered, and Procore gave up on none of its deliveries
/// since the last look (a delivery Procore could not make for 12 hours is discarded, and its
/// change must then be read). `Some(now)` when covered, to record as the last look once the
/// sync succeeded; `None` (read everything) when not, or when Procore cannot say.
async fn webhooks_cover(
    shared: &Shared,
    store: &Store,
    client: &procore::Client,
    company: i64,
) -> Result<Option<DateTime<Utc>>, Failure> {
    if shared.config.public_url.is_none() {
        return Ok(None);
    }
    let Some(hook_id) = store.hook_record(company).await?.and_then(|r| r.hook_id) else {
        return Ok(None);
    };
    if !store
        .cursor(company, HOOK_GAP)
        .await?
        .unwrap_or_default()
        .is_empty()
    {
        return Ok(None);
    }
    let now = Utc::now();
    let last: Option<DateTime<Utc>> = store
        .cursor(company, DISCARDS_CHECKED)
        .await?
        .and_then(|v| v.parse().ok());
    let Ok(discarded) = client
        .webhooks()
        .discarded_deliveries(procore::HookId(hook_id))
        .await
    else {
        return Ok(None);
    };
    let missed = discarded.iter().any(|d| match (d.completed_at, last) {
        (Some(at), Some(last)) => at > last,
        _ => true,
    });
    Ok((!missed).then_some(now))
}

/// The outbox kinds each integration's sync drains.
fn write_kinds(integration: Integration) -> &'static [&'static str] {
    match integration {
        Integration::Workforce => &[sync::workforce::run::UPLOAD_FORM],
        Integration::Compliance => &[
            sync::compliance::WRITE_INSURANCE,
            sync::compliance::REMOVE_INSURANCE,
        ],
    }
}

/// A write the sync left in the outbox (waiting out its retry delay, or leased by a process
/// that stopped) gets a drain job at the time it is due, so it is not left to the next
/// reconcile. At least `retry_base` away: a write failing at once is not retried in a loop.
async fn come_back_for_writes(
    shared: &Shared,
    store: &Store,
    company: i64,
    integration: Integration,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let Some(due) = store
        .outbox_next_due(company, write_kinds(integration))
        .await?
    else {
        return Ok(());
    };
    let soonest = now
        + chrono::Duration::from_std(shared.config.retry_base).unwrap_or(chrono::Duration::zero());
    let work = Work::Sync {
        integration,
        full: false,
        targets: Some(Targets::default()),
    };
    store
        .enqueue_job(&new_job(
            company,
            &work,
            due.max(soonest),
            shared.config.job_attempts,
        ))
        .await?;
    Ok(())
}

async fn sync(
    shared: &Shared,
    store: &Store,
    company: i64,
    integration: Integration,
    full: bool,
    targets: Option<&Targets>,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    let connection = connection(store, company).await?;
    let client = shared
        .clients
        .get(&connection)
        .map_err(Failure::permanent)?;
    let aspect = format!("sync.{}", integration.as_str());
    // A reconcile of the compliance integration leaves commitments to the hook while it
    // delivers them (`webhooks_cover`); everything else reads what the job asked.
    let covered = match (integration, targets) {
        (Integration::Compliance, None) if !full => {
            webhooks_cover(shared, store, &client, company).await?
        }
        _ => None,
    };
    let reads = match (targets, full, covered) {
        (Some(t), _, _) => Reads::Targets(t.clone()),
        (None, true, _) => Reads::Whole,
        (None, false, Some(_)) => Reads::Directory,
        (None, false, None) => Reads::Changed,
    };
    let options = RunOptions {
        reads,
        // The job's lane makes this the only drainer of the company's outbox among the
        // servers, so a lease left in it is a dead process's: take it back now, not when it
        // runs out.
        reclaim_leases: true,
        today: Some(now.date_naive()),
        ..RunOptions::default()
    };
    // The compliance reconcile closes the hook's gap (the workforce one when compliance is
    // off): it is the one that would otherwise leave commitments to the hook.
    let closes_gap = matches!(options.reads, Reads::Changed | Reads::Whole)
        && (integration == Integration::Compliance
            || !integrations(store, company).await?.compliance);
    let gap = store.cursor(company, HOOK_GAP).await?.unwrap_or_default();
    let outcome = engine::run::run(store, &client, &connection, integration, options).await;
    // What the hook missed is read now; a gap opened during the run stays open.
    if outcome.is_ok()
        && closes_gap
        && !gap.is_empty()
        && store.cursor(company, HOOK_GAP).await?.unwrap_or_default() == gap
    {
        store.set_cursor(company, HOOK_GAP, "").await?;
    }
    if let (Ok(_), Some(checked)) = (&outcome, covered) {
        store
            .set_cursor(company, DISCARDS_CHECKED, &checked.to_rfc3339())
            .await?;
    }
    let outcome = outcome.map(|r| (r.summary_line(), r.failures().to_vec()));
    if outcome.is_ok() {
        come_back_for_writes(shared, store, company, integration, now).await?;
    }
    match outcome {
        Ok((summary, failures)) if failures.is_empty() => {
            store.clear_health(company, &aspect).await?;
            Ok(summary)
        }
        Ok((summary, failures)) => {
            store
                .set_health(
                    company,
                    &aspect,
                    HealthState::Degraded,
                    &format!("{} Procore writes failed: {}", failures.len(), failures[0]),
                    "they are tried again with backoff; the run log says what Procore answered",
                    now,
                )
                .await?;
            Ok(format!(
                "{summary}; {} Procore writes failed and wait for their retry",
                failures.len()
            ))
        }
        Err(e) => {
            let message = e.to_string();
            let (state, remedy) = match &e {
                sync::SyncError::Procore(
                    procore::Error::Unauthorized { .. } | procore::Error::ReconnectNeeded { .. },
                ) => (
                    HealthState::Failing,
                    "connect the company again with the current client id and secret",
                ),
                sync::SyncError::Procore(procore::Error::RateLimited { .. }) => (
                    HealthState::Degraded,
                    "Procore's hourly request budget is spent; the work waits and runs when it returns",
                ),
                _ if e.is_about_the_connection() => (
                    HealthState::Degraded,
                    "Procore or the network is unavailable; the work is retried with backoff",
                ),
                _ => (
                    HealthState::Failing,
                    "see the error; fix what it names in Procore or in trestle's settings, then retry the job",
                ),
            };
            let aspect = match &e {
                sync::SyncError::Procore(
                    procore::Error::Unauthorized { .. } | procore::Error::ReconnectNeeded { .. },
                ) => "credentials".to_string(),
                sync::SyncError::Procore(procore::Error::RateLimited { .. }) => {
                    "rate_limit".to_string()
                }
                _ => aspect,
            };
            store
                .set_health(company, &aspect, state, &message, remedy, now)
                .await?;
            Err(Failure {
                message,
                retry: true,
            })
        }
    }
}
