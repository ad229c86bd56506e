//! The company's Procore webhook as the operator handles it: registered (or repaired) after a
//! connect and on demand, removed when a company is disconnected.
//!
//! A hook is wanted only when `server.public_url` says where Procore can reach trestle. Its
//! failures never undo what they follow: a connection without a hook still syncs at every
//! reconcile, only later. So each outcome here is a value to report, and the company's
//! `webhook` health says the same to whoever looks at the status later.

use crate::open::{client_for, OpenError};
use crate::settings::Settings;
use chrono::{DateTime, Utc};
use store::{Connection, Store, StoreError};
use sync::webhooks::{destination_url, ensure_hook, remove_hook, HookReport};

/// The health aspect a hook's problems are kept under (the server's hook checks use it too).
pub use sync::webhooks::HEALTH_ASPECT;

/// What registering or repairing a company's hook came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookOutcome {
    /// `server.public_url` is not set: Procore has nowhere to deliver, so no hook is wanted.
    NoPublicUrl,
    /// The hook delivers to `destination_url` with the triggers the company's integrations
    /// need; `report` says what had to change for that (nothing, when it was in place).
    InPlace {
        destination_url: String,
        report: HookReport,
    },
    /// Procore refused or could not be reached; the company's work goes on without webhooks.
    Failed {
        destination_url: String,
        /// Procore's answer or the transport's error, as a person reads it.
        error: String,
    },
}

impl HookOutcome {
    /// Whether this is a failure to report.
    pub fn failed(&self) -> bool {
        matches!(self, HookOutcome::Failed { .. })
    }
}

/// Where the settings want the company's hook to deliver; `None` without `server.public_url`.
pub fn wanted_url(settings: &Settings, company: i64) -> Option<String> {
    let public = settings.server.public_url.as_ref()?;
    Some(destination_url(public.as_str(), company))
}

/// Registers the company's hook, or repairs it (its address, secret or triggers), when
/// `server.public_url` is set. Success clears the company's `webhook` health; a failure sets
/// it, so the status shows it until the next check passes.
///
/// # Errors
/// Only the store failing while recording the health; Procore's failures are the outcome.
pub async fn ensure(
    settings: &Settings,
    store: &Store,
    connection: &Connection,
    now: DateTime<Utc>,
) -> Result<HookOutcome, StoreError> {
    let client = client_for(settings, connection, store).map_err(|e| e.to_string());
    register(
        settings,
        store,
        client.as_ref().map_err(String::as_str),
        connection.company_id,
        now,
    )
    .await
}

/// [`ensure`] with a client already made (or the reason none could be).
pub(crate) async fn register(
    settings: &Settings,
    store: &Store,
    client: Result<&procore::Client, &str>,
    company: i64,
    now: DateTime<Utc>,
) -> Result<HookOutcome, StoreError> {
    let Some(destination_url) = wanted_url(settings, company) else {
        return Ok(HookOutcome::NoPublicUrl);
    };
    let attempt = async {
        let client = client.map_err(str::to_string)?;
        let on = sync::jobs::integrations(store, company)
            .await
            .map_err(|e| format!("the store: {e}"))?;
        ensure_hook(client, store, company, &destination_url, on, now)
            .await
            .map_err(|e| e.to_string())
    };
    let outcome = attempt.await;
    sync::webhooks::record_hook_check(
        store,
        company,
        outcome.as_ref().map_err(String::as_str),
        now,
    )
    .await?;
    match outcome {
        Ok(report) => Ok(HookOutcome::InPlace {
            destination_url,
            report,
        }),
        Err(error) => Ok(HookOutcome::Failed {
            destination_url,
            error,
        }),
    }
}

/// One company's hook, checked and repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    pub company_id: i64,
    pub outcome: HookOutcome,
}

/// Why hooks could not be checked, or a company disconnected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HooksError {
    /// Without an address Procore can reach, there is no hook to check.
    #[error("server.public_url (TRESTLE_SERVER__PUBLIC_URL) is not set: Procore has no address to deliver webhooks to, so no hook was checked")]
    NoPublicUrl,
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("the store: {0}")]
    Store(StoreError),
}

impl From<StoreError> for HooksError {
    fn from(e: StoreError) -> Self {
        HooksError::Store(e)
    }
}

/// Checks and repairs the hook of `company`, or of every connected company with `None`. One
/// company's failure does not stop the others'; each is in its outcome. A hook that had to be
/// repaired delivered nothing meanwhile, so while its gap is open a sync of each integration
/// the company has on is queued to read what changed (whichever `trestle serve` shares the
/// store runs it).
///
/// # Errors
/// No `server.public_url`, the company named is not connected, or the store failed.
pub async fn repair(
    settings: &Settings,
    store: &Store,
    company: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<Repaired>, HooksError> {
    if settings.server.public_url.is_none() {
        return Err(HooksError::NoPublicUrl);
    }
    let connections = connections(store, company).await?;
    let mut repaired = Vec::with_capacity(connections.len());
    for connection in &connections {
        let outcome = ensure(settings, store, connection, now).await?;
        if let HookOutcome::InPlace { .. } = &outcome {
            sync::webhooks::queue_gap_reads(
                store,
                connection.company_id,
                now,
                settings.server.job_attempts,
            )
            .await?;
        }
        repaired.push(Repaired {
            company_id: connection.company_id,
            outcome,
        });
    }
    Ok(repaired)
}

/// The company named (which must be connected), or every connected one.
pub(crate) async fn connections(
    store: &Store,
    company: Option<i64>,
) -> Result<Vec<Connection>, OpenError> {
    match company {
        Some(id) => store
            .connection(id)
            .await
            .map_err(OpenError::Connections)?
            .map(|c| vec![c])
            .ok_or(OpenError::NotConnected(id)),
        None => store.connections().await.map_err(OpenError::Connections),
    }
}

/// What became of the company's hook when it was disconnected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookRemoval {
    /// trestle's hooks in the company were deleted from Procore (none, when there was none).
    Removed(usize),
    /// Procore refused or could not be reached. The record of the hook was forgotten anyway, so
    /// trestle refuses its deliveries; the hook stays in Procore until someone deletes it.
    Failed(String),
}

/// A disconnected company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnected {
    pub company_id: i64,
    pub hook: HookRemoval,
    /// Health entries dropped with the connection (they were about it).
    pub health_cleared: usize,
}

/// Disconnects a company: removes trestle's hooks from its Procore (best effort), then deletes
/// the connection with its credentials and tokens, and the company's health. Its records stay
/// (projects, workers, compliance records, mappings, the run log), so connecting it again
/// carries on from where it stopped; so do its jobs, which fail as the company is no longer
/// connected.
///
/// # Errors
/// The company is not connected, or the store failed.
pub async fn disconnect(
    settings: &Settings,
    store: &Store,
    company: i64,
) -> Result<Disconnected, HooksError> {
    let connection = store
        .connection(company)
        .await?
        .ok_or(OpenError::NotConnected(company))?;
    // Removed while the credentials (and, for the authorization-code grant, the tokens) are
    // still there to sign in with.
    let removal = match client_for(settings, &connection, store) {
        Ok(client) => remove_hook(&client, store, company)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let hook = match removal {
        Ok(n) => HookRemoval::Removed(n),
        Err(error) => {
            store.delete_hook_record(company).await?;
            HookRemoval::Failed(error)
        }
    };
    store.delete_connection(company).await?;
    let health = store.health(Some(company)).await?;
    for entry in &health {
        store.clear_health(company, &entry.aspect).await?;
    }
    Ok(Disconnected {
        company_id: company,
        hook,
        health_cleared: health.len(),
    })
}
