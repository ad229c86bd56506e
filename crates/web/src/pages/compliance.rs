//! Compliance: the integration's settings in the seed's words (TrustLayer's "Settings,
//! Integrations, Procore"), the mapping screen for Procore projects and companies (import,
//! link to an existing record, or do not add, each previewed; several at once), and the
//! parties with their compliance and its reasons.

use crate::call::{with_query, Reply};
use crate::pages::refused;
use crate::session::{within, Signed};
use crate::view::{Live, Page};
use crate::Web;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Value};

fn settings_path(company: i64) -> String {
    format!("/api/v1/companies/{company}/compliance/settings")
}

/// `?saved=1`: the page a save leads to, which says so.
#[derive(Debug, Deserialize)]
pub(crate) struct SettingsQuery {
    saved: Option<String>,
}

pub(crate) async fn settings(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
    Query(query): Query<SettingsQuery>,
) -> Response {
    let reply = web.get(&signed.0.token, &settings_path(company)).await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    let page = Page::new("Compliance settings", "compliance_settings.html")
        .with(json!({"company_id": company, "s": reply.body, "saved": query.saved.is_some()}))
        .render(&web, Some(&signed));
    crate::view::said_once(
        page,
        &format!("/ui/companies/{company}/compliance/settings"),
    )
}

/// Statuses as a person types them: one per comma.
fn statuses(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) async fn save_settings(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path(company): Path<i64>,
    Form(sent): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| super::sent(&sent, name);
    if let Some(refused) = signed.forged(&web, &headers, field("csrf")) {
        return refused;
    }
    let on = |name: &str| field(name).is_some();
    let active = match field("active_rule").unwrap_or_default() {
        "shared" => json!({"rule": "shared", "statuses": statuses(field("shared_statuses"))}),
        "executed_only" => json!({"rule": "executed_only"}),
        _ => json!({
            "rule": "per_type",
            "subcontracts": statuses(field("subcontract_statuses")),
            "purchase_orders": statuses(field("purchase_order_statuses")),
        }),
    };
    let body = json!({
        "compliance_sync": on("compliance_sync"),
        "level": field("level"),
        "format": field("format"),
        "contacts": field("contacts"),
        "ignore_purchase_orders": on("ignore_purchase_orders"),
        "ignore_subcontracts": on("ignore_subcontracts"),
        "active_commitments": active,
        "sync_active_status": on("sync_active_status"),
        "description": field("description"),
        "profile_field": field("profile_field").unwrap_or_default().trim(),
        "new_projects": field("new_projects"),
        "import_companies_through_commitments": on("import_companies_through_commitments"),
        // Not a number: sent as typed, for the API to name what is wrong with it.
        "full_read_days": match field("full_read_days").map(str::trim) {
            None | Some("") => Value::Null,
            Some(d) => d.parse::<u32>().map_or_else(|_| Value::from(d), Value::from),
        },
    });
    let reply = web
        .call(
            &signed.0.token,
            Method::PATCH,
            &settings_path(company),
            Some(body.clone()),
        )
        .await;
    if reply.ok() {
        // To the page by a redirect, so a reload shows the settings rather than saving again.
        return Redirect::to(&format!(
            "/ui/companies/{company}/compliance/settings?saved=1"
        ))
        .into_response();
    }
    if reply.status != StatusCode::UNPROCESSABLE_ENTITY {
        return refused(&web, &signed, &reply);
    }
    // The page again as it was sent, so nothing typed is lost, each wrong field named.
    let mut shown = web.get(&signed.0.token, &settings_path(company)).await.body;
    if let (Value::Object(shown), Value::Object(sent)) = (&mut shown, body) {
        shown.extend(sent);
    }
    Page::new("Compliance settings", "compliance_settings.html")
        .with(json!({"company_id": company, "s": shown, "refusal": reply.refusal()}))
        .status(StatusCode::UNPROCESSABLE_ENTITY)
        .render(&web, Some(&signed))
}

