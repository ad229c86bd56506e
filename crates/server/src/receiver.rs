//! `POST /webhooks/procore/{company}`: where Procore delivers a company's events.
//!
//! Procore waits 5 seconds for a 2xx and documents no signature: the only proof a delivery is
//! Procore's is the `Authorization` value trestle gave the hook, compared here in constant
//! time. A delivery is stored, with the job that routes it, in one transaction and answered at
//! once; nothing else happens on this path, so it answers well inside Procore's timeout
//! whatever the load. A refused delivery (wrong or missing secret, too large, not a Procore
//! event) stores nothing.

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
use store::{NewDelivery, Received};
use subtle::ConstantTimeEq;
use sync::jobs::{new_job, Work};

pub(crate) fn router(shared: Shared) -> Router {
    let limit = shared.config.max_body_bytes;
    Router::new()
        .route("/webhooks/procore/{company}", post(receive))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(Receiver {
            shared,
            secrets: Arc::new(RwLock::new(HashMap::new())),
        })
}

#[derive(Clone)]
struct Receiver {
    shared: Shared,
    /// Each company's expected `Authorization`, hashed: read from the store once, then again
    /// only when a delivery does not match (the hook was made anew with another secret).
    secrets: Arc<RwLock<HashMap<i64, [u8; 32]>>>,
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
    match r.shared.store.receive_delivery(&stored, &job).await {
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
