//! `POST /webhooks/procore/{company}`: where Procore delivers a company's events.
//!
//! Procore waits 5 seconds for a 2xx and documents no signature: the only proof a delivery is
//! Procore's is the `Authorization` value trestle gave the hook, compared here in constant
//! time. A delivery is stored, with the job that routes it, before it is answered; nothing else
//! happens on this path, so it answers well inside Procore's timeout whatever the load. A
//! refused delivery (wrong or missing secret, too large, not a Procore event) stores nothing.
//!
//! # Group commit
//! A commit waits for the disk (SQLite) or a round trip (PostgreSQL), so one transaction per
//! delivery caps a burst at the commits a second the database can do. Requests therefore hand
//! their checked delivery to one writer task, which stores whatever is queued (up to
//! [`BATCH`]) in one transaction and answers each request with its own outcome. The writer
//! never waits for a batch to fill: a lone delivery is stored at once, and deliveries gather
//! only while the previous commit is under way, so batching costs nothing when idle and grows
//! with the load.

use crate::Shared;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use store::{NewDelivery, NewJob, Received, Store, StoreError};
use subtle::ConstantTimeEq;
use sync::jobs::{new_job, Work};
use tokio::sync::{mpsc, oneshot};

/// The most deliveries stored in one transaction: enough that a burst is a few commits, few
/// enough that a batch's transaction stays short for the workers writing beside it.
const BATCH: usize = 64;

/// Deliveries waiting for the writer. When it is full, requests wait to be queued: Procore
/// sees a slower answer rather than an error while the database catches up.
const QUEUE: usize = 1024;

/// Must be called inside the runtime: it starts the writer, which ends once the router (every
/// request holding a sender) is gone.
pub(crate) fn router(shared: Shared) -> Router {
    let limit = shared.config.max_body_bytes;
    let (writer, queue) = mpsc::channel(QUEUE);
    tokio::spawn(write_batches(shared.store.clone(), queue));
    Router::new()
        .route("/webhooks/procore/{company}", post(receive))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(Receiver {
            shared,
            secrets: Arc::new(RwLock::new(HashMap::new())),
            writer,
        })
}

#[derive(Clone)]
struct Receiver {
    shared: Shared,
    /// Each company's expected `Authorization`, hashed: read from the store once, then again
    /// only when a delivery does not match (the hook was made anew with another secret).
    secrets: Arc<RwLock<HashMap<i64, [u8; 32]>>>,
    writer: mpsc::Sender<Pending>,
}

/// A checked delivery waiting to be stored, and where its outcome goes.
struct Pending {
    delivery: NewDelivery,
    job: NewJob,
    outcome: oneshot::Sender<Result<Received, StoreError>>,
}

/// The writer: takes what is queued, at most [`BATCH`], and stores it in one transaction.
async fn write_batches(store: Store, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        store_batch(&store, std::mem::take(&mut batch)).await;
    }
}

