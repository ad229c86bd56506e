//! `/api/v1/companies/{company_id}/compliance/...`: what a compliance admin keeps and sets. The
//! integration's settings (every configuration option of the seed), profiles with their
//! requirements, each party's certificates, waivers and overrides, and the insurance records
//! trestle wrote. A settings change queues a compliance sync that applies it. Parties and
//! projects with their compliance are in `parties`; the mapping screen in `mapping`.

use crate::auth::Caller;
use crate::paging::{limit, paged, window, Next};
use crate::{etag, Api, FieldError, Problem};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use domain::compliance::{
    Certificate, CertificateId, ComplianceProfile, PartyId, PolicyDraft, ProfileEdit, Subject,
    Waiver, WaiverId,
};
use engine::records::{self, RecordError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sync::compliance::local::{load_settings, save_settings};
use sync::compliance::ComplianceSettings;
use utoipa::{IntoParams, ToSchema};

/// Queues the compliance sync that carries out a change a person made.
pub(crate) async fn queue_sync(api: &Api, company: i64) -> Result<i64, Problem> {
    let work = sync::jobs::Work::Sync {
        integration: engine::Integration::Compliance,
        full: false,
        targets: None,
    };
    let queued =
        sync::jobs::enqueue(&api.store, company, &work, Utc::now(), api.job_attempts).await?;
    api.wake.notify_waiters();
    Ok(queued.id())
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/settings",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path)),
    responses(
        (status = 200, description = "Every option, with the settings' `ETag`", body = ComplianceSettings),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn settings(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
) -> Result<Response, Problem> {
    caller.reader()?;
    api.connection(company).await?;
    let s = load_settings(&api.store, company)
        .await
        .map_err(|e| Problem::internal(&e))?;
    Ok(etag::tagged(Json(&s).into_response(), &etag::of(&s)))
}

/// The settings with `changes` on top; each change that is no setting, or no value of it, is
/// named.
fn changed(
    current: &ComplianceSettings,
    changes: &Map<String, Value>,
) -> Result<ComplianceSettings, Problem> {
    let base = serde_json::to_value(current).map_err(|e| Problem::internal(&e))?;
    let Value::Object(base) = base else {
        return Err(Problem::internal(&"settings are not an object"));
    };
    let mut errors = Vec::new();
    let mut merged = base.clone();
    for (key, value) in changes {
        if !base.contains_key(key) {
            errors.push(FieldError::new(key, "no such setting"));
            continue;
        }
        let mut alone = base.clone();
        alone.insert(key.clone(), value.clone());
        match serde_json::from_value::<ComplianceSettings>(Value::Object(alone)) {
            Ok(_) => {
                merged.insert(key.clone(), value.clone());
            }
            Err(e) => errors.push(FieldError::new(
                key,
                format!("not a value of this setting: {e}"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    serde_json::from_value(Value::Object(merged))
        .map_err(|e| Problem::invalid(vec![FieldError::new("body", e.to_string())]))
}

#[utoipa::path(
    patch,
    path = "/api/v1/companies/{company_id}/compliance/settings",
    tag = "compliance",
    description = "Changes the options given (the others stay) and queues a compliance sync that applies them.",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "The settings' ETag as read: the change is refused (412) if another was saved since"),
    ),
    request_body(content = Object, description = "The options to change, as GET shows them"),
    responses(
        (status = 200, description = "Every option now, with the new `ETag`", body = ComplianceSettings),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the ETag in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Each option that does not exist or cannot take the value, named", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn change_settings(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.admin()?;
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(Problem::invalid(vec![FieldError::new(
            "body",
            "send a JSON object of the options to change",
        )]));
    };
    api.connection(company).await?;
    let current = load_settings(&api.store, company)
        .await
        .map_err(|e| Problem::internal(&e))?;
    etag::check(&headers, &etag::of(&current), "the compliance settings")?;
    let new = changed(&current, &changes)?;
    save_settings(&api.store, company, &new)
        .await
        .map_err(|e| Problem::internal(&e))?;
    queue_sync(&api, company).await?;
    Ok(etag::tagged(Json(&new).into_response(), &etag::of(&new)))
}

// ---------------------------------------------------------------- the records trestle keeps

fn record_problem(e: RecordError) -> Problem {
    match e {
        RecordError::NoParty { .. }
        | RecordError::NoParties { .. }
        | RecordError::NoProject { .. }
        | RecordError::NoProfiles { .. }
        | RecordError::NoProfile { .. }
        | RecordError::NoProfileNamed(_)
        | RecordError::NoCertificate(_)
        | RecordError::NoWaiver(_) => Problem::not_found(e.to_string()),
        RecordError::Invalid(problems) => Problem::invalid(
            problems
                .iter()
                .map(|p| FieldError::new("body", p.to_string()))
                .collect(),
        ),
        RecordError::Store(e) => e.into(),
        other => Problem::invalid(vec![FieldError::new("body", other.to_string())]),
    }
}

fn json_body<T: serde::de::DeserializeOwned>(bytes: &Bytes, what: &str) -> Result<T, Problem> {
    serde_json::from_slice(bytes).map_err(|e| {
        Problem::invalid(vec![FieldError::new(
            "body",
            format!("not {what} ({e}); docs/compliance-import.md gives the shape"),
        )])
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/profiles",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path)),
    responses(
        (status = 200, description = "The compliance profiles with their requirements", body = Vec<ComplianceProfile>),
    )
)]
pub(crate) async fn profiles(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
) -> Result<Json<Vec<ComplianceProfile>>, Problem> {
    caller.reader()?;
    Ok(Json(api.store.profiles(company).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/companies/{company_id}/compliance/profiles/{name}",
    tag = "compliance",
    description = "Creates or replaces the profile named `name`, in the import file's shape (docs/compliance-import.md).",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("name" = String, Path)),
    request_body(content = ComplianceProfile, description = "A profile: `name`, `requirements`, optional `currency` and `expiring_within_days`; an `id` is not needed"),
    responses(
        (status = 200, description = "Saved, with its id", body = ComplianceProfile),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn put_profile(
    caller: Caller,
    State(api): State<Api>,
    Path((company, name)): Path<(i64, String)>,
    bytes: Bytes,
) -> Result<Json<ComplianceProfile>, Problem> {
    caller.admin()?;
    let mut raw: Value = json_body(&bytes, "a profile")?;
    if raw.get("id").is_none() {
        raw["id"] = Value::from(0);
    }
    // Each requirement read alone first, so a wrong one is named by its place.
    let wrong: Vec<FieldError> = raw["requirements"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, r)| {
            serde_json::from_value::<domain::compliance::Requirement>(r.clone())
                .err()
                .map(|e| {
                    FieldError::new(
                        &format!("requirements[{i}]"),
                        format!("not a requirement: {e}"),
                    )
                })
        })
        .collect();
    if !wrong.is_empty() {
        return Err(Problem::invalid(wrong));
    }
    let whole: ComplianceProfile = serde_json::from_value(raw).map_err(|e| {
        Problem::invalid(vec![FieldError::new("body", format!("not a profile: {e}"))])
    })?;
    let saved = records::set_profile(
        &api.store,
        company,
        &name,
        Some(whole),
        &ProfileEdit::default(),
    )
    .await
    .map_err(record_problem)?;
    queue_sync(&api, company).await?;
    Ok(Json(saved))
}

/// A party's profile: `{"profile": "Standard Subcontractor"}`, or `null` for none.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PartyProfileBody {
    pub profile: Option<String>,
}

#[utoipa::path(
    put,
    path = "/api/v1/companies/{company_id}/compliance/parties/{id}/profile",
    tag = "compliance",
    description = "The profile of the party's global compliance (none: not tracked).",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The party")),
    request_body = PartyProfileBody,
    responses(
        (status = 200, description = "The profile given, or null", body = Option<ComplianceProfile>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn party_profile(
    caller: Caller,
    State(api): State<Api>,
    Path((company, party)): Path<(i64, i64)>,
    bytes: Bytes,
) -> Result<Json<Option<ComplianceProfile>>, Problem> {
    caller.admin()?;
    let b: PartyProfileBody = json_body(&bytes, "a party's profile")?;
    let given =
        records::set_party_profile(&api.store, company, PartyId(party), b.profile.as_deref())
            .await
            .map_err(record_problem)?;
    queue_sync(&api, company).await?;
    Ok(Json(given))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The party")),
    responses(
        (status = 200, description = "The party's certificates with their policies", body = Vec<Certificate>),
    )
)]
pub(crate) async fn certificates(
    caller: Caller,
    State(api): State<Api>,
    Path((company, party)): Path<(i64, i64)>,
) -> Result<Json<Vec<Certificate>>, Problem> {
    caller.reader()?;
    Ok(Json(
        records::certificates_of(&api.store, company, Some(PartyId(party)))
            .await
            .map_err(record_problem)?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
    tag = "compliance",
    description = "Adds a certificate: `{\"whole\": {certificate}}` in the import file's shape, or `{\"policy\": {...}}` for a one-policy certificate, with optional `projects`, `received_on`, `producer`, `holder`.",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("id" = i64, Path, description = "The party"),
    ),
    request_body(content = Object),
    responses(
        (status = 201, description = "Saved, with its id", body = Certificate),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The party has a certificate with these policy numbers", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_certificate(
    caller: Caller,
    State(api): State<Api>,
    Path((company, party)): Path<(i64, i64)>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Certificate>), Problem> {
    caller.admin()?;
    let mut raw: Value = json_body(&bytes, "a certificate")?;
    if let Some(whole) = raw.get_mut("whole").filter(|w| w.is_object()) {
        whole["id"] = whole.get("id").cloned().unwrap_or(Value::from(0));
        whole["party_id"] = Value::from(party);
    }
    let new: records::NewCertificate = serde_json::from_value(raw).map_err(|e| {
        Problem::invalid(vec![FieldError::new(
            "body",
            format!("not a certificate: {e}"),
        )])
    })?;
    let saved = records::add_certificate(&api.store, company, PartyId(party), new)
        .await
        .map_err(record_problem)?;
    queue_sync(&api, company).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/companies/{company_id}/compliance/certificates/{id}",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_certificate(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
) -> Result<StatusCode, Problem> {
    caller.admin()?;
    records::remove_certificate(&api.store, company, CertificateId(id))
        .await
        .map_err(record_problem)?;
    queue_sync(&api, company).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies",
    tag = "compliance",
    description = "Adds a policy to the certificate, or changes its policy of the same `subject` (only the fields given): `{\"subject\": \"automobile_liability\", \"insurer\": ..., \"policy_number\": ..., \"effective_date\": ..., \"expiration_date\": ..., \"limits\": {\"combined_single_limit\": \"1000000\"}, \"endorsements\": [...], \"statutory\": false}`; `remove_limits` takes limits off.",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The certificate")),
    request_body = PolicyDraft,
    responses(
        (status = 200, description = "The certificate as saved", body = Certificate),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A new policy lacking a field it needs, or a value that does not fit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_policy(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    bytes: Bytes,
) -> Result<Json<Certificate>, Problem> {
    caller.admin()?;
    let draft: PolicyDraft = json_body(&bytes, "a policy")?;
    let saved = records::set_policy(&api.store, company, CertificateId(id), &draft)
        .await
        .map_err(record_problem)?;
    queue_sync(&api, company).await?;
    Ok(Json(saved))
}

#[utoipa::path(
    delete,
    path = "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies/{subject}",
    tag = "compliance",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("id" = i64, Path, description = "The certificate"),
        ("subject" = String, Path, description = "The policy's coverage line, e.g. `umbrella_excess`"),
    ),
    responses(
        (status = 200, description = "The certificate as saved", body = Certificate),
        (status = 404, description = "No such certificate, or it has no policy of this line", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_policy(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id, subject)): Path<(i64, i64, String)>,
) -> Result<Json<Certificate>, Problem> {
    caller.admin()?;
    let line: Subject = serde_json::from_value(Value::String(subject.clone())).map_err(|_| {
        Problem::not_found(format!(
            "there is no coverage line \"{subject}\"; use one of the names the certificate lists, e.g. general_liability"
        ))
    })?;
    let saved = records::remove_policy(&api.store, company, CertificateId(id), line)
        .await
        .map_err(|e| match e {
            RecordError::Edit(_) => Problem::not_found(e.to_string()),
            other => record_problem(other),
        })?;
    queue_sync(&api, company).await?;
    Ok(Json(saved))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/parties/{id}/waivers",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The party")),
    responses(
        (status = 200, description = "The party's waivers and overrides", body = Vec<Waiver>),
    )
)]
pub(crate) async fn waivers(
    caller: Caller,
    State(api): State<Api>,
    Path((company, party)): Path<(i64, i64)>,
) -> Result<Json<Vec<Waiver>>, Problem> {
    caller.reader()?;
    Ok(Json(
        records::waivers_of(&api.store, company, Some(PartyId(party)))
            .await
            .map_err(record_problem)?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/compliance/parties/{id}/waivers",
    tag = "compliance",
    description = "Adds a waiver (not required) or override (treat as met) of a `requirement` key or a whole `subject`, with a `reason`; on the party's global compliance unless `project` (id or name) or `everywhere`; until `until`, or until removed.",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("id" = i64, Path, description = "The party"),
    ),
    request_body(content = Object),
    responses(
        (status = 201, description = "Saved, with its id", body = Waiver),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_waiver(
    caller: Caller,
    State(api): State<Api>,
    Path((company, party)): Path<(i64, i64)>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Waiver>), Problem> {
    caller.admin()?;
    let new: records::NewWaiver = json_body(&bytes, "a waiver")?;
    let saved = records::add_waiver(&api.store, company, PartyId(party), new)
        .await
        .map_err(record_problem)?;
    queue_sync(&api, company).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/companies/{company_id}/compliance/waivers/{id}",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_waiver(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
) -> Result<StatusCode, Problem> {
    caller.admin()?;
    records::remove_waiver(&api.store, company, WaiverId(id))
        .await
        .map_err(record_problem)?;
    queue_sync(&api, company).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An insurance record trestle wrote to Procore.
#[derive(Debug, Serialize, ToSchema)]
pub struct Written {
    pub origin_id: String,
    pub procore_insurance_id: Option<i64>,
    pub procore_vendor_id: Option<i64>,
    /// None: company level.
    pub procore_project_id: Option<i64>,
    pub written_at: chrono::DateTime<Utc>,
    /// The record as written.
    #[schema(value_type = Object)]
    pub record: Value,
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/insurance",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), InsuranceQuery),
    responses(
        (status = 200, description = "The insurance records trestle wrote to Procore, by origin id: what, where and when; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Written>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn insurance(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<InsuranceQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(q) =
        query.map_err(|r| Problem::invalid(vec![FieldError::new("query", r.body_text())]))?;
    let mut errors = Vec::new();
    let limit = limit(q.limit, 100, 500, &mut errors);
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let mut writes: Vec<Written> = api
        .store
        .insurance_writes(company)
        .await?
        .into_iter()
        .filter(|w| {
            q.procore_vendor_id
                .is_none_or(|v| w.procore_vendor_id == Some(v))
        })
        .map(|w| Written {
            origin_id: w.origin_id,
            procore_insurance_id: w.procore_insurance_id,
            procore_vendor_id: w.procore_vendor_id,
            procore_project_id: w.procore_project_id,
            written_at: w.written_at,
            record: serde_json::to_value(&w.record).unwrap_or(Value::Null),
        })
        .collect();
    writes.sort_by(|a, b| a.origin_id.cmp(&b.origin_id));
    Ok(paged(
        window(writes, |w| w.origin_id.clone(), q.after.clone(), limit),
        limit,
        |w| w.origin_id.clone(),
        Next {
            path: format!("/api/v1/companies/{company}/compliance/insurance"),
            cursor: "after",
            filters: &[(
                "procore_vendor_id",
                q.procore_vendor_id.map(|v| v.to_string()),
            )],
        },
    ))
}

/// Which insurance records to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsuranceQuery {
    /// Only those written to this Procore directory company.
    pub procore_vendor_id: Option<i64>,
    /// At most this many, by origin id (1 to 500; 100 when not given).
    pub limit: Option<u32>,
    /// Only records with a greater origin id: the next page.
    pub after: Option<String>,
}
