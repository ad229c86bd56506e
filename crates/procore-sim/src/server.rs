//! The router, the middleware every `/rest/` and `/oauth/` request passes through, and the
//! entry points [`serve`] and [`spawn`].
//!
//! Middleware order, outermost first: count the request against the app's rate limits
//! (every request counts, failures too), inject a 429 storm or a 429 for an exceeded budget,
//! add latency, inject a 5xx, run the handler, then possibly drop a successful write's
//! response or truncate a body; finally add `X-Rate-Limit-*` and log the request.

use std::future::Future;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;

use crate::error::default_error;
use crate::faults::Before;
use crate::handlers::{
    commitments, company_uploads, documents, insurances, oauth, project_directory,
    project_documents, projects, unified_uploads, users, vendors, webhooks,
};
use crate::{admin, auth, RequestLogEntry, Sim};

/// Every Procore operation the simulator implements, as `(method, OpenAPI path template)`.
pub fn operations() -> Vec<(Method, &'static str)> {
    OPERATIONS
        .iter()
        .map(|(m, p)| (m.parse().unwrap_or(Method::GET), *p))
        .collect()
}

/// Procore operations the simulator implements that the OpenAPI subset
/// (`shared/procore-api/procore-openapi-subset.json`) does not document, so the conformance
/// suite (which checks [`operations`] against the subset) cannot check them; their own tests
/// are in `tests/sim/unified_uploads.rs`, `custom_fields.rs` and `routes.rs`.
pub fn operations_beyond_the_subset() -> Vec<(Method, &'static str)> {
    BEYOND_THE_SUBSET
        .iter()
        .map(|(m, p)| (m.parse().unwrap_or(Method::GET), *p))
        .collect()
}

const BEYOND_THE_SUBSET: &[(&str, &str)] = &[
    // Create a unified upload: NOTES §8 "Unified uploads (v2.1, newer)", after Procore's
    // tutorials/tutorial_unified_uploads.md.
    (
        "POST",
        "/rest/v2.1/companies/{company_id}/projects/{project_id}/uploads",
    ),
    // Upload status, polled until `available`: NOTES §8 "Unified uploads (v2.1, newer)".
    (
        "GET",
        "/rest/v2.1/companies/{company_id}/projects/{project_id}/uploads/{upload_id}",
    ),
    // Complete with the part ETags: NOTES §8 "Unified uploads (v2.1, newer)".
    (
        "PATCH",
        "/rest/v2.1/companies/{company_id}/projects/{project_id}/uploads/{upload_id}",
    ),
    // List custom field definitions: Procore's operation
    // `RestV20CompaniesCompanyIdCustomFieldDefinitionsGet` (Company Admin > Custom -
    // Configurable Tools), documented beside the subset's operations but not carried into it;
    // see `docs/procore-fidelity.md`. Its test is in `tests/sim/custom_fields.rs`.
    (
        "GET",
        "/rest/v2.0/companies/{company_id}/custom_field_definitions",
    ),
    // Company users at v1.1, which SDKs list instead of v1.0: Procore's operation
    // `RestV11CompaniesCompanyIdUsersGet` (Core > Directory > company-users). Its test is in
    // `tests/sim/routes.rs`.
    ("GET", "/rest/v1.1/companies/{company_id}/users"),
    // A project's folders and files in one paged list: Procore's operation
    // `RestV10ProjectsProjectIdDocumentsGet` (Core > Documents > documents). Its test is in
    // `tests/sim/routes.rs`.
    ("GET", "/rest/v1.0/projects/{project_id}/documents"),
];

const OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/oauth/authorize"),
    ("POST", "/oauth/token"),
    ("GET", "/oauth/token/info"),
    ("POST", "/oauth/revoke"),
    ("GET", "/rest/v1.0/me"),
    ("GET", "/rest/v1.0/companies"),
    ("GET", "/rest/v1.0/projects"),
    ("POST", "/rest/v1.0/projects"),
    ("GET", "/rest/v1.0/projects/{id}"),
    ("PATCH", "/rest/v1.0/projects/{id}"),
    ("GET", "/rest/v1.1/projects"),
    ("GET", "/rest/v1.0/companies/{company_id}/users"),
    ("POST", "/rest/v1.0/companies/{company_id}/users"),
    ("GET", "/rest/v1.0/companies/{company_id}/users/inactive"),
    ("PATCH", "/rest/v1.0/companies/{company_id}/users/sync"),
    ("GET", "/rest/v1.0/companies/{company_id}/users/{id}"),
    ("PATCH", "/rest/v1.0/companies/{company_id}/users/{id}"),
    ("GET", "/rest/v1.3/companies/{company_id}/users"),
    ("GET", "/rest/v1.3/companies/{company_id}/users/{id}"),
    ("GET", "/rest/v1.0/companies/{company_id}/people"),
    ("GET", "/rest/v1.0/companies/{company_id}/projects"),
    ("GET", "/rest/v1.0/companies/{company_id}/project_stages"),
    ("GET", "/rest/v1.0/companies/{company_id}/project_stages/{id}"),
    ("GET", "/rest/v1.0/projects/{project_id}/users"),
    ("GET", "/rest/v1.0/projects/{project_id}/users/{id}"),
    ("GET", "/rest/v1.0/projects/{project_id}/vendors"),
    ("GET", "/rest/v1.0/projects/{project_id}/vendors/{id}"),
    ("GET", "/rest/v1.0/commitments"),
    ("GET", "/rest/v1.0/commitments/{id}"),
    ("GET", "/rest/v1.0/webhooks/resources"),
    ("GET", "/rest/v1.0/webhooks/resources/api_versions"),
    ("GET", "/rest/v1.0/vendors"),
    ("POST", "/rest/v1.0/vendors"),
    ("PATCH", "/rest/v1.0/vendors/sync"),
    ("GET", "/rest/v1.0/vendors/{id}"),
    ("PATCH", "/rest/v1.0/vendors/{id}"),
    ("GET", "/rest/v1.0/companies/{company_id}/vendors/inactive"),
    ("GET", "/rest/v1.0/work_order_contracts"),
    ("POST", "/rest/v1.0/work_order_contracts"),
    ("PATCH", "/rest/v1.0/work_order_contracts/sync"),
    ("GET", "/rest/v1.0/work_order_contracts/{id}"),
    ("PATCH", "/rest/v1.0/work_order_contracts/{id}"),
    ("DELETE", "/rest/v1.0/work_order_contracts/{id}"),
    ("GET", "/rest/v1.0/purchase_order_contracts"),
    ("POST", "/rest/v1.0/purchase_order_contracts"),
    ("PATCH", "/rest/v1.0/purchase_order_contracts/sync"),
    ("GET", "/rest/v1.0/purchase_order_contracts/{id}"),
    ("PATCH", "/rest/v1.0/purchase_order_contracts/{id}"),
    ("DELETE", "/rest/v1.0/purchase_order_contracts/{id}"),
    ("GET", "/rest/v2.0/companies/{company_id}/projects/{project_id}/commitment_contracts"),
    ("GET", "/rest/v2.0/companies/{company_id}/projects/{project_id}/commitment_contracts/{commitment_contract_id}"),
    ("GET", "/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances"),
    ("POST", "/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances"),
    ("PATCH", "/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances/sync"),
    ("GET", "/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances/{id}"),
    ("PATCH", "/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances/{id}"),
    ("DELETE", "/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances/{id}"),
    ("GET", "/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances"),
    ("POST", "/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances"),
    ("PATCH", "/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances/sync"),
    ("GET", "/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances/{id}"),
    ("PATCH", "/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances/{id}"),
    ("DELETE", "/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances/{id}"),
    ("GET", "/rest/v1.0/companies/{company_id}/insurances"),
    ("POST", "/rest/v1.0/companies/{company_id}/insurances"),
    ("PATCH", "/rest/v1.0/companies/{company_id}/insurances/sync"),
    ("GET", "/rest/v1.0/companies/{company_id}/insurances/{id}"),
    ("PATCH", "/rest/v1.0/companies/{company_id}/insurances/{id}"),
    ("DELETE", "/rest/v1.0/companies/{company_id}/insurances/{id}"),
    ("GET", "/rest/v1.0/projects/{project_id}/insurances"),
    ("POST", "/rest/v1.0/projects/{project_id}/insurances"),
    ("PATCH", "/rest/v1.0/projects/{project_id}/insurances/sync"),
    ("GET", "/rest/v1.0/projects/{project_id}/insurances/{id}"),
    ("PATCH", "/rest/v1.0/projects/{project_id}/insurances/{id}"),
    ("DELETE", "/rest/v1.0/projects/{project_id}/insurances/{id}"),
    ("PATCH", "/rest/v1.0/insurances/sync"),
    ("GET", "/rest/v1.0/folders"),
    ("POST", "/rest/v1.0/folders"),
    ("GET", "/rest/v1.0/folders/{id}"),
    ("PATCH", "/rest/v1.0/folders/{id}"),
    ("DELETE", "/rest/v1.0/folders/{id}"),
    ("POST", "/rest/v1.0/files"),
    ("GET", "/rest/v1.0/files/{id}"),
    ("PATCH", "/rest/v1.0/files/{id}"),
    ("DELETE", "/rest/v1.0/files/{id}"),
    ("POST", "/rest/v1.0/file_versions"),
    ("GET", "/rest/v1.0/file_versions/{id}"),
    ("POST", "/rest/v1.1/companies/{company_id}/uploads"),
    ("GET", "/rest/v1.1/companies/{company_id}/uploads/{uuid}"),
    ("PATCH", "/rest/v1.1/companies/{company_id}/uploads/{uuid}"),
    ("POST", "/rest/v1.1/projects/{project_id}/uploads"),
    ("GET", "/rest/v1.1/projects/{project_id}/uploads/{uuid}"),
    ("PATCH", "/rest/v1.1/projects/{project_id}/uploads/{uuid}"),
    ("GET", "/rest/v1.0/webhooks/hooks"),
    ("POST", "/rest/v1.0/webhooks/hooks"),
    ("PATCH", "/rest/v1.0/webhooks/hooks/{id}"),
    ("DELETE", "/rest/v1.0/webhooks/hooks/{id}"),
    ("GET", "/rest/v1.0/webhooks/hooks/{hook_id}/triggers"),
    ("POST", "/rest/v1.0/webhooks/hooks/{hook_id}/triggers"),
    ("DELETE", "/rest/v1.0/webhooks/hooks/{hook_id}/triggers/{id}"),
    ("POST", "/rest/v1.0/webhooks/hooks/{hook_id}/triggers/bulk"),
    ("DELETE", "/rest/v1.0/webhooks/hooks/{hook_id}/triggers/bulk"),
    ("GET", "/rest/v1.0/webhooks/hooks/{hook_id}/deliveries"),
    ("GET", "/rest/v2.0/companies/{company_id}/webhooks/hooks"),
    ("POST", "/rest/v2.0/companies/{company_id}/webhooks/hooks"),
    ("GET", "/rest/v2.0/companies/{company_id}/webhooks/hooks/{id}"),
    ("PATCH", "/rest/v2.0/companies/{company_id}/webhooks/hooks/{id}"),
    ("DELETE", "/rest/v2.0/companies/{company_id}/webhooks/hooks/{id}"),
    ("GET", "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/triggers"),
    ("POST", "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/triggers"),
    ("DELETE", "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/triggers/{id}"),
    ("POST", "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/triggers/bulk"),
    ("DELETE", "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/triggers/bulk"),
    ("GET", "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/deliveries"),
    ("GET", "/rest/v2.0/companies/{company_id}/webhooks/resources"),
    ("GET", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks"),
    ("POST", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks"),
    ("GET", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks/{id}"),
    ("PATCH", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks/{id}"),
    ("DELETE", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks/{id}"),
    ("GET", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks/{hook_id}/triggers"),
    ("POST", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks/{hook_id}/triggers"),
    ("DELETE", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks/{hook_id}/triggers/{id}"),
    ("POST", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks/{hook_id}/triggers/bulk"),
    ("DELETE", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks/{hook_id}/triggers/bulk"),
    ("GET", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/hooks/{hook_id}/deliveries"),
    ("GET", "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks/resources"),
];

pub(crate) fn router(sim: Sim) -> Router {
    use commitments::{poc, woc};
    use insurances::{
        company as ic, company_vendor as icv, item as ii, project as ip, project_vendor as ipv,
    };
    use webhooks::v2::{company as wc, project as wp};
    const C2: &str = "/rest/v2.0/companies/{company_id}/webhooks";
    const P2: &str = "/rest/v2.0/companies/{company_id}/projects/{project_id}/webhooks";
    let mut r = Router::new()
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/authorize", get(oauth::authorize))
        .route("/oauth/token/info", get(oauth::token_info))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/rest/v1.0/me", get(projects::me))
        .route("/rest/v1.0/companies", get(projects::companies))
        .route("/rest/v1.0/projects", get(projects::list).post(projects::create))
        .route("/rest/v1.0/projects/{id}", get(projects::show).patch(projects::update))
        .route("/rest/v1.1/projects", get(projects::list_v11))
        .route("/rest/v1.0/companies/{company_id}/users", get(users::list).post(users::create))
        .route("/rest/v1.0/companies/{company_id}/users/inactive", get(users::inactive))
        .route("/rest/v1.0/companies/{company_id}/users/sync", patch(users::sync))
        .route("/rest/v1.0/companies/{company_id}/users/{id}", get(users::show).patch(users::update))
        .route("/rest/v1.3/companies/{company_id}/users", get(users::list_v13))
        .route("/rest/v1.3/companies/{company_id}/users/{id}", get(users::show_v13))
        .route("/rest/v1.0/companies/{company_id}/people", get(users::people))
        .route("/rest/v1.1/companies/{company_id}/users", get(users::list_v11))
        .route("/rest/v1.0/companies/{company_id}/projects", get(projects::company_list))
        .route("/rest/v1.0/companies/{company_id}/project_stages", get(projects::stages))
        .route("/rest/v1.0/companies/{company_id}/project_stages/{id}", get(projects::stage_show))
        .route("/rest/v1.0/projects/{project_id}/users", get(project_directory::user_list))
        .route("/rest/v1.0/projects/{project_id}/users/{id}", get(project_directory::user_show))
        .route("/rest/v1.0/projects/{project_id}/vendors", get(project_directory::vendor_list))
        .route("/rest/v1.0/projects/{project_id}/vendors/{id}", get(project_directory::vendor_show))
        .route("/rest/v1.0/projects/{project_id}/documents", get(project_documents::list))
        .route("/rest/v1.0/commitments", get(commitments::any_list))
        .route("/rest/v1.0/commitments/{id}", get(commitments::any_show))
        .route("/rest/v1.0/webhooks/resources", get(webhooks::v1_resources))
        .route("/rest/v1.0/webhooks/resources/api_versions", get(webhooks::v1_api_versions))
        .route("/rest/v1.0/vendors", get(vendors::list).post(vendors::create))
        .route("/rest/v1.0/vendors/sync", patch(vendors::sync))
        .route("/rest/v1.0/vendors/{id}", get(vendors::show).patch(vendors::update))
        .route("/rest/v1.0/companies/{company_id}/vendors/inactive", get(vendors::inactive))
        .route("/rest/v1.0/work_order_contracts", get(woc::list).post(woc::create))
        .route("/rest/v1.0/work_order_contracts/sync", patch(woc::sync))
        .route("/rest/v1.0/work_order_contracts/{id}", get(woc::show).patch(woc::update).delete(woc::delete))
        .route("/rest/v1.0/purchase_order_contracts", get(poc::list).post(poc::create))
        .route("/rest/v1.0/purchase_order_contracts/sync", patch(poc::sync))
        .route("/rest/v1.0/purchase_order_contracts/{id}", get(poc::show).patch(poc::update).delete(poc::delete))
        .route("/rest/v2.0/companies/{company_id}/projects/{project_id}/commitment_contracts", get(commitments::v2_list))
        .route("/rest/v2.0/companies/{company_id}/custom_field_definitions", get(commitments::custom_field_definitions))
        .route(
            "/rest/v2.0/companies/{company_id}/projects/{project_id}/commitment_contracts/{commitment_contract_id}",
            get(commitments::v2_show),
        )
        .route("/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances", get(icv::list).post(icv::create))
        .route("/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances/sync", patch(icv::sync))
        .route(
            "/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances/{id}",
            get(ii::cv_show).patch(ii::cv_update).delete(ii::cv_delete),
        )
        .route("/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances", get(ipv::list).post(ipv::create))
        .route("/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances/sync", patch(ipv::sync))
        .route(
            "/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances/{id}",
            get(ii::pv_show).patch(ii::pv_update).delete(ii::pv_delete),
        )
        .route("/rest/v1.0/companies/{company_id}/insurances", get(ic::list).post(ic::create))
        .route("/rest/v1.0/companies/{company_id}/insurances/sync", patch(ic::sync))
        .route("/rest/v1.0/companies/{company_id}/insurances/{id}", get(ii::c_show).patch(ii::c_update).delete(ii::c_delete))
        .route("/rest/v1.0/projects/{project_id}/insurances", get(ip::list).post(ip::create))
        .route("/rest/v1.0/projects/{project_id}/insurances/sync", patch(ip::sync))
        .route("/rest/v1.0/projects/{project_id}/insurances/{id}", get(ii::p_show).patch(ii::p_update).delete(ii::p_delete))
        .route("/rest/v1.0/insurances/sync", patch(insurances::global_sync))
        .route("/rest/v1.0/folders", get(documents::root).post(documents::folder_create))
        .route(
            "/rest/v1.0/folders/{id}",
            get(documents::folder_show).patch(documents::folder_update).delete(documents::folder_delete),
        )
        .route("/rest/v1.0/files", post(documents::file_create))
        .route(
            "/rest/v1.0/files/{id}",
            get(documents::file_show).patch(documents::file_update).delete(documents::file_delete),
        )
        .route("/rest/v1.0/file_versions", post(documents::version_create))
        .route("/rest/v1.0/file_versions/{id}", get(documents::version_show))
        .route("/rest/v1.1/companies/{company_id}/uploads", post(company_uploads::create))
        .route(
            "/rest/v1.1/companies/{company_id}/uploads/{uuid}",
            get(company_uploads::show).patch(company_uploads::update),
        )
        .route("/rest/v1.1/projects/{project_id}/uploads", post(documents::upload_create))
        .route(
            "/rest/v1.1/projects/{project_id}/uploads/{uuid}",
            get(documents::upload_show).patch(documents::upload_update),
        )
        .route("/rest/v1.0/webhooks/hooks", get(webhooks::v1_list).post(webhooks::v1_create))
        .route("/rest/v1.0/webhooks/hooks/{id}", patch(webhooks::v1_update).delete(webhooks::v1_delete))
        .route(
            "/rest/v1.0/webhooks/hooks/{id}/triggers",
            get(webhooks::v1_triggers).post(webhooks::v1_trigger_create),
        )
        .route(
            "/rest/v1.0/webhooks/hooks/{id}/triggers/bulk",
            post(webhooks::v1_bulk_create).delete(webhooks::v1_bulk_delete),
        )
        .route("/rest/v1.0/webhooks/hooks/{id}/triggers/{trigger_id}", axum::routing::delete(webhooks::v1_trigger_delete))
        .route("/rest/v1.0/webhooks/hooks/{id}/deliveries", get(webhooks::v1_deliveries))
        .route("/rest/v2.1/companies/{company_id}/projects/{project_id}/uploads", post(unified_uploads::create))
        .route(
            "/rest/v2.1/companies/{company_id}/projects/{project_id}/uploads/{upload_id}",
            get(unified_uploads::show).patch(unified_uploads::complete),
        )
        .route(
            "/_sim/s3/unified/{upload_id}/{part}",
            // A part may be 100 MiB; one byte more so an oversized body reaches the size check.
            axum::routing::put(unified_uploads::storage_put).layer(axum::extract::DefaultBodyLimit::max(
                usize::try_from(unified_uploads::MAX_SEGMENT).unwrap_or(usize::MAX).saturating_add(1),
            )),
        )
        .route("/_sim/s3/{uuid}", post(documents::s3_post).put(documents::s3_post))
        .route("/_sim/storage/{id}", get(documents::download));
    r = r
        .route(&format!("{C2}/hooks"), get(wc::list).post(wc::create))
        .route(
            &format!("{C2}/hooks/{{id}}"),
            get(wc::show).patch(wc::update).delete(wc::delete),
        )
        .route(
            &format!("{C2}/hooks/{{id}}/triggers"),
            get(wc::triggers).post(wc::trigger_create),
        )
        .route(
            &format!("{C2}/hooks/{{id}}/triggers/bulk"),
            post(wc::bulk_create).delete(wc::bulk_delete),
        )
        .route(
            &format!("{C2}/hooks/{{id}}/triggers/{{trigger_id}}"),
            axum::routing::delete(wc::trigger_delete),
        )
        .route(
            &format!("{C2}/hooks/{{id}}/deliveries"),
            get(wc::deliveries),
        )
        .route(&format!("{C2}/resources"), get(wc::resources));
    r = r
        .route(&format!("{P2}/hooks"), get(wp::list).post(wp::create))
        .route(
            &format!("{P2}/hooks/{{id}}"),
            get(wp::show).patch(wp::update).delete(wp::delete),
        )
        .route(
            &format!("{P2}/hooks/{{id}}/triggers"),
            get(wp::triggers).post(wp::trigger_create),
        )
        .route(
            &format!("{P2}/hooks/{{id}}/triggers/bulk"),
            post(wp::bulk_create).delete(wp::bulk_delete),
        )
        .route(
            &format!("{P2}/hooks/{{id}}/triggers/{{trigger_id}}"),
            axum::routing::delete(wp::trigger_delete),
        )
        .route(
            &format!("{P2}/hooks/{{id}}/deliveries"),
            get(wp::deliveries),
        )
        .route(&format!("{P2}/resources"), get(wp::resources));
    // Only routed operations have a documented shape; a route layer knows the matched route.
    let r = r.route_layer(middleware::from_fn_with_state(
        sim.clone(),
        crate::shape::layer,
    ));
    r.merge(admin::routes())
        .fallback(not_found)
        .layer(middleware::from_fn(crate::error::json_errors))
        .layer(middleware::from_fn_with_state(sim.clone(), gate))
        .with_state(sim)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(default_error(
            "not_found",
            "The requested resource could not be found",
        )),
    )
        .into_response()
}

fn is_write(m: &Method) -> bool {
    matches!(
        *m,
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    )
}

async fn gate(State(sim): State<Sim>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let is_api = path.starts_with("/rest/") || path.starts_with("/oauth/");
    let logged = is_api || path.starts_with("/_sim/s3/") || path.starts_with("/_sim/storage/");
    if !logged {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let query = req.uri().query().map(str::to_owned);
    let at = sim.now();
    let client_id = sim.read(|w| auth::token_client(w, req.headers()));
    let decision = if is_api {
        let key = client_id.clone().unwrap_or_else(|| "anonymous".into());
        sim.lock_rates().hit(&key, at.timestamp_millis())
    } else {
        None
    };
    let mut fault: Option<&'static str> = None;
    let before = if is_api {
        sim.lock_faults().before()
    } else {
        Before::None
    };
    let mut resp = match (before, decision.and_then(|d| d.retry_after)) {
        (Before::Storm429, _) => {
            fault = Some("storm_429");
            rate_limited(decision.and_then(|d| d.retry_after).unwrap_or(1))
        }
        (_, Some(retry)) => rate_limited(retry),
        (before, None) => {
            let latency = sim.faults().latency;
            if is_api && !latency.is_zero() {
                fault = Some("latency");
                tokio::time::sleep(latency).await;
            }
            if let Before::Error(code) = before {
                fault = Some(match code {
                    500 => "error_500",
                    502 => "error_502",
                    _ => "error_503",
                });
                injected_error(code)
            } else {
                let resp = next.run(req).await;
                post_faults(&sim, is_api, &method, resp, &mut fault).await
            }
        }
    };
    // The simulated clock, not the wall clock hyper would stamp: clients compare it with the
    // `updated_at` values this clock wrote.
    if let Ok(date) = HeaderValue::from_str(&at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        resp.headers_mut().insert(axum::http::header::DATE, date);
    }
    if let Some(d) = decision {
        let h = resp.headers_mut();
        h.insert("X-Rate-Limit-Limit", HeaderValue::from(d.limit));
        h.insert("X-Rate-Limit-Remaining", HeaderValue::from(d.remaining));
        h.insert("X-Rate-Limit-Reset", HeaderValue::from(d.reset));
    }
    sim.lock_log().push(RequestLogEntry {
        method: method.to_string(),
        path,
        query,
        status: resp.status().as_u16(),
        client_id,
        rate_limit_limit: decision.map(|d| d.limit),
        rate_limit_remaining: decision.map(|d| d.remaining),
        rate_limit_reset: decision.map(|d| d.reset),
        fault: fault.map(str::to_owned),
        at,
    });
    resp
}

const RATE_TEXT: &str = "You have surpassed the max number of requests for an hour. Please wait until your limit resets.";

fn rate_limited(retry_after: i64) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(default_error("rate_limited", RATE_TEXT)),
    )
        .into_response();
    r.headers_mut()
        .insert("Retry-After", HeaderValue::from(retry_after.max(1)));
    r
}

fn injected_error(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let msg = match code {
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let mut r = (status, axum::Json(default_error("server_error", msg))).into_response();
    if code == 503 {
        r.headers_mut().insert("Retry-After", HeaderValue::from(1));
    }
    r
}

async fn post_faults(
    sim: &Sim,
    is_api: bool,
    method: &Method,
    resp: Response,
    fault: &mut Option<&'static str>,
) -> Response {
    if !is_api {
        return resp;
    }
    if is_write(method) && resp.status().is_success() && sim.lock_faults().error_after_write() {
        *fault = Some("error_after_write");
        return injected_error(503);
    }
    if is_write(method) && resp.status().is_success() && sim.lock_faults().drop_after_write() {
        *fault = Some("drop_after_write");
        let (parts, _) = resp.into_parts();
        let stream = futures::stream::once(async {
            Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "dropped by fault injection",
            ))
        });
        let mut r = Response::from_parts(parts, Body::from_stream(stream));
        r.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
        return r;
    }
    if sim.lock_faults().truncate() {
        *fault = Some("truncate");
        let (mut parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let cut = bytes.slice(..bytes.len() / 2);
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(cut));
    }
    resp
}

/// Serves `sim` on `listener` until `shutdown` resolves; also runs webhook delivery.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sim: Sim,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut rx2 = rx.clone();
    let delivery = tokio::spawn(crate::webhooks::run(sim.clone(), async move {
        let _ = rx2.wait_for(|v| *v).await;
    }));
    let app = sim.router();
    let mut rx3 = rx;
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = shutdown => {}
                _ = rx3.wait_for(|v| *v) => {}
            }
        })
        .await;
    let _ = tx.send(true);
    let _ = delivery.await;
    result
}

/// A simulator served on an ephemeral port; dropping it shuts the server down.
pub struct Running {
    url: String,
    sim: Sim,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }
    /// The simulator behind the server.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }
    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Binds `127.0.0.1:0` and serves `sim` in a background task.
///
/// # Panics
/// If no local port can be bound.
pub async fn spawn(sim: Sim) -> Running {
    #[allow(clippy::expect_used)]
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, sim.clone(), async move {
        let _ = rx.await;
    }));
    Running {
        url: format!("http://{addr}"),
        sim,
        stop: Some(stop),
        task: Some(task),
    }
}
