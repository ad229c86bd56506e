//! The pages, one module per area.

pub(crate) mod activity;
pub(crate) mod compliance;
pub(crate) mod forms;
pub(crate) mod integrations;
pub(crate) mod profiles;
pub(crate) mod templates;
pub(crate) mod workforce;

use crate::call::Reply;
use crate::view::Page;
use crate::Web;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

/// A list page's filters (a state, a search, the page after an item), passed to the API as
/// they are.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Filters {
    pub status: Option<String>,
    pub q: Option<String>,
    pub after: Option<String>,
}

/// A live list of projects (the workforce app's or the compliance app's, from the API's list
/// at `api`), searched by name and 100 a page.
pub(crate) async fn project_list(
    web: &Web,
    signed: &crate::session::Signed,
    company: i64,
    api: &str,
    page: Page,
    query: &Filters,
    live: crate::view::Live,
) -> Response {
    let uri = crate::call::with_query(
        api,
        &[
            ("limit", Some("100")),
            ("q", query.q.as_deref()),
            ("after", query.after.as_deref()),
        ],
    );
    let reply = web.get(&signed.0.token, &uri).await;
    if !reply.ok() {
        return refused(web, signed, &reply);
    }
    page.live(live)
        .with(json!({
            "company_id": company,
            "projects": reply.body,
            "next": reply.next_query(),
            "q": query.q,
        }))
        .render(web, Some(signed))
}

/// The value of field `name` in a sent form, trimmed; none when it is missing or empty (a
/// checkbox is present only when ticked).
pub(crate) fn sent<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// trestle itself failed (the store, most likely): the person is told, the log says why.
pub(crate) fn failed(web: &Web, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %error, "a page failed");
    Page::new("Something went wrong", "failed.html")
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .render(web, None)
}

pub(crate) async fn not_found(State(web): State<Web>) -> Response {
    Page::new("Not found", "not_found.html")
        .status(StatusCode::NOT_FOUND)
        .render(&web, None)
}

/// The API refused what a page asked for: the page says so with the API's words.
pub(crate) fn refused(web: &Web, signed: &crate::session::Signed, reply: &Reply) -> Response {
    let status = match reply.status {
        StatusCode::FORBIDDEN => StatusCode::FORBIDDEN,
        StatusCode::NOT_FOUND => StatusCode::NOT_FOUND,
        s if s.is_server_error() => StatusCode::BAD_GATEWAY,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Page::new("Refused", "refused.html")
        .with(json!({"detail": reply.refusal().detail}))
        .status(status)
        .render(web, Some(signed))
}
