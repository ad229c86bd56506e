//! trestle's REST API, `/api/v1`: what the web UI, scripts and other systems use, over the same
//! use cases as the CLI (`engine`). JSON in and out; errors are `application/problem+json`
//! (RFC 9457) naming each invalid field; every route asks for an API token (`engine::tokens`)
//! and checks its scope; the OpenAPI 3.1 document is generated from the handlers and served at
//! `/api/v1/openapi.json`, and the tests validate real answers against it.
//!
//! [`router`] is mounted by `trestle serve` beside the webhook receiver and the probes.
//!
//! # Layout
//! - `problem`: the error answer, and what each kind of failure becomes.
//! - `auth`: the `Authorization: Bearer` token, checked, and the scope a route needs.
//! - `connections`: `/api/v1/connections`: each connected company's health, hook, queue, syncs.
//! - `tokens`: `/api/v1/tokens`: make, list, revoke API tokens (admin).
//! - `jobs`: `/api/v1/jobs`: the work queue, and retrying failed work.
//! - `idempotency`: `Idempotency-Key` on POST: a request sent again gets the first answer.
//! - `doc`: the OpenAPI document.

#![forbid(unsafe_code)]

mod auth;
mod connections;
mod doc;
mod idempotency;
mod jobs;
mod problem;
mod tokens;

pub use doc::openapi;
pub use problem::{FieldError, Problem};

use axum::routing::{delete, get, post};
use axum::Router;
use store::Store;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Api {
    pub store: Store,
    /// `server.public_url`: where each company's hook should deliver.
    pub public_url: Option<String>,
}

/// The `/api/v1` routes, on `store`; `public_url` is where Procore reaches the server.
pub fn router(store: Store, public_url: Option<String>) -> Router {
    let api = Api { store, public_url };
    Router::new()
        .route("/api/v1/openapi.json", get(doc::document))
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route("/api/v1/connections", get(connections::list))
        .route("/api/v1/jobs", get(jobs::list))
        .route("/api/v1/jobs/{id}/retry", post(jobs::retry))
        .route("/api/v1/{*rest}", axum::routing::any(problem::no_route))
        .layer(axum::middleware::from_fn_with_state(
            api.clone(),
            idempotency::idempotent,
        ))
        .with_state(api)
}
