//! Forms: the forms filled on the company's projects, starting one on a template, filling
//! it in (on a phone), signing it, completing it, its PDF, and where it is in Procore.
//! A change after completion is a new revision, which reaches Procore as a new version of
//! the same document.

use crate::call::{with_query, Reply};
use crate::pages::refused;
use crate::session::Signed;
use crate::view::Page;
use crate::Web;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Ids to names, from a list the API answered.
fn names(list: &Value) -> BTreeMap<String, Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r["id"].as_i64()?.to_string(), r["name"].clone())))
        .collect()
}

async fn lists(web: &Web, signed: &Signed, company: i64) -> Result<(Value, Value), Reply> {
    let templates = web
        .get_all(
            &signed.0.token,
            &format!("/api/v1/companies/{company}/forms/templates?limit=500"),
        )
        .await;
    if !templates.ok() {
        return Err(templates);
    }
    let projects = web
        .get_all(
            &signed.0.token,
            &format!("/api/v1/companies/{company}/workforce/projects?limit=500"),
        )
        .await;
    if !projects.ok() {
        return Err(projects);
    }
    Ok((templates.body, projects.body))
}

#[derive(Debug, Deserialize)]
pub(crate) struct FormsQuery {
    after: Option<String>,
}

pub(crate) async fn list(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
    Query(query): Query<FormsQuery>,
) -> Response {
    let forms = web
        .get(
            &signed.0.token,
            &with_query(
                &format!("/api/v1/companies/{company}/forms"),
                &[("limit", Some("50")), ("after", query.after.as_deref())],
            ),
        )
        .await;
    if !forms.ok() {
        return refused(&web, &signed, &forms);
    }
    let (templates, projects) = match lists(&web, &signed, company).await {
        Ok(lists) => lists,
        Err(reply) => return refused(&web, &signed, &reply),
    };
    Page::new("Forms", "forms.html")
        .with(json!({
            "company_id": company,
            "forms": forms.body,
            "next": forms.next_query(),
            "template_names": names(&templates),
            "project_names": names(&projects),
            "templates": templates.as_array().map(|t| t.iter().filter(|t| t["replaced_by"].is_null()).cloned().collect::<Vec<_>>()),
            "projects": projects,
            "today": chrono::Utc::now().date_naive().to_string(),
        }))
        .render(&web, Some(&signed))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StartForm {
    csrf: Option<String>,
    template_id: String,
    project_id: String,
    form_date: String,
}

pub(crate) async fn start(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path(company): Path<i64>,
    Form(form): Form<StartForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    let body = json!({
        "template_id": form.template_id.parse::<i64>().unwrap_or(0),
        "project_id": form.project_id.parse::<i64>().unwrap_or(0),
        "form_date": form.form_date,
    });
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            &format!("/api/v1/companies/{company}/forms"),
            Some(body),
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    let id = reply.body["id"].as_i64().unwrap_or_default();
    Redirect::to(&format!("/ui/companies/{company}/forms/{id}")).into_response()
}

/// The form, its template and the project's name, or the API's refusal.
async fn load(web: &Web, signed: &Signed, company: i64, id: i64) -> Result<Value, Reply> {
    let form = web
        .get(
            &signed.0.token,
            &format!("/api/v1/companies/{company}/forms/{id}"),
        )
        .await;
    if !form.ok() {
        return Err(form);
    }
    let template = web
        .get(
            &signed.0.token,
            &format!(
                "/api/v1/companies/{company}/forms/templates/{}",
                form.body["template_id"]
            ),
        )
        .await;
    if !template.ok() {
        return Err(template);
    }
    let signed_fields: Map<String, Value> = form.body["signatures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["field_key"].as_str()?.to_string(), s.clone())))
        .collect();
    // The version the page shows, sent back with a save: a save over a colleague's is refused.
    let version = form
        .headers
        .get(axum::http::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Ok(json!({
        "form": form.body,
        "template": template.body,
        "signed_fields": signed_fields,
        "version": version,
    }))
}

fn form_page(company: i64, values: Value) -> Page {
    let title = format!(
        "{} {}",
        values["template"]["name"].as_str().unwrap_or("Form"),
        values["form"]["form_date"].as_str().unwrap_or_default()
    );
    Page::new(title, "form.html")
        .with(values)
        .with(json!({"company_id": company}))
}

pub(crate) async fn show(
    State(web): State<Web>,
    signed: Signed,
    Path((company, id)): Path<(i64, i64)>,
) -> Response {
    match load(&web, &signed, company, id).await {
        Ok(values) => form_page(company, values).render(&web, Some(&signed)),
        Err(reply) => refused(&web, &signed, &reply),
    }
}

/// The answers a filled-in page sends, by the template's fields: `a.KEY` per field. A field
/// the page shows but left empty is sent as `null`, which takes back an answer given before.
fn answers(template: &Value, sent: &[(String, String)]) -> Map<String, Value> {
    let mut answers = Map::new();
    let fields = template["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["fields"].as_array().into_iter().flatten());
    for field in fields {
        let Some(key) = field["key"].as_str() else {
            continue;
        };
        let name = format!("a.{key}");
        let given: Vec<&str> = sent
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        let first = given.first().copied();
        let answer = match field["kind"].as_str().unwrap_or_default() {
            "signature" | "instruction" => continue,
            "checkbox" => json!({"type": "checked", "value": first.is_some()}),
            "multi_choice" if !given.is_empty() => json!({"type": "choices", "value": given}),
            "yes_no_na" | "pass_fail_na" => first.map_or(Value::Null, |v| json!({"type": v})),
            kind @ ("text" | "number" | "date" | "choice") => {
                first.map_or(Value::Null, |v| json!({"type": kind, "value": v}))
            }
            _ => Value::Null,
        };
        answers.insert(key.to_string(), answer);
    }
    answers
}

/// Saves the answers, and completes the form when the button pressed says so.
pub(crate) async fn save(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path((company, id)): Path<(i64, i64)>,
    Form(sent): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| super::sent(&sent, name);
    if let Some(refused) = signed.forged(&web, &headers, field("csrf")) {
        return refused;
    }
    let values = match load(&web, &signed, company, id).await {
        Ok(values) => values,
        Err(reply) => return refused(&web, &signed, &reply),
    };
    let path = format!("/api/v1/companies/{company}/forms/{id}");
    let answers = answers(&values["template"], &sent);
    let mut reply = web
        .call_if(
            &signed.0.token,
            Method::PATCH,
            &path,
            Some(json!({ "answers": answers })),
            field("version").filter(|v| !v.is_empty()),
        )
        .await;
    let mut values = values;
    if reply.ok() {
        // Saved: a refused completion shows the page at the version just saved.
        if let Some(saved) = reply.headers.get(axum::http::header::ETAG) {
            values["version"] = Value::from(saved.to_str().unwrap_or_default());
        }
    } else if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
        // Refused before it was compared: the page keeps the version it showed, so a
        // colleague's save since is still caught on the next try. (After a 412 it shows the
        // form as it is now, at its version, to be saved over knowingly.)
        if let Some(shown) = field("version") {
            values["version"] = Value::from(shown);
        }
    }
    // Signing is sent with the answers (the Sign button belongs to the answers' form), so
    // what was typed before signing is saved first, never lost.
    if let Some(key) = field("then").and_then(|t| t.strip_prefix("sign:")) {
        if reply.ok() {
            reply = sign(&web, &signed, &path, key, &sent).await;
        }
    } else if reply.ok() && field("then") == Some("complete") {
        reply = web
            .call(
                &signed.0.token,
                Method::POST,
                &format!("{path}/complete"),
                None,
            )
            .await;
    }
    if reply.ok() {
        return Redirect::to(&format!("/ui/companies/{company}/forms/{id}")).into_response();
    }
    if reply.status == StatusCode::PRECONDITION_FAILED {
        // Changed since the page was opened (a colleague saved, someone signed): the form as
        // it is now, with what this person typed in its fields, and the choice to save it over.
        values["form"]["answers"] = Value::Object(answers);
        return form_page(company, values)
            .with(json!({"changed": true}))
            .status(StatusCode::CONFLICT)
            .render(&web, Some(&signed));
    }
    if reply.status != StatusCode::UNPROCESSABLE_ENTITY {
        return refused(&web, &signed, &reply);
    }
    // Refused: the page again, with what was typed and each wrong field named.
    // Answers and signatures are named `answers.KEY` and `signatures.KEY`: shown at KEY.
    let mut refusal = reply.refusal();
    refusal.fields = refusal
        .fields
        .into_iter()
        .map(|(f, why)| {
            let key = f
                .strip_prefix("answers.")
                .or_else(|| f.strip_prefix("signatures."))
                .unwrap_or(&f);
            (key.to_string(), why)
        })
        .collect();
    values["form"]["answers"] = Value::Object(answers);
    form_page(company, values)
        .with(json!({"refusal": refusal}))
        .status(StatusCode::UNPROCESSABLE_ENTITY)
        .render(&web, Some(&signed))
}

/// Signs field `key` of the form at `path` with the signer's name and the drawing the page
/// sent for it (`signer_name.KEY`, `drawing.KEY`).
async fn sign(
    web: &Web,
    signed: &Signed,
    path: &str,
    key: &str,
    sent: &[(String, String)],
) -> Reply {
    // Sent as drawn: the API checks it and names what is wrong.
    let drawing = match super::sent(sent, &format!("drawing.{key}")) {
        None => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
    };
    let body = json!({
        "field_key": key,
        "signer_name": super::sent(sent, &format!("signer_name.{key}")),
        "drawing": drawing,
    });
    web.call(
        &signed.0.token,
        Method::POST,
        &format!("{path}/signatures"),
        Some(body),
    )
    .await
}

pub(crate) async fn pdf(
    State(web): State<Web>,
    signed: Signed,
    Path((company, id)): Path<(i64, i64)>,
) -> Response {
    let (status, bytes) = web
        .bytes(
            &signed.0.token,
            &format!("/api/v1/companies/{company}/forms/{id}/pdf"),
        )
        .await;
    if !status.is_success() {
        let reply = Reply {
            status,
            headers: HeaderMap::new(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        };
        return refused(&web, &signed, &reply);
    }
    (
        [
            (CONTENT_TYPE, "application/pdf".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("inline; filename=\"form-{id}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
