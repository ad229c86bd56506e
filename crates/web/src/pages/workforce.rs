//! Workforce: the projects, the workers with their states, filtered, and what an administrator does to one
//! (activate, block, unblock); and the Procore records the sync left waiting because an app
//! record already has their number, name or email, each linked, imported or ignored after a
//! preview of what that changes (the onboarding Corfix does by hand).

use crate::call::with_query;
use crate::pages::refused;
use crate::session::{within, Signed};
use crate::view::{Live, Page};
use crate::Web;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;

const STATES: [(&str, &str); 5] = [
    ("pending_account_activation", "Pending Account Activation"),
    ("pending_email_verification", "Pending Email Verification"),
    ("active", "Active"),
    ("active_for_kiosk", "Active for Kiosk"),
    ("blocked", "Blocked"),
];

pub(crate) async fn workers(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
    Query(query): Query<super::Filters>,
    RawQuery(raw): RawQuery,
    live: Live,
) -> Response {
    let uri = with_query(
        &format!("/api/v1/companies/{company}/workforce/workers"),
        &[
            ("limit", Some("50")),
            ("status", query.status.as_deref()),
            ("q", query.q.as_deref()),
            ("after", query.after.as_deref()),
        ],
    );
    let reply = web.get(&signed.0.token, &uri).await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    let states: Vec<_> = STATES
        .iter()
        .map(|(value, label)| json!({"value": value, "label": label}))
        .collect();
    Page::new("Workers", "workers.html")
        .live(live)
        .with(json!({
            "company_id": company,
            "here": match raw {
                Some(raw) => format!("/ui/companies/{company}/workforce/workers?{raw}"),
                None => format!("/ui/companies/{company}/workforce/workers"),
            },
            "workers": reply.body,
            "states": states,
            "status": query.status,
            "q": query.q,
            "next": reply.next_query(),
            "admin": matches!(signed.0.token.scope, store::ApiScope::Admin),
        }))
        .render(&web, Some(&signed))
}

/// The workforce app's projects, as the sync brings them from Procore (or as they were made
/// in the app), searched by name or number, a page at a time, following Procore by themselves.
pub(crate) async fn projects(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
    Query(query): Query<super::Filters>,
    live: Live,
) -> Response {
    super::project_list(
        &web,
        &signed,
        company,
        &format!("/api/v1/companies/{company}/workforce/projects"),
        Page::new("Projects", "workforce_projects.html"),
        &query,
        live,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActionForm {
    csrf: Option<String>,
    /// The page to go back to (its filters).
    back: Option<String>,
}

pub(crate) async fn worker_action(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path((company, id, action)): Path<(i64, i64, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    if !["activate", "block", "unblock"].contains(&action.as_str()) {
        return crate::pages::not_found(State(web)).await;
    }
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            &format!("/api/v1/companies/{company}/workforce/workers/{id}/{action}"),
            None,
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    let list = format!("/ui/companies/{company}/workforce/workers");
    let back = within(form.back.as_deref(), &list).unwrap_or(&list);
    // After a change, the list again (so a reload does not send the change twice).
    Redirect::to(back).into_response()
}

/// `?decided=JOB`: the page a decision leads to, which says the job that carries it out
/// (anything but a job's number is no flag).
#[derive(Debug, Deserialize)]
pub(crate) struct WaitingQuery {
    decided: Option<String>,
}

pub(crate) async fn waiting(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
    Query(query): Query<WaitingQuery>,
) -> Response {
    let reply = web
        .get(
            &signed.0.token,
            &format!("/api/v1/companies/{company}/workforce/waiting?limit=500"),
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    let decided = query.decided.and_then(|d| d.parse::<i64>().ok());
    // Not live: a decision half made (a radio chosen) would be reset by a new version.
    let page = Page::new("Waiting for a decision", "waiting.html")
        .with(json!({
            "company_id": company,
            "more": reply.next_query().is_some(),
            "waiting": reply.body,
            "decided": decided,
        }))
        .render(&web, Some(&signed));
    crate::view::said_once(page, &format!("/ui/companies/{company}/workforce/waiting"))
}

/// A decision as a form sends it.
#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    csrf: Option<String>,
    decision: String,
    to: Option<String>,
}

impl DecisionForm {
    /// The record a link joins; the page sends it whatever is chosen, and only a link takes it.
    fn to(&self) -> Option<i64> {
        (self.decision == "link")
            .then(|| self.to.as_deref().and_then(|t| t.trim().parse().ok()))
            .flatten()
    }
}

pub(crate) async fn preview(
    State(web): State<Web>,
    signed: Signed,
    Path((company, kind, procore_id)): Path<(i64, String, i64)>,
    Query(form): Query<DecisionForm>,
) -> Response {
    if !["project", "user"].contains(&kind.as_str()) {
        return crate::pages::not_found(State(web)).await;
    }
    let to = form.to().map(|t| t.to_string());
    let uri = with_query(
        &format!("/api/v1/companies/{company}/workforce/waiting/{kind}/{procore_id}/preview"),
        &[("decision", Some(&form.decision)), ("to", to.as_deref())],
    );
    let reply = web.get(&signed.0.token, &uri).await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Page::new("What this decision does", "decision.html")
        .with(json!({
            "company_id": company,
            "kind": kind,
            "procore_id": procore_id,
            "preview": reply.body,
        }))
        .render(&web, Some(&signed))
}

pub(crate) async fn decide(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path((company, kind, procore_id)): Path<(i64, String, i64)>,
    Form(form): Form<DecisionForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    if !["project", "user"].contains(&kind.as_str()) {
        return crate::pages::not_found(State(web)).await;
    }
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            &format!("/api/v1/companies/{company}/workforce/waiting/{kind}/{procore_id}/decision"),
            Some(json!({"decision": form.decision, "to": form.to()})),
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    // Post/redirect/get: a reload shows the list again rather than send the decision twice.
    let decided = reply.body["job_id"]
        .as_i64()
        .map_or(String::new(), |job| format!("?decided={job}"));
    Redirect::to(&format!(
        "/ui/companies/{company}/workforce/waiting{decided}"
    ))
    .into_response()
}