#[derive(Debug, Deserialize)]
pub(crate) struct MappingsQuery {
    waiting: Option<String>,
    kind: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

pub(crate) async fn mappings(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
    Query(query): Query<MappingsQuery>,
    RawQuery(raw): RawQuery,
) -> Response {
    let uri = with_query(
        &format!("/api/v1/companies/{company}/compliance/mappings"),
        &[
            ("limit", Some("100")),
            (
                "waiting",
                (query.waiting.as_deref() == Some("true")).then_some("true"),
            ),
            ("kind", query.kind.as_deref()),
            ("q", query.q.as_deref()),
            ("after", query.after.as_deref()),
        ],
    );
    let reply = web.get(&signed.0.token, &uri).await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    let here = format!(
        "/ui/companies/{company}/compliance/mappings{}",
        raw.map(|r| format!("?{r}")).unwrap_or_default()
    );
    Page::new("Procore projects and companies", "mappings.html")
        .with(json!({
            "company_id": company,
            "rows": reply.body,
            "next": reply.next_query(),
            "waiting": query.waiting.as_deref() == Some("true"),
            "kind": query.kind,
            "q": query.q,
            "here": here,
            "admin": matches!(signed.0.token.scope, store::ApiScope::Admin),
        }))
        .render(&web, Some(&signed))
}

/// A decision as the preview page or the bulk form sends it; `find` (with `search`, its
/// button) narrows the records a link can choose by name.
#[derive(Debug, Deserialize)]
pub(crate) struct DecisionQuery {
    decision: Option<String>,
    to: Option<String>,
    find: Option<String>,
    search: Option<String>,
}

/// How many records a link can choose from at once: a company has thousands of parties, so
/// the list is the first of them, or those whose name holds what was searched.
const LINK_CHOICES: &str = "100";

/// The records a link can join a Procore record of `kind` to (those named like `find`, if
/// given), and whether there are more than were listed.
async fn link_targets(
    web: &Web,
    signed: &Signed,
    company: i64,
    kind: &str,
    find: Option<&str>,
) -> (Value, bool) {
    let what = if kind == "project" {
        "projects"
    } else {
        "parties"
    };
    let reply = web
        .get(
            &signed.0.token,
            &with_query(
                &format!("/api/v1/companies/{company}/compliance/{what}"),
                &[("limit", Some(LINK_CHOICES)), ("q", find)],
            ),
        )
        .await;
    // Without them the page still previews import and do not add.
    if reply.ok() {
        let more = reply.next_query().is_some();
        (reply.body, more)
    } else {
        (Value::Array(Vec::new()), false)
    }
}

pub(crate) async fn mapping(
    State(web): State<Web>,
    signed: Signed,
    Path((company, kind, procore_id)): Path<(i64, String, i64)>,
    Query(query): Query<DecisionQuery>,
) -> Response {
    if !["project", "company"].contains(&kind.as_str()) {
        return crate::pages::not_found(State(web)).await;
    }
    let find = query
        .find
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    let (targets, more) = link_targets(&web, &signed, company, &kind, find).await;
    // Searching is choosing whom to link to: the page comes back with the link chosen and
    // nothing previewed yet.
    let searching = query.search.is_some();
    let decision = if searching {
        Some("link")
    } else {
        query.decision.as_deref()
    };
    let mut values = json!({
        "company_id": company,
        "kind": kind,
        "procore_id": procore_id,
        "targets": targets,
        "more": more,
        "find": find,
        "searched": searching,
        "decision": decision,
        "to": query.to,
    });
    if let Some(decision) = decision.filter(|_| !searching) {
        // Only a link takes a target; the page sends the select's value whatever is chosen.
        let to = (decision == "link")
            .then(|| query.to.as_deref().and_then(|t| t.parse::<i64>().ok()))
            .flatten()
            .map(|t| t.to_string());
        let uri = with_query(
            &format!("/api/v1/companies/{company}/compliance/mappings/{kind}/{procore_id}/preview"),
            &[("decision", Some(decision)), ("to", to.as_deref())],
        );
        let reply = web.get(&signed.0.token, &uri).await;
        if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
            values["refusal"] = json!(reply.refusal());
        } else if !reply.ok() {
            return refused(&web, &signed, &reply);
        } else {
            values["preview"] = reply.body;
        }
    }
    Page::new(format!("Procore {kind} {procore_id}"), "mapping.html")
        .with(values)
        .render(&web, Some(&signed))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecideForm {
    csrf: Option<String>,
    decision: String,
    to: Option<String>,
}

async fn decide_one(
    web: &Web,
    signed: &Signed,
    company: i64,
    kind: &str,
    procore_id: i64,
    decision: &str,
    to: Option<i64>,
) -> Reply {
    web.call(
        &signed.0.token,
        Method::POST,
        &format!("/api/v1/companies/{company}/compliance/mappings/{kind}/{procore_id}"),
        Some(json!({"decision": decision, "to": to})),
    )
    .await
}

pub(crate) async fn decide(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path((company, kind, procore_id)): Path<(i64, String, i64)>,
    Form(form): Form<DecideForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    if !["project", "company"].contains(&kind.as_str()) {
        return crate::pages::not_found(State(web)).await;
    }
    let to = (form.decision == "link")
        .then(|| form.to.as_deref().and_then(|t| t.parse().ok()))
        .flatten();
    let reply = decide_one(
        &web,
        &signed,
        company,
        &kind,
        procore_id,
        &form.decision,
        to,
    )
    .await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Redirect::to(&format!("/ui/companies/{company}/compliance/mappings")).into_response()
}

/// Several records at once: `select` names each as `KIND:PROCORE_ID`. The list's buttons lead
/// to a preview of what the next compliance sync would do for each; its Confirm (`confirmed`)
/// decides them all.
pub(crate) async fn decide_many(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path(company): Path<i64>,
    Form(sent): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| super::sent(&sent, name);
    if let Some(refused) = signed.forged(&web, &headers, field("csrf")) {
        return refused;
    }
    let decision = field("decision").unwrap_or_default();
    let selected: Vec<(&str, i64)> = sent
        .iter()
        .filter(|(n, _)| n == "select")
        .filter_map(|(_, s)| match s.split_once(':')? {
            (kind @ ("project" | "company"), id) => Some((kind, id.parse().ok()?)),
            _ => None,
        })
        .collect();
    let list = format!("/ui/companies/{company}/compliance/mappings");
    let back = within(field("back"), &list).unwrap_or(&list);
    if field("confirmed") != Some("1") {
        let mut records = Vec::new();
        for &(kind, id) in &selected {
            let reply = web
                .get(
                    &signed.0.token,
                    &with_query(
                        &format!(
                            "/api/v1/companies/{company}/compliance/mappings/{kind}/{id}/preview"
                        ),
                        &[("decision", Some(decision))],
                    ),
                )
                .await;
            let mut record = json!({"kind": kind, "procore_id": id});
            if reply.ok() {
                record["preview"] = reply.body;
            } else if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
                record["refusal"] = json!(reply.refusal().detail);
            } else {
                return refused(&web, &signed, &reply);
            }
            records.push(record);
        }
        return Page::new("The selected, previewed", "mappings_preview.html")
            .with(json!({
                "company_id": company,
                "decision": decision,
                "records": records,
                "back": back,
            }))
            .render(&web, Some(&signed));
    }
    for (kind, id) in selected {
        let reply = decide_one(&web, &signed, company, kind, id, decision, None).await;
        if !reply.ok() {
            return refused(&web, &signed, &reply);
        }
    }
    Redirect::to(back).into_response()
}

