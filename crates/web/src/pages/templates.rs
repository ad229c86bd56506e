//! Form templates: the list, and an editor for a new template or a new version of one. The
//! editor is a plain form (it works with the keyboard alone and without script): one row per
//! field, with the section it belongs to; rows of the same section in a row make one section,
//! and empty rows are left out. A saved template is never changed: saving makes a new
//! version, and forms filled on the old one keep it.

use crate::call::Refusal;
use crate::pages::refused;
use crate::session::Signed;
use crate::view::Page;
use crate::Web;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde_json::{json, Map, Value};

/// Field kinds, as the template takes them and as people name them.
const KINDS: [(&str, &str); 10] = [
    ("text", "Text"),
    ("number", "Number"),
    ("date", "Date"),
    ("checkbox", "Checkbox"),
    ("yes_no_na", "Yes / No / N/A"),
    ("pass_fail_na", "Pass / Fail / N/A"),
    ("choice", "One of several"),
    ("multi_choice", "Several of several"),
    ("signature", "Signature"),
    ("instruction", "Instruction (no answer)"),
];

/// Blank rows offered for new fields.
const BLANK_ROWS: usize = 4;

pub(crate) async fn list(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
) -> Response {
    let reply = web
        .get_all(
            &signed.0.token,
            &format!("/api/v1/companies/{company}/forms/templates?limit=500"),
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Page::new("Form templates", "templates.html")
        .with(json!({"company_id": company, "templates": reply.body}))
        .render(&web, Some(&signed))
}

/// The editor's rows for a template's sections, and blank ones after them.
fn rows(sections: &Value) -> Vec<Value> {
    let mut rows: Vec<Value> = sections
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| {
            let title = s["title"].clone();
            s["fields"].as_array().into_iter().flatten().map(move |f| {
                let mut row = f.clone();
                row["section"] = title.clone();
                row["options"] = Value::from(
                    f["options"]
                        .as_array()
                        .map(|o| {
                            o.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default(),
                );
                row
            })
        })
        .collect();
    with_blank_rows(&mut rows);
    rows
}

/// [`BLANK_ROWS`] blank rows after `rows`, in the last row's section.
fn with_blank_rows(rows: &mut Vec<Value>) {
    let last = rows
        .last()
        .map_or_else(|| Value::from("Questions"), |r| r["section"].clone());
    rows.extend((0..BLANK_ROWS).map(|_| json!({"section": last, "kind": "text"})));
}

fn kinds() -> Vec<Value> {
    KINDS
        .iter()
        .map(|(value, label)| json!({"value": value, "label": label}))
        .collect()
}

pub(crate) async fn new_page(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
) -> Response {
    Page::new("New form template", "template.html")
        .with(json!({"company_id": company, "name": "", "rows": rows(&Value::Null), "kinds": kinds()}))
        .render(&web, Some(&signed))
}

pub(crate) async fn edit_page(
    State(web): State<Web>,
    signed: Signed,
    Path((company, id)): Path<(i64, i64)>,
) -> Response {
    let reply = web
        .get(
            &signed.0.token,
            &format!("/api/v1/companies/{company}/forms/templates/{id}"),
        )
        .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Page::new(
        format!(
            "{}: a new version",
            reply.body["name"].as_str().unwrap_or("Template")
        ),
        "template.html",
    )
    .with(json!({
        "company_id": company,
        "id": id,
        "name": reply.body["name"],
        "replaced_by": reply.body["replaced_by"],
        "rows": rows(&reply.body["sections"]),
        "kinds": kinds(),
    }))
    .render(&web, Some(&signed))
}

/// The template a sent editor describes, and for each field in it the row it came from.
fn template(sent: &[(String, String)]) -> (Value, Vec<(usize, usize, usize)>, Vec<Value>) {
    let get = |name: String| super::sent(sent, &name).map(str::to_string);
    let mut sections: Vec<(String, Vec<Value>)> = Vec::new();
    let mut origin = Vec::new();
    let mut rows = Vec::new();
    for i in 0.. {
        let Some(kind) = get(format!("f{i}.kind")) else {
            break;
        };
        let section = get(format!("f{i}.section")).unwrap_or_default();
        let key = get(format!("f{i}.key")).unwrap_or_default();
        let label = get(format!("f{i}.label")).unwrap_or_default();
        let options = get(format!("f{i}.options")).unwrap_or_default();
        let required = get(format!("f{i}.required")).is_some();
        let multiline = get(format!("f{i}.multiline")).is_some();
        rows.push(
            json!({"section": section, "key": key, "label": label, "kind": kind,
            "options": options, "required": required, "multiline": multiline}),
        );
        if key.is_empty() && label.is_empty() {
            continue;
        }
        let mut field = Map::new();
        field.insert("key".into(), Value::from(key));
        field.insert("label".into(), Value::from(label));
        field.insert("kind".into(), Value::from(kind.clone()));
        field.insert("required".into(), Value::from(required));
        match kind.as_str() {
            "choice" | "multi_choice" => {
                let options: Vec<&str> = options
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .collect();
                field.insert("options".into(), json!(options));
            }
            "text" => {
                field.insert("multiline".into(), Value::from(multiline));
            }
            _ => {}
        }
        if sections.last().is_none_or(|(title, _)| *title != section) {
            sections.push((section, Vec::new()));
        }
        let section = sections.len() - 1;
        let (_, fields) = &mut sections[section];
        fields.push(Value::Object(field));
        origin.push((section, fields.len() - 1, rows.len() - 1));
    }
    let body = json!({
        "name": get("name".into()).unwrap_or_default(),
        "sections": sections
            .into_iter()
            .map(|(title, fields)| json!({"title": title, "fields": fields}))
            .collect::<Vec<_>>(),
    });
    (body, origin, rows)
}

/// The API names a field `sections[S].fields[F].key`; the editor shows it on its row.
fn on_rows(refusal: Refusal, origin: &[(usize, usize, usize)]) -> (Value, Vec<String>) {
    let mut by_row = Map::new();
    let mut general = Vec::new();
    for (field, why) in refusal.fields {
        let row = field
            .strip_prefix("sections[")
            .and_then(|r| r.split_once("].fields["))
            .and_then(|(s, r)| {
                Some((
                    s.parse::<usize>().ok()?,
                    r.split_once(']')?.0.parse::<usize>().ok()?,
                ))
            })
            .and_then(|(s, f)| origin.iter().find(|o| o.0 == s && o.1 == f))
            .map(|o| o.2);
        match row {
            Some(row) => {
                by_row.insert(row.to_string(), Value::from(why));
            }
            None => general.push(format!("{field}: {why}")),
        }
    }
    (Value::Object(by_row), general)
}

async fn save(
    web: &Web,
    signed: &Signed,
    headers: &HeaderMap,
    company: i64,
    id: Option<i64>,
    sent: &[(String, String)],
) -> Response {
    if let Some(refused) = signed.forged(web, headers, super::sent(sent, "csrf")) {
        return refused;
    }
    let (body, origin, mut rows) = template(sent);
    if super::sent(sent, "then") == Some("more") {
        // More rows asked for: the editor again as sent, with blank rows after; nothing saved.
        // A version a newer one replaced still says so.
        with_blank_rows(&mut rows);
        let mut replaced_by = Value::Null;
        if let Some(id) = id {
            let reply = web
                .get(
                    &signed.0.token,
                    &format!("/api/v1/companies/{company}/forms/templates/{id}"),
                )
                .await;
            if !reply.ok() {
                return refused(web, signed, &reply);
            }
            replaced_by = reply.body["replaced_by"].clone();
        }
        return Page::new("Form template", "template.html")
            .with(json!({
                "company_id": company,
                "id": id,
                "name": body["name"],
                "replaced_by": replaced_by,
                "rows": rows,
                "kinds": kinds(),
            }))
            .render(web, Some(signed));
    }
    let (method, uri) = match id {
        Some(id) => (
            Method::PUT,
            format!("/api/v1/companies/{company}/forms/templates/{id}"),
        ),
        None => (
            Method::POST,
            format!("/api/v1/companies/{company}/forms/templates"),
        ),
    };
    let reply = web
        .call(&signed.0.token, method, &uri, Some(body.clone()))
        .await;
    if reply.ok() {
        return Redirect::to(&format!("/ui/companies/{company}/forms/templates")).into_response();
    }
    if reply.status != StatusCode::UNPROCESSABLE_ENTITY {
        return refused(web, signed, &reply);
    }
    let detail = reply.refusal().detail.clone();
    let (row_errors, general) = on_rows(reply.refusal(), &origin);
    Page::new("Form template", "template.html")
        .with(json!({
            "company_id": company,
            "id": id,
            "name": body["name"],
            "rows": rows,
            "kinds": kinds(),
            "detail": detail,
            "row_errors": row_errors,
            "general": general,
        }))
        .status(StatusCode::UNPROCESSABLE_ENTITY)
        .render(web, Some(signed))
}

pub(crate) async fn create(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path(company): Path<i64>,
    Form(sent): Form<Vec<(String, String)>>,
) -> Response {
    save(&web, &signed, &headers, company, None, &sent).await
}

pub(crate) async fn revise(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path((company, id)): Path<(i64, i64)>,
    Form(sent): Form<Vec<(String, String)>>,
) -> Response {
    save(&web, &signed, &headers, company, Some(id), &sent).await
}
