//! `/healthz` (the process answers), `/readyz` (its store answers and is migrated: send it
//! work), and `/metrics` (Prometheus).

use crate::Shared;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "alive" }))
}

async fn readyz(State(shared): State<Shared>) -> Response {
    match shared.store.check_ready().await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not ready", "problem": e.to_string() })),
        )
            .into_response(),
    }
}

async fn metrics(State(shared): State<Shared>) -> Response {
    match shared
        .metrics
        .render(&shared.store, &shared.clients.all())
        .await
    {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("# the store is unavailable: {e}\n"),
        )
            .into_response(),
    }
}
