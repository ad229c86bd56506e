//! Compliance profiles: the list, each requirement in words, and an editor for a new profile or
//! for the requirements of one. Like the form template editor it is a plain form, one row per
//! requirement; a row without a key is left out, and saving replaces the profile whole through
//! the API (`PUT …/compliance/profiles/{name}`), which checks it.

use crate::pages::compliance::choices;
use crate::pages::refused;
use crate::session::Signed;
use crate::view::Page;
use crate::Web;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::compliance::{ComplianceProfile, LimitKind};
use serde::Deserialize;
use serde_json::{json, Value};

/// Blank rows offered for new requirements.
const BLANK_ROWS: usize = 3;

/// What a requirement checks, as the editor names it.
const CHECKS: [(&str, &str); 4] = [
    ("limit_at_least", "A limit at least"),
    ("endorsement", "An endorsement"),
    ("statutory", "Per statute (workers compensation)"),
    ("coverage_present", "Any policy in force"),
];

fn path(company: i64) -> String {
    format!("/api/v1/companies/{company}/compliance/profiles")
}

/// A profile's name as one segment of an address: every byte but letters and digits escaped.
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The profiles the API holds, each requirement with its label in words.
async fn profiles_of(web: &Web, signed: &Signed, company: i64) -> Result<Vec<Value>, Response> {
    let reply = web
        .get_all(&signed.0.token, &format!("{}?limit=500", path(company)))
        .await;
    if !reply.ok() {
        return Err(refused(web, signed, &reply));
    }
    let profiles: Vec<ComplianceProfile> = match serde_json::from_value(reply.body.clone()) {
        Ok(profiles) => profiles,
        Err(e) => return Err(crate::pages::failed(web, &e)),
    };
    Ok(profiles
        .iter()
        .map(|p| {
            let requirements: Vec<Value> = p
                .requirements
                .iter()
                .map(|r| {
                    let mut row = serde_json::to_value(r).unwrap_or(Value::Null);
                    row["words"] = Value::from(r.label(p.currency).into_owned());
                    row
                })
                .collect();
            json!({
                "name": p.name,
                "currency": p.currency,
                "expiring_within_days": p.expiring_within_days,
                "requirements": requirements,
            })
        })
        .collect())
}

pub(crate) async fn list(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
) -> Response {
    match profiles_of(&web, &signed, company).await {
        Ok(profiles) => Page::new("Compliance profiles", "profiles.html")
            .with(json!({
                "company_id": company,
                "profiles": profiles,
                "admin": matches!(signed.0.token.scope, store::ApiScope::Admin),
            }))
            .render(&web, Some(&signed)),
        Err(refused) => refused,
    }
}

/// The editor's rows for a profile's requirements, then blank ones.
fn rows(requirements: &[Value]) -> Vec<Value> {
    let mut rows: Vec<Value> = requirements
        .iter()
        .map(|r| {
            json!({
                "key": r["key"],
                "subject": r["subject"],
                "check": r["check"]["type"],
                "limit": r["check"]["limit"],
                "minimum": r["check"]["minimum"],
                "endorsement": r["check"]["endorsement"],
                "label": r["label"],
            })
        })
        .collect();
    with_blank_rows(&mut rows);
    rows
}

/// [`BLANK_ROWS`] blank requirement rows after `rows`.
fn with_blank_rows(rows: &mut Vec<Value>) {
    rows.extend((0..BLANK_ROWS).map(|_| json!({"check": "limit_at_least"})));
}

fn editor(company: i64, values: Value) -> Page {
    let title = match values["name"].as_str() {
        Some(name) if !name.is_empty() => format!("Profile {name}"),
        _ => "New compliance profile".to_string(),
    };
    let checks: Vec<Value> = CHECKS
        .iter()
        .map(|(value, label)| json!({"value": value, "label": label}))
        .collect();
    Page::new(title, "profile.html")
        .with(json!({"company_id": company, "choices": choices(), "checks": checks}))
        .with(values)
}

#[derive(Debug, Deserialize)]
pub(crate) struct EditQuery {
    name: Option<String>,
}