pub(crate) async fn parties(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
    Query(query): Query<super::Filters>,
    live: Live,
) -> Response {
    let uri = with_query(
        &format!("/api/v1/companies/{company}/compliance/parties"),
        &[
            ("limit", Some("100")),
            ("status", query.status.as_deref()),
            ("q", query.q.as_deref()),
            ("after", query.after.as_deref()),
        ],
    );
    let reply = web.get(&signed.0.token, &uri).await;
    if !reply.ok() {
        return refused(&web, &signed, &reply);
    }
    Page::new("Parties", "parties.html")
        .live(live)
        .with(json!({
            "company_id": company,
            "parties": reply.body,
            "next": reply.next_query(),
            "status": query.status,
            "q": query.q,
        }))
        .render(&web, Some(&signed))
}

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
        &format!("/api/v1/companies/{company}/compliance/projects"),
        Page::new("Compliance projects", "projects.html"),
        &query,
        live,
    )
    .await
}

/// A project's parties, each with its compliance on the project and why; a page of them at a
/// time (each party's compliance is one more read, so the page does not poll for changes).
pub(crate) async fn project(
    State(web): State<Web>,
    signed: Signed,
    Path((company, id)): Path<(i64, i64)>,
    Query(query): Query<super::Filters>,
) -> Response {
    let token = &signed.0.token;
    let base = format!("/api/v1/companies/{company}/compliance");
    // The list is by id: the first project after `id - 1` is this one, if it exists.
    let projects = web
        .get(token, &format!("{base}/projects?after={}&limit=1", id - 1))
        .await;
    if !projects.ok() {
        return refused(&web, &signed, &projects);
    }
    let Some(project) = projects
        .body
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["id"].as_i64() == Some(id))
        .cloned()
    else {
        return crate::pages::not_found(State(web)).await;
    };
    let associations = web
        .get(
            token,
            &with_query(
                &format!("{base}/associations"),
                &[
                    ("project_id", Some(&id.to_string())),
                    ("limit", Some("50")),
                    ("after", query.after.as_deref()),
                ],
            ),
        )
        .await;
    if !associations.ok() {
        return refused(&web, &signed, &associations);
    }
    let mut parties = Vec::new();
    for a in associations.body.as_array().into_iter().flatten() {
        let party = web
            .get(token, &format!("{base}/parties/{}", a["party_id"]))
            .await;
        if !party.ok() {
            return refused(&web, &signed, &party);
        }
        let here = party.body["projects"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["project_id"].as_i64() == Some(id))
            .cloned()
            .unwrap_or(Value::Null);
        parties.push(json!({"association": a, "compliance": here}));
    }
    let title = project["name"].as_str().unwrap_or("Project").to_string();
    Page::new(title, "project.html")
        .with(json!({
            "company_id": company,
            "project": project,
            "parties": parties,
            "next": associations.next_query(),
        }))
        .render(&web, Some(&signed))
}

