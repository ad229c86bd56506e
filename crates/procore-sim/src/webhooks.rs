//! Webhook events and their delivery.
//!
//! Every change made through [`crate::changes`] (API calls and admin "UI edits" alike) calls
//! `World::emit`, which matches the change against active hooks and their triggers, renders
//! the payload in the hook's format (v2.0 — also used for v1 `api_version: "v2"` hooks —,
//! v3.0 or v4.0), records a delivery and queues a [`Job`]. A background task started by
//! [`crate::serve`] POSTs one event per request to the hook's `destination_url` with its
//! `Authorization` header, a timeout (5 s by default), and retries failures with exponential
//! backoff (1 s doubling up to 1 h; discarded after 12 h; all configurable in
//! [`crate::SimConfig`]). Delivery is at-least-once: `Faults::duplicate_webhooks` sends each
//! event twice. Each event retries independently (Procore pauses a whole endpoint; the
//! simulator does not), so events can arrive out of order, as Procore allows.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::world::{Attempt, Delivery, Secret, World};
use crate::Sim;

/// One queued delivery of one event to one hook.
#[derive(Clone, Debug)]
pub struct Job {
    pub delivery_id: i64,
    pub url: String,
    pub authorization: Option<Secret>,
    pub payload: Value,
}

/// A change to report.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    pub(crate) company_id: i64,
    pub(crate) project_id: Option<i64>,
    pub(crate) resource_name: &'static str,
    pub(crate) resource_id: i64,
    pub(crate) event_type: &'static str,
    pub(crate) user_id: Option<i64>,
    /// The acting app's id for API changes; `None` for admin ("UI") changes.
    pub(crate) application_id: Option<i64>,
}

/// Every resource name the simulator emits events for.
pub const RESOURCES: &[&str] = &[
    "Projects",
    "Company Users",
    "Company Vendors",
    "Work Order Contracts",
    "Purchase Order Contracts",
    "Company Insurances",
    "Project Insurances",
    "Project Folders",
    "Project Files",
];

const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A 26-character ULID from a time and a counter (deterministic, sortable).
pub(crate) fn ulid(t: &DateTime<Utc>, counter: i64) -> String {
    let ms = t.timestamp_millis().max(0) as u128;
    let v: u128 = (ms << 80) | (counter as u128 & ((1u128 << 80) - 1));
    (0..26)
        .rev()
        .map(|i| CROCKFORD[((v >> (i * 5)) & 31) as usize] as char)
        .collect()
}

fn payload(version: &str, id: i64, now: &DateTime<Utc>, c: &Change) -> Value {
    if version.starts_with("v4") || version.starts_with('4') {
        return json!({
            "id": ulid(now, id),
            "timestamp": now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "reason": c.event_type,
            "company_id": c.company_id.to_string(),
            "project_id": c.project_id.map(|p| p.to_string()).unwrap_or_default(),
            "user_id": c.user_id.map(|u| u.to_string()).unwrap_or_default(),
            "resource_type": c.resource_name,
            "resource_id": c.resource_id.to_string(),
        });
    }
    let mut p = json!({
        "id": id,
        "ulid": ulid(now, id),
        "timestamp": now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "metadata": {
            "source_user_id": c.user_id,
            "source_project_id": c.project_id,
            "source_operation_id": null,
            "source_company_id": c.company_id,
            "source_application_id": c.application_id,
        },
        "user_id": c.user_id,
        "company_id": c.company_id,
        "project_id": c.project_id,
        "api_version": if version.starts_with("v3") { "v3.0" } else { "v2.0" },
        "event_type": c.event_type,
        "resource_name": c.resource_name,
        "resource_id": c.resource_id,
    });
    if version.starts_with("v3") {
        p["related_resources"] = json!([]);
    }
    p
}