pub(crate) async fn edit_page(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
    Query(query): Query<EditQuery>,
) -> Response {
    let profiles = match profiles_of(&web, &signed, company).await {
        Ok(profiles) => profiles,
        Err(refused) => return refused,
    };
    let Some(name) = query.name else {
        return editor(
            company,
            json!({"name": "", "expiring_within_days": 30, "rows": rows(&[])}),
        )
        .render(&web, Some(&signed));
    };
    let Some(profile) = profiles.into_iter().find(|p| p["name"] == name.as_str()) else {
        return crate::pages::not_found(State(web)).await;
    };
    let requirements = profile["requirements"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    editor(
        company,
        json!({
            "name": profile["name"],
            "existing": true,
            "currency": profile["currency"],
            "expiring_within_days": profile["expiring_within_days"],
            "rows": rows(&requirements),
        }),
    )
    .render(&web, Some(&signed))
}

/// The profile a sent editor describes, and its rows as sent.
fn profile(sent: &[(String, String)]) -> (Value, Vec<Value>) {
    let get = |name: String| super::sent(sent, &name).map(str::to_string);
    let mut requirements = Vec::new();
    let mut rows = Vec::new();
    for i in 0.. {
        let Some(check) = get(format!("r{i}.check")) else {
            break;
        };
        let row = json!({
            "key": get(format!("r{i}.key")),
            "subject": get(format!("r{i}.subject")),
            "check": check,
            "limit": get(format!("r{i}.limit")),
            "minimum": get(format!("r{i}.minimum")),
            "endorsement": get(format!("r{i}.endorsement")),
            "label": get(format!("r{i}.label")),
        });
        rows.push(row.clone());
        if row["key"].is_null() {
            continue;
        }
        let (subject, check) = match check.as_str() {
            // A limit's coverage line is the one whose row carries it.
            "limit_at_least" => {
                let limit = serde_json::from_value::<LimitKind>(row["limit"].clone()).ok();
                (
                    limit.map_or(row["subject"].clone(), |l| {
                        serde_json::to_value(l.subject()).unwrap_or(Value::Null)
                    }),
                    json!({
                        "type": check,
                        "limit": row["limit"],
                        "minimum": row["minimum"].as_str().map(|m| m.replace([',', '$'], "")),
                    }),
                )
            }
            "endorsement" => (
                row["subject"].clone(),
                json!({"type": check, "endorsement": row["endorsement"]}),
            ),
            "statutory" => (json!("workers_compensation"), json!({"type": check})),
            _ => (row["subject"].clone(), json!({"type": check})),
        };
        let mut requirement = json!({"key": row["key"], "subject": subject, "check": check});
        if !row["label"].is_null() {
            requirement["label"] = row["label"].clone();
        }
        requirements.push(requirement);
    }
    let mut body = json!({
        "name": get("name".into()).unwrap_or_default(),
        "requirements": requirements,
    });
    if let Some(currency) = get("currency".into()) {
        body["currency"] = Value::from(currency);
    }
    if let Some(days) = get("expiring_within_days".into()) {
        body["expiring_within_days"] = days.parse::<u32>().map_or(Value::from(days), Value::from);
    }
    (body, rows)
}

pub(crate) async fn save(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path(company): Path<i64>,
    Form(sent): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, super::sent(&sent, "csrf")) {
        return refused;
    }
    let (body, mut rows) = profile(&sent);
    let name = body["name"].as_str().unwrap_or_default().to_string();
    let again = |rows: Vec<Value>| {
        json!({
            "name": name,
            "existing": super::sent(&sent, "existing").is_some(),
            "currency": body.get("currency"),
            "expiring_within_days": body.get("expiring_within_days"),
            "rows": rows,
        })
    };
    if super::sent(&sent, "then") == Some("more") {
        with_blank_rows(&mut rows);
        return editor(company, again(rows)).render(&web, Some(&signed));
    }
    let refuse = |detail: String, rows: Vec<Value>| {
        editor(company, again(rows))
            .with(json!({"refusal": {"detail": detail, "fields": {}}}))
            .status(StatusCode::UNPROCESSABLE_ENTITY)
            .render(&web, Some(&signed))
    };
    if name.is_empty() {
        return refuse("A profile needs a name.".into(), rows);
    }
    // A new profile never replaces one of the same name unseen.
    if super::sent(&sent, "existing").is_none() {
        match profiles_of(&web, &signed, company).await {
            Ok(profiles) if profiles.iter().any(|p| p["name"] == name.as_str()) => {
                return refuse(
                    format!("There is a profile named {name} already: choose another name, or edit its requirements from the list."),
                    rows,
                )
            }
            Ok(_) => {}
            Err(refused) => return refused,
        }
    }
    let reply = web
        .call(
            &signed.0.token,
            Method::PUT,
            &format!("{}/{}", path(company), segment(&name)),
            Some(body.clone()),
        )
        .await;
    if reply.ok() {
        return Redirect::to(&format!("/ui/companies/{company}/compliance/profiles"))
            .into_response();
    }
    if reply.status != StatusCode::UNPROCESSABLE_ENTITY {
        return refused(&web, &signed, &reply);
    }
    // The API names a requirement by its place among those sent (`requirements[N]`); the
    // page names it by its row.
    let mut refusal = reply.refusal();
    let sent_rows: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r["key"].is_null())
        .map(|(i, _)| i)
        .collect();
    refusal.fields = refusal
        .fields
        .into_iter()
        .map(|(field, why)| {
            let row = field
                .strip_prefix("requirements[")
                .and_then(|r| r.split_once(']'))
                .and_then(|(n, _)| n.parse::<usize>().ok())
                .and_then(|n| sent_rows.get(n));
            match row {
                Some(&i) => (
                    field,
                    format!(
                        "Requirement {} ({}): {why}",
                        i + 1,
                        rows[i]["key"].as_str().unwrap_or_default()
                    ),
                ),
                None => (field, why),
            }
        })
        .collect();
    editor(company, again(rows))
        .with(json!({"refusal": refusal}))
        .status(StatusCode::UNPROCESSABLE_ENTITY)
        .render(&web, Some(&signed))
}