/// Stores a batch and answers each of its requests. A batch that fails is stored again one
/// delivery at a time, so a delivery the database refuses costs only its own request a 503,
/// not those that happened to share its transaction.
async fn store_batch(store: &Store, batch: Vec<Pending>) {
    let (items, outcomes): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .map(|p| ((p.delivery, p.job), p.outcome))
        .unzip();
    match store.receive_deliveries(&items).await {
        Ok(received) => {
            for (outcome, r) in outcomes.into_iter().zip(received) {
                // A request whose client went away has no one to answer; its delivery is kept.
                let _ = outcome.send(Ok(r));
            }
        }
        Err(e) if items.len() == 1 => {
            if let Some(outcome) = outcomes.into_iter().next() {
                let _ = outcome.send(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(deliveries = items.len(), error = %e, "could not store a batch of deliveries; storing them one at a time");
            for ((delivery, job), outcome) in items.iter().zip(outcomes) {
                let _ = outcome.send(store.receive_delivery(delivery, job).await);
            }
        }
    }
}

fn digest(value: &[u8]) -> [u8; 32] {
    Sha256::digest(value).into()
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

impl Receiver {
    /// Whether `given` is the company's secret. Hashing both sides first makes the comparison
    /// take the same time whatever the lengths.
    async fn authentic(
        &self,
        company: i64,
        given: Option<&[u8]>,
    ) -> Result<bool, store::StoreError> {
        let Some(given) = given else {
            return Ok(false);
        };
        let given = digest(given);
        let cached = self
            .secrets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&company)
            .copied();
        if let Some(expected) = cached {
            if bool::from(expected.ct_eq(&given)) {
                return Ok(true);
            }
        }
        let Some(record) = self.shared.store.hook_record(company).await? else {
            return Ok(false);
        };
        let expected = digest(expose(&record.secret));
        self.secrets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(company, expected);
        Ok(bool::from(expected.ct_eq(&given)))
    }

    /// Hands the delivery to the writer and waits for its outcome.
    async fn store(&self, delivery: NewDelivery, job: NewJob) -> Result<Received, StoreError> {
        let (outcome, answer) = oneshot::channel();
        let pending = Pending {
            delivery,
            job,
            outcome,
        };
        let gone = || StoreError::Invalid("the receiver's writer has stopped".into());
        self.writer.send(pending).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn expose(secret: &SecretString) -> &[u8] {
    secret.expose_secret().as_bytes()
}

async fn receive(
    State(r): State<Receiver>,
    Path(company): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let metrics = &r.shared.metrics;
    let Ok(company) = company.parse::<i64>() else {
        metrics.delivery("refused");
        return refuse(StatusCode::NOT_FOUND, "no such company");
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    match r.authentic(company, given).await {
        Ok(true) => {}
        Ok(false) => {
            metrics.delivery("refused");
            return refuse(
                StatusCode::UNAUTHORIZED,
                "the Authorization header is not the secret trestle registered for this company's hook",
            );
        }
        Err(e) => {
            tracing::warn!(company, error = %e, "could not read the hook record");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; deliver again later",
            );
        }
    }
    let delivery = match procore::webhook::parse(&body) {
        Ok(d) => d,
        Err(e) => {
            metrics.delivery("refused");
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("not a Procore webhook event: {e}"),
            );
        }
    };
    if delivery.company_id.is_some_and(|c| c.get() != company) {
        metrics.delivery("refused");
        return refuse(
            StatusCode::BAD_REQUEST,
            "the event names another company than the address it was delivered to",
        );
    }
    let now = Utc::now();
    let stored = NewDelivery {
        company_id: company,
        event_key: delivery.dedupe_key(),
        resource_name: delivery.resource.name().to_owned(),
        event_type: match &delivery.event {
            procore::webhook::EventType::Create => "create".into(),
            procore::webhook::EventType::Update => "update".into(),
            procore::webhook::EventType::Delete => "delete".into(),
            procore::webhook::EventType::Unknown(s) => s.clone(),
        },
        resource_id: Some(delivery.resource_id.get()),
        project_id: delivery.project_id.map(|p| p.get()),
        body_json: String::from_utf8_lossy(&body).into_owned(),
        received_at: now,
    };
    let job = new_job(company, &Work::Route, now, r.shared.config.job_attempts);
    match r.store(stored, job).await {
        Ok(Received::Stored(_)) => {
            metrics.delivery("accepted");
            r.shared.wake.notify_one();
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Received::Duplicate) => {
            metrics.delivery("duplicate");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            tracing::warn!(company, error = %e, "could not store a delivery");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; deliver again later",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    //! The group commit seen from outside: a server on a real SQLite store, deliveries over
    //! real HTTP. (The end-to-end suite in `tests/serve` covers the rest of the receiver.)

    use crate::{Clients, ServerConfig};
    use secrecy::SecretString;
    use serde_json::json;
    use std::sync::Arc;
    use std::time::Duration;
    use store::HookRecord;

    const SECRET: &str = "the-hook-secret-of-this-test";

    fn event(id: u64, user: i64) -> serde_json::Value {
        let company = procore_sim::demo::COMPANY_ID;
        json!({
            "id": id, "ulid": format!("01JGROUPCOMMIT{id:012}"), "timestamp": "2026-12-03T10:00:00.000000Z",
            "metadata": {"source_user_id": 1, "source_company_id": company, "source_project_id": null,
                         "source_application_id": null, "source_operation_id": null},
            "user_id": 1, "company_id": company, "project_id": null, "api_version": "v2.0",
            "event_type": "update", "resource_name": "Company Users", "resource_id": user,
        })
    }

    fn count(metrics: &str, outcome: &str) -> Option<u64> {
        let name = format!("trestle_webhook_deliveries_total{{outcome=\"{outcome}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&name))
            .and_then(|n| n.trim().parse().ok())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deliveries_sent_all_at_once_are_each_answered_204_and_stored_exactly_once() {
        let kit = testkit::Kit::demo().await;
        kit.store
            .save_hook_record(&HookRecord {
                company_id: kit.company,
                hook_id: None,
                destination_url: "http://unused.example/".into(),
                secret: SecretString::from(SECRET.to_string()),
                triggers_json: "[]".into(),
                checked_at: None,
            })
            .await
            .unwrap();
        let sim_url = kit.sim.url();
        let clients: Clients = Arc::new(move |_| Ok(testkit::client_for(&sim_url)));
        let config = ServerConfig {
            reconcile_every: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(5),
            ..ServerConfig::default()
        };
        let server = crate::spawn(kit.store.clone(), config, clients, |_| None)
            .await
            .unwrap();
        let before = kit.store.delivery_counts().await.unwrap();
        let user = kit.procore_user("Alvarez");
        // 200 distinct events, and 50 of them sent a second time, all at once.
        let bodies: Vec<_> = (0..200).chain(0..50).map(|id| event(id, user)).collect();
        let http = reqwest::Client::new();
        let url = format!("{}/webhooks/procore/{}", server.url, kit.company);
        let mut sent = tokio::task::JoinSet::new();
        for body in bodies {
            let request = http.post(&url).header("Authorization", SECRET).json(&body);
            sent.spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
        }
        let mut statuses = Vec::new();
        while let Some(status) = sent.join_next().await {
            statuses.push(status.unwrap().unwrap());
        }
        assert_eq!(statuses.len(), 250);
        assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");

        let after = kit.store.delivery_counts().await.unwrap();
        assert_eq!(
            after.processed + after.unprocessed - before.processed - before.unprocessed,
            200,
            "each distinct event stored once"
        );
        let metrics = reqwest::get(format!("{}/metrics", server.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(count(&metrics, "accepted"), Some(200), "{metrics}");
        assert_eq!(count(&metrics, "duplicate"), Some(50), "{metrics}");
        server.stop().await.unwrap();
    }
}