/// The name a value has on the wire (`general_liability`).
fn wire(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Choices for the forms that enter records: coverage lines and limits as the certificate
/// (ACORD 25) names them, and endorsements.
pub(crate) fn choices() -> Value {
    use domain::compliance::{Endorsement, LimitKind, Subject};
    let endorsements: Vec<Value> = [
        Endorsement::AdditionalInsured,
        Endorsement::WaiverOfSubrogation,
        Endorsement::PrimaryNonContributory,
    ]
    .iter()
    .map(|e| json!({"value": wire(e), "label": e.label()}))
    .collect();
    json!({
        "subjects": Subject::ALL.iter()
            .map(|s| json!({"value": wire(s), "label": s.label()}))
            .collect::<Vec<_>>(),
        "limits": LimitKind::ALL.iter()
            .map(|k| json!({"value": wire(k), "label": format!("{}: {}", k.subject().label(), k.label())}))
            .collect::<Vec<_>>(),
        "endorsements": endorsements,
    })
}

pub(crate) async fn party(
    State(web): State<Web>,
    signed: Signed,
    Path((company, id)): Path<(i64, i64)>,
) -> Response {
    party_page(&web, &signed, company, id, None).await
}

/// An entry on a party's page the API refused: which form sent it and what it sent, shown
/// again in that form with why, so nothing typed is lost.
struct Kept<'a> {
    /// `certificate`, `waiver`, or `policy-ID` for a policy added to certificate ID.
    form: String,
    sent: &'a [(String, String)],
    reply: Reply,
}

impl Kept<'_> {
    /// The form's fields by name; a name sent several times (endorsements) as a list.
    fn values(&self) -> Value {
        let mut values = serde_json::Map::new();
        for (name, value) in self.sent {
            if name == "csrf" {
                continue;
            }
            match values.get_mut(name) {
                Some(Value::Array(many)) => many.push(Value::from(value.as_str())),
                Some(one) => *one = json!([one.take(), value]),
                None if name == "endorsement" => {
                    values.insert(name.clone(), json!([value]));
                }
                None => {
                    values.insert(name.clone(), Value::from(value.as_str()));
                }
            }
        }
        json!({"form": self.form, "v": values, "refusal": self.reply.refusal()})
    }
}

