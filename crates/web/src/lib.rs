//! trestle's web UI, mounted by `trestle serve` beside the REST API: the pages the people of
//! both seeds work in (connect a Procore company, the workforce app, ...), rendered on the
//! server from templates, with htmx for in-place updates. Nothing is fetched from the
//! internet: the templates, the stylesheet and htmx are inside the binary.
//!
//! Every page is a client of the REST API: a handler calls `/api/v1` in-process as the
//! signed-in person's token ([`api::SignedIn`]), so the UI sees what a script would, with
//! the same checks, scopes and errors, and no second copy of any rule.
//!
//! # Layout
//! - `session`: signing in with an API token (a session cookie stands for it), signing out,
//!   and the anti-forgery value every form sends back.
//! - `call`: one API call made in-process, and its answer.
//! - `view`: the templates and rendering a page.
//! - `assets`: the stylesheet and htmx, served from the binary.
//! - `pages`: the pages, one module per area.

#![forbid(unsafe_code)]

mod assets;
mod call;
mod pages;
mod session;
mod view;

use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use store::Store;

/// What every page shares.
#[derive(Clone)]
pub(crate) struct Web {
    pub store: Store,
    /// The REST API's routes, called in-process.
    pub api: Router,
    pub views: Arc<minijinja::Environment<'static>>,
}

/// The UI's routes under `/ui`, over `api` (the router `api::router` made), with `/`
/// leading to it.
pub fn router(store: Store, api: Router) -> Router {
    let web = Web {
        store,
        api,
        views: Arc::new(view::environment()),
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(pages::integrations::home))
        .route(
            "/ui/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/ui/sign-out", post(session::sign_out))
        .route("/ui/assets/{name}", get(assets::asset))
        .route(
            "/ui/integrations/procore",
            get(pages::integrations::connect_page).post(pages::integrations::connect),
        )
        .route(
            "/ui/integrations/procore/{company_id}",
            post(pages::integrations::change),
        )
        .route(
            "/ui/integrations/procore/{company_id}/disconnect",
            post(pages::integrations::disconnect),
        )
        .route(
            "/ui/companies/{company_id}/workforce/projects",
            get(pages::workforce::projects),
        )
        .route(
            "/ui/companies/{company_id}/workforce/workers",
            get(pages::workforce::workers),
        )
        .route(
            "/ui/companies/{company_id}/workforce/workers/{id}/{action}",
            post(pages::workforce::worker_action),
        )
        .route(
            "/ui/companies/{company_id}/workforce/waiting",
            get(pages::workforce::waiting),
        )
        .route(
            "/ui/companies/{company_id}/workforce/waiting/{kind}/{procore_id}",
            get(pages::workforce::preview).post(pages::workforce::decide),
        )
        .route(
            "/ui/companies/{company_id}/forms",
            get(pages::forms::list).post(pages::forms::start),
        )
        .route(
            "/ui/companies/{company_id}/forms/templates",
            get(pages::templates::list).post(pages::templates::create),
        )
        .route(
            "/ui/companies/{company_id}/forms/templates/new",
            get(pages::templates::new_page),
        )
        .route(
            "/ui/companies/{company_id}/forms/templates/{id}",
            get(pages::templates::edit_page).post(pages::templates::revise),
        )
        .route(
            "/ui/companies/{company_id}/forms/{id}",
            get(pages::forms::show).post(pages::forms::save),
        )
        .route(
            "/ui/companies/{company_id}/forms/{id}/pdf",
            get(pages::forms::pdf),
        )
        .route(
            "/ui/companies/{company_id}/compliance/settings",
            get(pages::compliance::settings).post(pages::compliance::save_settings),
        )
        .route(
            "/ui/companies/{company_id}/compliance/mappings",
            get(pages::compliance::mappings).post(pages::compliance::decide_many),
        )
        .route(
            "/ui/companies/{company_id}/compliance/mappings/{kind}/{procore_id}",
            get(pages::compliance::mapping).post(pages::compliance::decide),
        )
        .route(
            "/ui/companies/{company_id}/compliance/parties",
            get(pages::compliance::parties),
        )
        .route(
            "/ui/companies/{company_id}/compliance/import",
            get(pages::compliance::import_form)
                .post(pages::compliance::import)
                .layer(axum::extract::DefaultBodyLimit::max(api::IMPORT_MAX_BYTES)),
        )
        .route(
            "/ui/companies/{company_id}/compliance/profiles",
            get(pages::profiles::list),
        )
        .route(
            "/ui/companies/{company_id}/compliance/profiles/edit",
            get(pages::profiles::edit_page).post(pages::profiles::save),
        )
        .route(
            "/ui/companies/{company_id}/compliance/projects",
            get(pages::compliance::projects),
        )
        .route(
            "/ui/companies/{company_id}/compliance/projects/{id}",
            get(pages::compliance::project),
        )
        .route(
            "/ui/companies/{company_id}/compliance/parties/{id}",
            get(pages::compliance::party),
        )
        .route(
            "/ui/companies/{company_id}/compliance/parties/{id}/profile",
            post(pages::compliance::set_profile),
        )
        .route(
            "/ui/companies/{company_id}/compliance/parties/{id}/certificates",
            post(pages::compliance::add_certificate),
        )
        .route(
            "/ui/companies/{company_id}/compliance/parties/{id}/waivers",
            post(pages::compliance::add_waiver),
        )
        .route(
            "/ui/companies/{company_id}/compliance/certificates/{id}/policies",
            post(pages::compliance::add_policy),
        )
        .route(
            "/ui/companies/{company_id}/compliance/certificates/{id}/policies/{subject}/remove",
            post(pages::compliance::remove_policy),
        )
        .route(
            "/ui/companies/{company_id}/compliance/{what}/{id}/remove",
            post(pages::compliance::remove),
        )
        .route(
            "/ui/companies/{company_id}/activity",
            get(pages::activity::activity).post(pages::activity::sync_now),
        )
        .route(
            "/ui/companies/{company_id}/runs/{id}",
            get(pages::activity::run),
        )
        .route(
            "/ui/companies/{company_id}/explain",
            get(pages::activity::explain_form),
        )
        .route(
            "/ui/companies/{company_id}/explain/{kind}/{id}",
            get(pages::activity::explain),
        )
        .route(
            "/ui/companies/{company_id}/jobs/{id}/{action}",
            post(pages::activity::job_action),
        )
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(view::live_polls))
        .layer(axum::middleware::map_response(page_headers))
        .with_state(web)
}

/// Every answer of the UI: never shown in a frame of another site (where a button could be
/// clicked through a disguise), nothing run or loaded from elsewhere, and pages kept out of
/// caches (they show a company's data); assets say their own caching.
async fn page_headers(mut response: Response) -> Response {
    use axum::http::header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
        X_FRAME_OPTIONS,
    };
    use axum::http::HeaderValue;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        ),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
