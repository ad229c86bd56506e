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
//! - `activity`: syncs run now or previewed (a dry run with each decision's reason), the runs
//!   with their per-record entries, and `explain`.
//! - `auth`: the `Authorization: Bearer` token, checked, and the scope a route needs.
//! - `compliance`: the compliance integration's settings, profiles, certificates, waivers,
//!   and the insurance records written.
//! - `parties`: parties and projects with their compliance and its reasons, contacts,
//!   associations.
//! - `mapping`: the Procore projects and companies seen, and import / link / do not add,
//!   each with a preview.
//! - `paging`: cursors and `Link` headers, one way for every list.
//! - `connections`: `/api/v1/connections`: each connected company's health, hook, queue, syncs.
//! - `tokens`: `/api/v1/tokens`: make, list, revoke API tokens (admin).
//! - `jobs`: `/api/v1/jobs`: the work queue, and retrying failed work.
//! - `forms`: `/api/v1/companies/{id}/forms/...`: templates, and forms filled, signed and
//!   completed (by an admin or a worker token), their PDF and where they are in Procore.
//! - `workforce`: `/api/v1/companies/{id}/workforce/...`: projects, workers and what an
//!   admin does to them, and the Procore records waiting for a decision.
//! - `etag`: `ETag` and `If-Match` for the settings and templates people edit in place.
//! - `idempotency`: `Idempotency-Key` on POST: a request sent again gets the first answer.
//! - `doc`: the OpenAPI document.

#![forbid(unsafe_code)]

pub mod activity;
mod auth;
mod compliance;
pub mod connections;
mod doc;
mod etag;
mod forms;
mod idempotency;
pub mod jobs;
pub mod mapping;
mod paging;
pub mod parties;
mod problem;
pub mod tokens;
pub mod workforce;

pub use auth::SignedIn;
pub use doc::openapi;
pub use problem::{FieldError, Problem};

use axum::routing::{delete, get, post};
use axum::Router;
use std::sync::Arc;
use store::Store;
use tokio::sync::Notify;

/// What the API takes from the server it is mounted in.
#[derive(Clone, Debug)]
pub struct Options {
    /// `server.public_url`: where each company's hook should deliver.
    pub public_url: Option<String>,
    /// `server.job_attempts`: the attempts of the work the API queues.
    pub job_attempts: u32,
    /// Wakes the server's idle workers when the API queued work, so it starts at once.
    pub wake: Arc<Notify>,
    /// What reaching Procore takes (connecting a company); without it those routes answer
    /// 503.
    pub settings: Option<Arc<engine::Settings>>,
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Api {
    pub store: Store,
    pub public_url: Option<String>,
    pub job_attempts: u32,
    pub wake: Arc<Notify>,
    pub settings: Option<Arc<engine::Settings>>,
}

impl Api {
    /// The company's connection; 404 when it is not connected.
    pub(crate) async fn connection(&self, company: i64) -> Result<store::Connection, Problem> {
        self.store
            .connection(company)
            .await?
            .ok_or_else(|| not_connected(company))
    }

    /// The settings Procore is reached with; 503 when the server was started without them.
    pub(crate) fn procore_settings(&self) -> Result<&engine::Settings, Problem> {
        self.settings.as_deref().ok_or_else(|| {
            Problem::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "this server was started without Procore settings, so it cannot reach Procore",
            )
        })
    }
}

/// The answer about a company that is not connected.
pub(crate) fn not_connected(company: i64) -> Problem {
    Problem::not_found(format!("Procore company {company} is not connected"))
}

/// The largest compliance document `POST …/compliance/import` takes (every other body keeps
/// axum's 2 MB): a whole company's parties, certificates and waivers can be large.
pub const IMPORT_MAX_BYTES: usize = 64 * 1024 * 1024;