async fn party_page(
    web: &Web,
    signed: &Signed,
    company: i64,
    id: i64,
    kept: Option<Kept<'_>>,
) -> Response {
    let token = &signed.0.token;
    let base = format!("/api/v1/companies/{company}/compliance");
    let reply = web.get(token, &format!("{base}/parties/{id}")).await;
    if !reply.ok() {
        return refused(web, signed, &reply);
    }
    let certificates = web
        .get_all(
            token,
            &format!("{base}/parties/{id}/certificates?limit=500"),
        )
        .await;
    let waivers = web
        .get_all(token, &format!("{base}/parties/{id}/waivers?limit=500"))
        .await;
    let profiles = web
        .get_all(token, &format!("{base}/profiles?limit=500"))
        .await;
    let contacts = web
        .get_all(token, &format!("{base}/parties/{id}/contacts?limit=500"))
        .await;
    if let Some(failed) = [&certificates, &waivers, &profiles, &contacts]
        .into_iter()
        .find(|r| !r.ok())
    {
        return refused(web, signed, failed);
    }
    // What trestle wrote to Procore for it, each at the project it names.
    let written = match reply.body["procore_vendor_id"].as_i64() {
        None => Value::Array(Vec::new()),
        Some(vendor) => {
            let written = web
                .get_all(
                    token,
                    &format!("{base}/insurance?procore_vendor_id={vendor}&limit=500"),
                )
                .await;
            let projects = web
                .get_all(token, &format!("{base}/projects?limit=500"))
                .await;
            if let Some(failed) = [&written, &projects].into_iter().find(|r| !r.ok()) {
                return refused(web, signed, failed);
            }
            let names: std::collections::HashMap<i64, &str> = projects
                .body
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p["procore_project_id"].as_i64()?, p["name"].as_str()?)))
                .collect();
            let mut rows = written.body.clone();
            for row in rows.as_array_mut().into_iter().flatten() {
                if let Some(name) = row["procore_project_id"]
                    .as_i64()
                    .and_then(|p| names.get(&p))
                {
                    row["project_name"] = Value::from(*name);
                }
            }
            rows
        }
    };
    let title = reply.body["name"].as_str().unwrap_or("Party").to_string();
    Page::new(title, "party.html")
        .with(json!({
            "company_id": company,
            "p": reply.body,
            "written": written,
            "contacts": contacts.body,
            "certificates": certificates.body,
            "waivers": waivers.body,
            "profiles": profiles.body,
            "choices": choices(),
            "admin": matches!(token.scope, store::ApiScope::Admin),
            "kept": kept.as_ref().map(Kept::values),
        }))
        .status(if kept.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        })
        .render(web, Some(signed))
}

/// A change to a party's records went through: back to its page. Refused for what was
/// typed (422) in a form that sent `sent` as `form`: the party's page again with that form
/// as it was sent and why; refused otherwise: the page says why.
async fn after_change(
    web: &Web,
    signed: &Signed,
    company: i64,
    party: i64,
    reply: Reply,
    from: Option<(String, &[(String, String)])>,
) -> Response {
    if reply.ok() {
        return Redirect::to(&format!(
            "/ui/companies/{company}/compliance/parties/{party}"
        ))
        .into_response();
    }
    match from {
        Some((form, sent)) if reply.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let kept = Kept { form, sent, reply };
            party_page(web, signed, company, party, Some(kept)).await
        }
        _ => refused(web, signed, &reply),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProfileForm {
    csrf: Option<String>,
    profile: Option<String>,
}

pub(crate) async fn set_profile(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path((company, id)): Path<(i64, i64)>,
    Form(form): Form<ProfileForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    let profile = form.profile.filter(|p| !p.is_empty());
    let reply = web
        .call(
            &signed.0.token,
            Method::PUT,
            &format!("/api/v1/companies/{company}/compliance/parties/{id}/profile"),
            Some(json!({ "profile": profile })),
        )
        .await;
    after_change(&web, &signed, company, id, reply, None).await
}

/// A policy as the policy fields of a form send it (the certificate entry's, or a policy
/// added to a certificate): what was left empty is left out.
fn policy(sent: &[(String, String)]) -> Value {
    let field = |name: &str| super::sent(sent, name);
    let mut limits = serde_json::Map::new();
    for i in 0..3 {
        if let (Some(kind), Some(amount)) = (
            field(&format!("limit{i}.kind")),
            field(&format!("limit{i}.amount")),
        ) {
            limits.insert(
                kind.to_string(),
                Value::from(amount.replace([',', '$'], "")),
            );
        }
    }
    let endorsements: Vec<&str> = sent
        .iter()
        .filter(|(n, _)| n == "endorsement")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut policy = json!({
        "subject": field("subject"),
        "insurer": field("insurer"),
        "policy_number": field("policy_number"),
        "effective_date": field("effective_date"),
        "expiration_date": field("expiration_date"),
        "limits": limits,
    });
    // Left out unless given: a change to a policy keeps its endorsements and its statute box.
    if !endorsements.is_empty() {
        policy["endorsements"] = json!(endorsements);
    }
    if field("statutory").is_some() {
        policy["statutory"] = Value::from(true);
    }
    policy
}

/// A policy added to a certificate, or its policy of the same coverage line changed.
pub(crate) async fn add_policy(
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
    let party = field("party")
        .and_then(|p| p.parse().ok())
        .unwrap_or_default();
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            &format!("/api/v1/companies/{company}/compliance/certificates/{id}/policies"),
            Some(policy(&sent)),
        )
        .await;
    after_change(
        &web,
        &signed,
        company,
        party,
        reply,
        Some((format!("policy-{id}"), &sent)),
    )
    .await
}

