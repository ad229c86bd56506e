//! Integrations, Procore: the companies connected, each with its health and what fixes it,
//! and connecting one (Corfix's "My Account Details, Integrations, Procore": the Company ID,
//! the credentials, the three toggles and the forms folder, then the permission checklist).

use crate::pages::refused;
use crate::session::{CsrfForm, Signed};
use crate::view::Page;
use crate::Web;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;

pub(crate) async fn home(State(web): State<Web>, signed: Signed) -> Response {
    // A worker's token is for filling forms: that is where a worker starts.
    if let store::ApiScope::Worker { company_id, .. } = signed.0.token.scope {
        return Redirect::to(&format!("/ui/companies/{company_id}/forms")).into_response();
    }
    let reply = web
        .get_all(&signed.0.token, "/api/v1/connections?limit=500")
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Page::new("Integrations", "home.html")
        .with(json!({"connections": reply.body}))
        .render(&web, Some(&signed))
}

pub(crate) async fn connect_page(State(web): State<Web>, signed: Signed) -> Response {
    Page::new("Connect Procore", "connect.html")
        .with(json!({"form": {"sync_forms": true, "forms_folder": "Corfix Forms"}}))
        .render(&web, Some(&signed))
}

/// The connect form as sent. Checkboxes are present only when ticked. (No `Debug`: it holds
/// the client secret.)
#[derive(Deserialize)]
pub(crate) struct ConnectForm {
    csrf: Option<String>,
    company_id: String,
    client_id: String,
    client_secret: String,
    sync_employees_only: Option<String>,
    auto_activate_workers: Option<String>,
    sync_forms: Option<String>,
    forms_folder: Option<String>,
    check_only: Option<String>,
}

pub(crate) async fn connect(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<ConnectForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    // A Company ID that is no number is sent as 0, which the API refuses naming the field.
    let body = json!({
        "company_id": form.company_id.trim().parse::<i64>().unwrap_or(0),
        "client_id": form.client_id,
        "client_secret": form.client_secret,
        "sync_employees_only": form.sync_employees_only.is_some(),
        "auto_activate_workers": form.auto_activate_workers.is_some(),
        "sync_forms": form.sync_forms.is_some(),
        "forms_folder": form.forms_folder.as_deref().map(str::trim).filter(|f| !f.is_empty()),
        "check_only": form.check_only.is_some(),
    });
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            "/api/v1/connections",
            Some(body),
        )
        .await;
    // The form comes back as it was sent, but never the secret.
    let sent = json!({
        "company_id": form.company_id,
        "client_id": form.client_id,
        "sync_employees_only": form.sync_employees_only.is_some(),
        "auto_activate_workers": form.auto_activate_workers.is_some(),
        "sync_forms": form.sync_forms.is_some(),
        "forms_folder": form.forms_folder,
    });
    let page = Page::new("Connect Procore", "connect.html").with(json!({"form": sent}));
    if reply.ok() {
        return page
            .with(json!({"connected": reply.body}))
            .render(&web, Some(&signed));
    }
    if reply.status == StatusCode::FORBIDDEN {
        return refused(&web, &signed, &reply);
    }
    page.with(json!({"refusal": reply.refusal()}))
        .status(StatusCode::UNPROCESSABLE_ENTITY)
        .render(&web, Some(&signed))
}

/// The workforce toggles of a connected company, as its card's form sends them.
#[derive(Debug, Deserialize)]
pub(crate) struct TogglesForm {
    csrf: Option<String>,
    sync_employees_only: Option<String>,
    auto_activate_workers: Option<String>,
    sync_forms: Option<String>,
    forms_folder: Option<String>,
}

pub(crate) async fn change(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path(company): Path<i64>,
    Form(form): Form<TogglesForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    let body = json!({
        "sync_employees_only": form.sync_employees_only.is_some(),
        "auto_activate_workers": form.auto_activate_workers.is_some(),
        "sync_forms": form.sync_forms.is_some(),
        "forms_folder": form.forms_folder.map(|f| f.trim().to_string()),
    });
    let reply = web
        .call(
            &signed.0.token,
            Method::PATCH,
            &format!("/api/v1/connections/{company}"),
            Some(body),
        )
        .await;
    if reply.ok() {
        return Redirect::to("/ui/").into_response();
    }
    if reply.status != StatusCode::UNPROCESSABLE_ENTITY {
        return refused(&web, &signed, &reply);
    }
    let connections = web
        .get_all(&signed.0.token, "/api/v1/connections?limit=500")
        .await;
    Page::new("Integrations", "home.html")
        .with(json!({
            "connections": connections.body,
            "refused_company": company,
            "refusal": reply.refusal(),
        }))
        .status(StatusCode::UNPROCESSABLE_ENTITY)
        .render(&web, Some(&signed))
}

pub(crate) async fn disconnect(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path(company): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    let reply = web
        .call(
            &signed.0.token,
            Method::DELETE,
            &format!("/api/v1/connections/{company}"),
            None,
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Redirect::to("/ui/").into_response()
}