/// The `/api/v1` routes, on `store`.
pub fn router(store: Store, options: Options) -> Router {
    let api = Api {
        store,
        public_url: options.public_url,
        job_attempts: options.job_attempts,
        wake: options.wake,
        settings: options.settings,
    };
    Router::new()
        .route("/api/v1/openapi.json", get(doc::document))
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route(
            "/api/v1/connections",
            get(connections::list).post(connections::connect),
        )
        .route(
            "/api/v1/connections/{company_id}",
            get(connections::show)
                .patch(connections::change)
                .delete(connections::disconnect),
        )
        .route(
            "/api/v1/connections/{company_id}/webhook/repair",
            post(connections::repair_webhook),
        )
        .route("/api/v1/jobs", get(jobs::list))
        .route("/api/v1/jobs/{id}/retry", post(jobs::retry))
        .route("/api/v1/jobs/{id}/discard", post(jobs::discard))
        .route(
            "/api/v1/companies/{company_id}/workforce/workers",
            get(workforce::workers),
        )
        .route(
            "/api/v1/companies/{company_id}/workforce/workers/{id}",
            get(workforce::worker),
        )
        .route(
            "/api/v1/companies/{company_id}/workforce/workers/{id}/activate",
            post(workforce::activate),
        )
        .route(
            "/api/v1/companies/{company_id}/workforce/workers/{id}/block",
            post(workforce::block),
        )
        .route(
            "/api/v1/companies/{company_id}/workforce/workers/{id}/unblock",
            post(workforce::unblock),
        )
        .route(
            "/api/v1/companies/{company_id}/workforce/projects",
            get(workforce::projects),
        )
        .route(
            "/api/v1/companies/{company_id}/workforce/waiting",
            get(workforce::waiting),
        )
        .route(
            "/api/v1/companies/{company_id}/workforce/waiting/{kind}/{procore_id}/preview",
            get(workforce::preview),
        )
        .route(
            "/api/v1/companies/{company_id}/workforce/waiting/{kind}/{procore_id}/decision",
            post(workforce::decide),
        )
        .route(
            "/api/v1/companies/{company_id}/forms/templates",
            get(forms::templates).post(forms::create_template),
        )
        .route(
            "/api/v1/companies/{company_id}/forms/templates/{id}",
            get(forms::template).put(forms::revise_template),
        )
        .route(
            "/api/v1/companies/{company_id}/forms",
            get(forms::list).post(forms::start),
        )
        .route(
            "/api/v1/companies/{company_id}/forms/{id}",
            get(forms::get_form).patch(forms::answer),
        )
        .route(
            "/api/v1/companies/{company_id}/forms/{id}/signatures",
            post(forms::sign),
        )
        .route(
            "/api/v1/companies/{company_id}/forms/{id}/complete",
            post(forms::complete),
        )
        .route(
            "/api/v1/companies/{company_id}/forms/{id}/pdf",
            get(forms::pdf),
        )
        .route(
            "/api/v1/companies/{company_id}/syncs",
            post(activity::sync_now),
        )
        .route(
            "/api/v1/companies/{company_id}/syncs/preview",
            post(activity::preview),
        )
        .route("/api/v1/companies/{company_id}/runs", get(activity::runs))
        .route(
            "/api/v1/companies/{company_id}/runs/{id}",
            get(activity::run),
        )
        .route(
            "/api/v1/companies/{company_id}/explain/{kind}/{id}",
            get(activity::explain),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/parties",
            get(parties::parties),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/parties/{id}",
            get(parties::party),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/projects",
            get(parties::projects),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/parties/{id}/contacts",
            get(parties::contacts),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/associations",
            get(parties::associations),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/mappings",
            get(mapping::mappings),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/mappings/{kind}/{procore_id}",
            post(mapping::map),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/mappings/{kind}/{procore_id}/preview",
            get(mapping::preview),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/settings",
            get(compliance::settings).patch(compliance::change_settings),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/profiles",
            get(compliance::profiles),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/profiles/{name}",
            get(compliance::profile)
                .put(compliance::put_profile)
                .delete(compliance::remove_profile),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/parties/{id}/profile",
            axum::routing::put(compliance::party_profile),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
            get(compliance::certificates).post(compliance::add_certificate),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/certificates/{id}",
            get(compliance::certificate)
                .put(compliance::replace_certificate)
                .delete(compliance::remove_certificate),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies",
            post(compliance::set_policy),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies/{subject}",
            delete(compliance::remove_policy),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/parties/{id}/waivers",
            get(compliance::waivers).post(compliance::add_waiver),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/waivers/{id}",
            delete(compliance::remove_waiver),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/insurance",
            get(compliance::insurance),
        )
        .route(
            "/api/v1/companies/{company_id}/compliance/import",
            post(compliance::import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_MAX_BYTES)),
        )
        .route("/api/v1/{*rest}", axum::routing::any(problem::no_route))
        .layer(axum::middleware::from_fn_with_state(
            api.clone(),
            idempotency::idempotent,
        ))
        .with_state(api)
}
