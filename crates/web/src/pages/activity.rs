//! Activity: sync either integration now, the runs with every decision they made per record,
//! `explain` for any record, and the work that failed, with retry and discard.

use crate::pages::refused;
use crate::session::{CsrfForm, Signed};
use crate::view::{Live, Page};
use crate::Web;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;

/// The kinds of record `explain` takes, as people name them.
const KINDS: [(&str, &str); 6] = [
    ("procore-project", "Procore project"),
    ("procore-user", "Procore user"),
    ("procore-company", "Procore company"),
    ("procore-contact", "Procore contact"),
    ("procore-commitment", "Procore commitment"),
    ("form", "Form"),
];

pub(crate) async fn activity(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
    live: Live,
) -> Response {
    let token = &signed.0.token;
    let runs = web
        .get(token, &format!("/api/v1/companies/{company}/runs?limit=20"))
        .await;
    if !runs.ok() {
        return refused(&web, &signed, &runs);
    }
    let dead = web
        .get(
            token,
            &format!("/api/v1/jobs?company_id={company}&state=dead&limit=50"),
        )
        .await;
    let waiting = web
        .get(
            token,
            &format!("/api/v1/jobs?company_id={company}&state=pending&limit=50"),
        )
        .await;
    if let Some(failed) = [&dead, &waiting].into_iter().find(|r| !r.ok()) {
        return refused(&web, &signed, failed);
    }
    let kinds: Vec<_> = KINDS
        .iter()
        .map(|(value, label)| json!({"value": value, "label": label}))
        .collect();
    Page::new("Activity", "activity.html")
        .live(live)
        .with(json!({
            "company_id": company,
            "runs": runs.body,
            "dead": dead.body,
            "pending": waiting.body,
            "kinds": kinds,
            "admin": matches!(token.scope, store::ApiScope::Admin),
        }))
        .render(&web, Some(&signed))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SyncForm {
    csrf: Option<String>,
    integration: String,
    full: Option<String>,
}

pub(crate) async fn sync_now(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path(company): Path<i64>,
    Form(form): Form<SyncForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            &format!("/api/v1/companies/{company}/syncs"),
            Some(json!({"integration": form.integration, "full": form.full.is_some()})),
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Redirect::to(&format!("/ui/companies/{company}/activity")).into_response()
}

pub(crate) async fn run(
    State(web): State<Web>,
    signed: Signed,
    Path((company, id)): Path<(i64, i64)>,
) -> Response {
    let reply = web
        .get(
            &signed.0.token,
            &format!("/api/v1/companies/{company}/runs/{id}"),
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Page::new(format!("Run {id}"), "run.html")
        .with(json!({"company_id": company, "detail": reply.body}))
        .render(&web, Some(&signed))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExplainQuery {
    kind: String,
    id: String,
}

/// The explain form's answer: the record's own page, so it can be linked to.
pub(crate) async fn explain_form(
    Path(company): Path<i64>,
    Query(q): Query<ExplainQuery>,
) -> Response {
    let id: String = q.id.trim().chars().filter(char::is_ascii_digit).collect();
    let kind = KINDS
        .iter()
        .find(|(k, _)| *k == q.kind)
        .map_or("procore-project", |(k, _)| k);
    Redirect::to(&format!("/ui/companies/{company}/explain/{kind}/{id}")).into_response()
}

pub(crate) async fn explain(
    State(web): State<Web>,
    signed: Signed,
    Path((company, kind, id)): Path<(i64, String, String)>,
) -> Response {
    let (Some((_, label)), Ok(id)) = (KINDS.iter().find(|(k, _)| *k == kind), id.parse::<i64>())
    else {
        return crate::pages::not_found(State(web)).await;
    };
    let reply = web
        .get(
            &signed.0.token,
            &format!("/api/v1/companies/{company}/explain/{kind}/{id}"),
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Page::new(format!("Why {label} {id} is as it is"), "explain.html")
        .with(json!({"company_id": company, "e": reply.body}))
        .render(&web, Some(&signed))
}

pub(crate) async fn job_action(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path((company, id, action)): Path<(i64, i64, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    if action != "retry" && action != "discard" {
        return crate::pages::not_found(State(web)).await;
    }
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            &format!("/api/v1/jobs/{id}/{action}"),
            None,
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Redirect::to(&format!("/ui/companies/{company}/activity")).into_response()
}