pub(crate) async fn remove_policy(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path((company, id, subject)): Path<(i64, i64, String)>,
    Form(form): Form<RemoveForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    // A coverage line's name (`automobile_liability`), never another part of an address.
    if subject.is_empty() || !subject.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return crate::pages::not_found(State(web)).await;
    }
    let reply = web
        .call(
            &signed.0.token,
            Method::DELETE,
            &format!("/api/v1/companies/{company}/compliance/certificates/{id}/policies/{subject}"),
            None,
        )
        .await;
    after_change(&web, &signed, company, form.party, reply, None).await
}

pub(crate) async fn add_certificate(
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
    let projects: Vec<&str> = field("projects")
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let body = json!({
        "policy": policy(&sent),
        "projects": projects,
        "received_on": field("received_on"),
        "producer": field("producer"),
        "holder": field("holder"),
    });
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            &format!("/api/v1/companies/{company}/compliance/parties/{id}/certificates"),
            Some(body),
        )
        .await;
    after_change(
        &web,
        &signed,
        company,
        id,
        reply,
        Some(("certificate".into(), &sent)),
    )
    .await
}

pub(crate) async fn add_waiver(
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
    // The target is `requirement:KEY` or `subject:LINE`; the scope `global`, `everywhere`
    // or `project:ID`.
    let target = field("target").unwrap_or_default();
    let scope = field("scope").unwrap_or("global");
    let body = json!({
        "requirement": target.strip_prefix("requirement:"),
        "subject": target.strip_prefix("subject:"),
        "kind": field("kind"),
        "reason": field("reason").unwrap_or_default(),
        "until": field("until"),
        "project": scope.strip_prefix("project:"),
        "everywhere": scope == "everywhere",
    });
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            &format!("/api/v1/companies/{company}/compliance/parties/{id}/waivers"),
            Some(body),
        )
        .await;
    after_change(
        &web,
        &signed,
        company,
        id,
        reply,
        Some(("waiver".into(), &sent)),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct RemoveForm {
    csrf: Option<String>,
    party: i64,
}

pub(crate) async fn remove(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path((company, what, id)): Path<(i64, String, i64)>,
    Form(form): Form<RemoveForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    if what != "certificates" && what != "waivers" {
        return crate::pages::not_found(State(web)).await;
    }
    let reply = web
        .call(
            &signed.0.token,
            Method::DELETE,
            &format!("/api/v1/companies/{company}/compliance/{what}/{id}"),
            None,
        )
        .await;
    after_change(&web, &signed, company, form.party, reply, None).await
}

/// The kinds an import counts, as the page names them.
const IMPORTED_KINDS: [(&str, &str); 7] = [
    ("profiles", "Profiles"),
    ("parties", "Parties"),
    ("projects", "Projects"),
    ("party_projects", "Associations"),
    ("contacts", "Contacts"),
    ("certificates", "Certificates"),
    ("waivers", "Waivers"),
];

fn import_page(signed: &Signed, company: i64) -> Page {
    Page::new("Import compliance records", "import.html").with(json!({
        "company_id": company,
        "kinds": IMPORTED_KINDS,
        "admin": matches!(signed.0.token.scope, store::ApiScope::Admin),
    }))
}

pub(crate) async fn import_form(
    State(web): State<Web>,
    signed: Signed,
    Path(company): Path<i64>,
) -> Response {
    import_page(&signed, company).render(&web, Some(&signed))
}

/// A compliance document uploaded as a file (`document`), sent to the API as it is. Sending
/// it again is harmless: the import finds its records again and updates them.
pub(crate) async fn import(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Path(company): Path<i64>,
    mut upload: axum::extract::Multipart,
) -> Response {
    // The anti-forgery value is checked before the file is read: from htmx's header, or from
    // the form's field, which comes first (it precedes the file in the form).
    let mut checked = false;
    if headers.contains_key("x-csrf-token") {
        if let Some(refused) = signed.forged(&web, &headers, None) {
            return refused;
        }
        checked = true;
    }
    let mut file: Option<(Option<String>, axum::body::Bytes)> = None;
    let refusal = |detail: String| json!({"refusal": {"detail": "Nothing was imported.", "fields": {"document": detail}}});
    loop {
        match upload.next_field().await {
            Ok(Some(field)) => match field.name().map(str::to_string).as_deref() {
                Some("csrf") => {
                    let given = field.text().await.ok();
                    if let Some(refused) = signed.forged(&web, &headers, given.as_deref()) {
                        return refused;
                    }
                    checked = true;
                }
                // A file before any anti-forgery value is not read.
                Some("document") if !checked => break,
                Some("document") => {
                    let name = field.file_name().map(str::to_string);
                    match field.bytes().await {
                        Ok(bytes) => file = Some((name, bytes)),
                        Err(e) => {
                            return import_page(&signed, company)
                                .with(refusal(format!("the file could not be read: {e}")))
                                .status(StatusCode::BAD_REQUEST)
                                .render(&web, Some(&signed))
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) if !checked => break,
            Err(e) => {
                return import_page(&signed, company)
                    .with(refusal(format!("the upload could not be read: {e}")))
                    .status(StatusCode::BAD_REQUEST)
                    .render(&web, Some(&signed))
            }
        }
    }
    if !checked {
        // No anti-forgery value before the file: refused, the file unread.
        if let Some(refused) = signed.forged(&web, &headers, None) {
            return refused;
        }
    }
    let page = import_page(&signed, company);
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return page
            .with(refusal(
                "choose the JSON file of the compliance records".into(),
            ))
            .status(StatusCode::UNPROCESSABLE_ENTITY)
            .render(&web, Some(&signed));
    };
    let shown = name.clone().unwrap_or_else(|| "the file".into());
    let document: Value = match serde_json::from_slice(&bytes) {
        Ok(document) => document,
        Err(e) => {
            return page
                .with(refusal(format!(
                    "{shown} is not JSON ({e}); the format is in docs/compliance-import.md"
                )))
                .status(StatusCode::UNPROCESSABLE_ENTITY)
                .render(&web, Some(&signed))
        }
    };
    let reply = web
        .call(
            &signed.0.token,
            Method::POST,
            &format!("/api/v1/companies/{company}/compliance/import"),
            Some(document),
        )
        .await;
    if reply.ok() {
        return page
            .with(json!({"imported": reply.body, "file": name}))
            .render(&web, Some(&signed));
    }
    if ![StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CONFLICT].contains(&reply.status) {
        return refused(&web, &signed, &reply);
    }
    // The problems are each in `fields`; the API's sentence about them says nothing more.
    let mut refusal = reply.refusal();
    refusal.detail = if reply.status == StatusCode::CONFLICT {
        format!("Nothing was imported: {}", refusal.detail)
    } else {
        "Nothing was imported.".into()
    };
    page.with(json!({"refusal": refusal, "file": name}))
        .status(reply.status)
        .render(&web, Some(&signed))
}