impl World {
    /// Records deliveries and queues jobs for every hook whose triggers match `c`.
    pub(crate) fn emit(&mut self, c: Change, now: DateTime<Utc>) {
        let mut matched: Vec<i64> = Vec::new();
        for h in self.hooks.values() {
            if h.status != "active" || h.company_id != c.company_id {
                continue;
            }
            if h.project_id.is_some() && h.project_id != c.project_id {
                continue;
            }
            if let (Some(owner), Some(pid)) = (&h.owner_client_id, c.project_id) {
                let permitted = self
                    .apps
                    .get(owner)
                    .and_then(|a| a.installations.get(&c.company_id))
                    .is_some_and(|i| i.permitted_projects.contains(&pid));
                if !permitted {
                    continue;
                }
            }
            let hit = self.triggers.values().any(|t| {
                t.hook_id == h.id
                    && t.resource_name.eq_ignore_ascii_case(c.resource_name)
                    && t.event_type.eq_ignore_ascii_case(c.event_type)
            });
            if hit {
                matched.push(h.id);
            }
        }
        for hook_id in matched {
            let event_id = self.next_event_id;
            self.next_event_id += 1;
            let Some(h) = self.hooks.get(&hook_id) else {
                continue;
            };
            let body = payload(&h.payload_version, event_id, &now, &c);
            let job = Job {
                delivery_id: 0,
                url: h.destination_url.clone(),
                authorization: h.authorization.clone(),
                payload: body.clone(),
            };
            let id = self.alloc_id();
            self.deliveries.insert(
                id,
                Delivery {
                    id,
                    hook_id,
                    event_id,
                    resource_name: c.resource_name.to_owned(),
                    event_type: c.event_type.to_owned(),
                    payload: body,
                    status: "enqueued".into(),
                    attempts: Vec::new(),
                    created_at: now,
                },
            );
            self.outbox.push(Job {
                delivery_id: id,
                ..job
            });
        }
    }
}

async fn attempt(
    client: &reqwest::Client,
    job: &Job,
) -> (Option<u16>, Option<String>, Option<String>) {
    let mut req = client.post(&job.url).json(&job.payload);
    if let Some(a) = &job.authorization {
        req = req.header(reqwest::header::AUTHORIZATION, a.expose());
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp
                .text()
                .await
                .ok()
                .map(|b| b.chars().take(1000).collect());
            (Some(status), None, body)
        }
        Err(e) => (None, Some(e.to_string()), None),
    }
}

fn record(sim: &Sim, id: i64, a: Attempt, status: &str) {
    let mut w = sim.lock_world();
    if let Some(d) = w.deliveries.get_mut(&id) {
        d.attempts.push(a);
        d.status = status.to_owned();
    }
}

async fn deliver(sim: Sim, client: reqwest::Client, job: Job) {
    let cfg = sim.config().clone();
    let started = tokio::time::Instant::now();
    let mut delay = cfg.webhook_retry_initial;
    loop {
        let t0 = sim.now();
        let (status, error, body) = attempt(&client, &job).await;
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let a = Attempt {
            started_at: t0,
            completed_at: sim.now(),
            response_status: status,
            response_error: error,
            response_body: body,
        };
        if ok {
            record(&sim, job.delivery_id, a, "delivered");
            if sim.faults().duplicate_webhooks {
                let _ = attempt(&client, &job).await;
            }
            return;
        }
        if started.elapsed() + delay > cfg.webhook_give_up_after {
            record(&sim, job.delivery_id, a, "discarded");
            return;
        }
        record(&sim, job.delivery_id, a, "retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(cfg.webhook_retry_max);
    }
}

/// Runs until `shutdown` resolves: takes queued jobs and delivers each in its own task.
pub(crate) async fn run(sim: Sim, shutdown: impl std::future::Future<Output = ()>) {
    let Some(mut rx) = sim
        .inner
        .webhook_rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    else {
        return;
    };
    let client = reqwest::Client::builder()
        .timeout(sim.config().webhook_timeout)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            job = rx.recv() => match job {
                Some(job) => { tasks.spawn(deliver(sim.clone(), client.clone(), job)); }
                None => break,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    tasks.abort_all();
    // Give the receiver back so a later `serve` of the same Sim can deliver again.
    *sim.inner
        .webhook_rx
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(rx);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulid_is_26_crockford_characters_and_sorts_by_time() {
        let a = ulid(&"2026-01-01T00:00:00Z".parse().unwrap(), 1);
        let b = ulid(&"2026-01-01T00:00:01Z".parse().unwrap(), 0);
        assert_eq!(a.len(), 26);
        assert!(a < b);
    }

    #[test]
    fn v4_payload_has_string_ids_and_reason() {
        let c = Change {
            company_id: 1,
            project_id: Some(2),
            resource_name: "Projects",
            resource_id: 3,
            event_type: "update",
            user_id: Some(4),
            application_id: None,
        };
        let p = payload("v4.0", 9, &Utc::now(), &c);
        assert_eq!(p["reason"], "update");
        assert_eq!(p["resource_id"], "3");
        let p = payload("v2", 9, &Utc::now(), &c);
        assert_eq!(p["resource_id"], 3);
        assert!(p["metadata"]["source_application_id"].is_null());
    }
}
