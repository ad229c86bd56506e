//! `/api/v1/companies/{company_id}/compliance/...`: what a compliance admin keeps and sets. The
//! integration's settings (every configuration option of the seed), profiles with their
//! requirements, each party's certificates, waivers and overrides, and the insurance records
//! trestle wrote. A settings change queues a compliance sync that applies it. Parties and
//! projects with their compliance are in `parties`; the mapping screen in `mapping`.

use crate::auth::Caller;
use crate::paging::{by_id, limit, paged, window, Next, PageQuery};
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
use sync::compliance::local::load_settings;
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
    // With `If-Match`, settings changed since the caller read them are refused (412), also
    // when the change is made again on another save that came between.
    let new = sync::compliance::local::change_settings(&api.store, company, |current| {
        etag::check(&headers, &etag::of(current), "the compliance settings")?;
        changed(current, &changes)
    })
    .await?;
    queue_sync(&api, company).await?;
    Ok(etag::tagged(Json(&new).into_response(), &etag::of(&new)))
}

// ---------------------------------------------------------------- the records trestle keeps

/// The record a route's body enters, which says where in the body a refused field is and
/// whether a record the body names but that is not there is the body's fault (422) or the
/// address's (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// Nothing entered: a read or a removal, whose records come from the address.
    Address,
    Profile,
    PartyProfile,
    /// A certificate, whose one policy is under `policy`.
    Certificate,
    /// A whole certificate in the import file's shape: the body (`""`), or under `whole.`.
    WholeCertificate(&'static str),
    /// A policy alone: the body is the policy.
    Policy,
    Waiver,
}

impl Entry {
    /// A field of the entered record, as the route's body names it.
    fn field(self, name: &str) -> String {
        match (self, name) {
            (Entry::Certificate, "projects" | "received_on" | "producer" | "holder") => name.into(),
            (Entry::Certificate, _) => format!("policy.{name}"),
            (Entry::WholeCertificate(_), "projects" | "received_on" | "producer" | "holder") => {
                name.into()
            }
            (Entry::WholeCertificate(at), _) => format!("{at}{name}"),
            (Entry::Waiver, "projects") => "project".into(),
            _ => name.into(),
        }
    }
}

fn record_problem(e: RecordError, entry: Entry) -> Problem {
    let invalid = |fields: &[&str], detail: String| {
        Problem::invalid(
            fields
                .iter()
                .map(|f| FieldError::new(&entry.field(f), detail.clone()))
                .collect(),
        )
    };
    match e {
        RecordError::NoProject { .. } | RecordError::SameNameProjects { .. }
            if matches!(
                entry,
                Entry::Certificate | Entry::WholeCertificate(_) | Entry::Waiver
            ) =>
        {
            invalid(&["projects"], e.to_string())
        }
        RecordError::NoProfile { .. } | RecordError::NoProfiles { .. }
            if entry == Entry::PartyProfile =>
        {
            invalid(&["profile"], e.to_string())
        }
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
                .map(|p| {
                    let name = p.field().unwrap_or("body");
                    let field = match (entry, p.policy()) {
                        // A certificate's own policy is named where it is in its list.
                        (Entry::WholeCertificate(at), Some(i)) => {
                            format!("{at}policies[{i}].{name}")
                        }
                        _ => entry.field(name),
                    };
                    FieldError::new(&field, p.to_string())
                })
                .collect(),
        ),
        RecordError::Edit(edit) => {
            let fields = edit.fields();
            let fields = if fields.is_empty() {
                vec!["body"]
            } else {
                fields
            };
            invalid(&fields, edit.to_string())
        }
        RecordError::ProfileNameMismatch { .. } => invalid(&["name"], e.to_string()),
        RecordError::PartyMismatch { .. } => invalid(&["party_id"], e.to_string()),
        RecordError::Store(e) => e.into(),
        other => invalid(&["body"], other.to_string()),
    }
}

/// A body read into a JSON value and completed (an id it need not send) before it is read
/// as the record, named like one read straight from the body.
fn completed<T: serde::de::DeserializeOwned>(raw: &Value, what: &str) -> Result<T, Problem> {
    let bytes = serde_json::to_vec(raw).map_err(|e| Problem::internal(&e))?;
    crate::problem::json_body(&bytes, what)
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/profiles",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), PageQuery),
    responses(
        (status = 200, description = "The compliance profiles with their requirements, by id; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<ComplianceProfile>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn profiles(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(page) = query.map_err(|r| crate::problem::bad_query(&r))?;
    by_id(
        api.store.profiles(company).await?,
        |p: &ComplianceProfile| p.id.0,
        &page,
        format!("/api/v1/companies/{company}/compliance/profiles"),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/profiles/{name}",
    tag = "compliance",
    description = "One profile, with the `ETag` a change (`PUT`) or removal names in `If-Match`.",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("name" = String, Path)),
    responses(
        (status = 200, description = "The profile", body = ComplianceProfile),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn profile(
    caller: Caller,
    State(api): State<Api>,
    Path((company, name)): Path<(i64, String)>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let p = records::profile_named(&api.store, company, &name)
        .await
        .map_err(|e| record_problem(e, Entry::Address))?;
    Ok(etag::tagged(Json(&p).into_response(), &etag::of(&p)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/companies/{company_id}/compliance/profiles/{name}",
    tag = "compliance",
    description = "Removes a profile no party uses; `If-Match` refuses it when the profile changed since it was read.",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("name" = String, Path), ("If-Match" = Option<String>, Header, description = "The profile's ETag as read: refused (412) if it changed since")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A party or a party on a project still uses it", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_profile(
    caller: Caller,
    State(api): State<Api>,
    Path((company, name)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    caller.admin()?;
    let current = records::profile_named(&api.store, company, &name)
        .await
        .map_err(|e| record_problem(e, Entry::Address))?;
    etag::check(
        &headers,
        &etag::of(&current),
        &format!("profile \"{name}\""),
    )?;
    records::remove_profile(
        &api.store,
        company,
        &name,
        etag::as_read(&headers, &current),
    )
    .await
    .map_err(|e| record_problem(e, Entry::Address))?;
    queue_sync(&api, company).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/api/v1/companies/{company_id}/compliance/profiles/{name}",
    tag = "compliance",
    description = "Creates or replaces the profile named `name`, in the import file's shape (docs/compliance-import.md). With `If-Match`, a profile changed since it was read is not replaced (412).",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("name" = String, Path), ("If-Match" = Option<String>, Header, description = "The profile's ETag as read: refused (412) if it changed since")),
    request_body(content = ComplianceProfile, description = "A profile: `name`, `requirements`, optional `currency` and `expiring_within_days`; an `id` is not needed"),
    responses(
        (status = 200, description = "Saved, with its id and its new ETag", body = ComplianceProfile),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn put_profile(
    caller: Caller,
    State(api): State<Api>,
    Path((company, name)): Path<(i64, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.admin()?;
    let mut raw: Value = crate::problem::json_body(&bytes, "a profile")?;
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
    let whole: ComplianceProfile = completed(&raw, "a profile")?;
    let current = api.store.profile_by_name(company, &name).await?;
    etag::check_existing(
        &headers,
        current.as_ref().map(etag::of).as_deref(),
        &format!("profile \"{name}\""),
    )?;
    let saved = records::set_profile(
        &api.store,
        company,
        &name,
        Some(whole),
        &ProfileEdit::default(),
        current.as_ref().and_then(|c| etag::as_read(&headers, c)),
    )
    .await
    .map_err(|e| record_problem(e, Entry::Profile))?;
    queue_sync(&api, company).await?;
    Ok(etag::tagged(
        Json(&saved).into_response(),
        &etag::of(&saved),
    ))
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
    description = "The profile of the party's global compliance (none: not tracked). `If-Match` takes the party's `ETag` (from `GET …/compliance/parties/{id}`): a profile set by someone else since is not overwritten (412).",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The party"), ("If-Match" = Option<String>, Header, description = "The party's ETag as read: refused (412) if its profile changed since")),
    request_body = PartyProfileBody,
    responses(
        (status = 200, description = "The profile given, or null; the party's new ETag", body = Option<ComplianceProfile>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn party_profile(
    caller: Caller,
    State(api): State<Api>,
    Path((company, party)): Path<(i64, i64)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.admin()?;
    let b: PartyProfileBody = crate::problem::json_body(&bytes, "a party's profile")?;
    let current = api
        .store
        .party(company, PartyId(party))
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no party {party}")))?;
    etag::check(
        &headers,
        &party_tag(&current),
        &format!("party {party}'s profile"),
    )?;
    let given = records::set_party_profile(
        &api.store,
        company,
        PartyId(party),
        b.profile.as_deref(),
        etag::as_read(&headers, &current),
    )
    .await
    .map_err(|e| record_problem(e, Entry::PartyProfile))?;
    queue_sync(&api, company).await?;
    let tag = etag::of(&given.as_ref().map(|p| p.id));
    Ok(etag::tagged(Json(&given).into_response(), &tag))
}

/// A party's `ETag`: what a person sets on it (its profile), so a sync renaming it does not
/// refuse an admin's change.
pub(crate) fn party_tag(party: &domain::compliance::Party) -> String {
    etag::of(&party.profile_id)
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The party"), PageQuery),
    responses(
        (status = 200, description = "The party's certificates with their policies, by id; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Certificate>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn certificates(
    caller: Caller,
    State(api): State<Api>,
    Path((company, party)): Path<(i64, i64)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(page) = query.map_err(|r| crate::problem::bad_query(&r))?;
    let all = records::certificates_of(&api.store, company, Some(PartyId(party)))
        .await
        .map_err(|e| record_problem(e, Entry::Address))?;
    by_id(
        all,
        |c: &Certificate| c.id.0,
        &page,
        format!("/api/v1/companies/{company}/compliance/parties/{party}/certificates"),
    )
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
    request_body = records::NewCertificate,
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
    let mut raw: Value = crate::problem::json_body(&bytes, "a certificate")?;
    let mut entry = Entry::Certificate;
    if let Some(whole) = raw.get_mut("whole").filter(|w| w.is_object()) {
        whole["id"] = whole.get("id").cloned().unwrap_or(Value::from(0));
        whole["party_id"] = Value::from(party);
        entry = Entry::WholeCertificate("whole.");
    }
    let new: records::NewCertificate = completed(&raw, "a certificate")?;
    let saved = records::add_certificate(&api.store, company, PartyId(party), new)
        .await
        .map_err(|e| record_problem(e, entry))?;
    queue_sync(&api, company).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// The certificate `id` as it is now, and its tag; 412 unless `If-Match` (when given) names it.
async fn current_certificate(
    api: &Api,
    company: i64,
    id: i64,
    headers: &HeaderMap,
) -> Result<Certificate, Problem> {
    let current = records::certificate(&api.store, company, CertificateId(id))
        .await
        .map_err(|e| record_problem(e, Entry::Address))?;
    etag::check(headers, &etag::of(&current), &format!("certificate {id}"))?;
    Ok(current)
}

/// A certificate as saved, with its new tag.
fn tagged_certificate(c: &Certificate) -> Response {
    etag::tagged(Json(c).into_response(), &etag::of(c))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/certificates/{id}",
    tag = "compliance",
    description = "One certificate with its policies, and the `ETag` its changes name in `If-Match`.",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path)),
    responses(
        (status = 200, description = "The certificate", body = Certificate),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn certificate(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let c = records::certificate(&api.store, company, CertificateId(id))
        .await
        .map_err(|e| record_problem(e, Entry::Address))?;
    Ok(tagged_certificate(&c))
}

#[utoipa::path(
    put,
    path = "/api/v1/companies/{company_id}/compliance/certificates/{id}",
    tag = "compliance",
    description = "Replaces the certificate with the one given, in the import file's shape (its `id` and `party_id` are the certificate's own): a corrected certificate. With `If-Match`, one changed since it was read is not replaced (412).",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The certificate's ETag as read: refused (412) if it changed since")),
    request_body = Certificate,
    responses(
        (status = 200, description = "The certificate as saved, with its new ETag", body = Certificate),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn replace_certificate(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.admin()?;
    let mut raw: Value = crate::problem::json_body(&bytes, "a certificate")?;
    let current = current_certificate(&api, company, id, &headers).await?;
    if raw.is_object() {
        raw["id"] = Value::from(id);
        raw["party_id"] =
            serde_json::to_value(current.party_id).map_err(|e| Problem::internal(&e))?;
    }
    let given: Certificate = completed(&raw, "a certificate")?;
    let saved = records::replace_certificate(
        &api.store,
        company,
        CertificateId(id),
        given,
        etag::as_read(&headers, &current),
    )
    .await
    .map_err(|e| record_problem(e, Entry::WholeCertificate("")))?;
    queue_sync(&api, company).await?;
    Ok(tagged_certificate(&saved))
}

#[utoipa::path(
    delete,
    path = "/api/v1/companies/{company_id}/compliance/certificates/{id}",
    tag = "compliance",
    description = "Removes the certificate; with `If-Match`, not one changed since it was read (412).",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The certificate's ETag as read: refused (412) if it changed since")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_certificate(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    caller.admin()?;
    let current = current_certificate(&api, company, id, &headers).await?;
    records::remove_certificate(
        &api.store,
        company,
        CertificateId(id),
        etag::as_read(&headers, &current),
    )
    .await
    .map_err(|e| record_problem(e, Entry::Address))?;
    queue_sync(&api, company).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies",
    tag = "compliance",
    description = "Adds a policy to the certificate, or changes its policy of the same `subject` (only the fields given): `{\"subject\": \"automobile_liability\", \"insurer\": ..., \"policy_number\": ..., \"effective_date\": ..., \"expiration_date\": ..., \"limits\": {\"combined_single_limit\": \"1000000\"}, \"endorsements\": [...], \"statutory\": false}`; `remove_limits` takes limits off.",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The certificate"), ("If-Match" = Option<String>, Header, description = "The certificate's ETag as read: refused (412) if it changed since")),
    request_body = PolicyDraft,
    responses(
        (status = 200, description = "The certificate as saved, with its new ETag", body = Certificate),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names the certificate as it was before a change since", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A new policy lacking a field it needs, or a value that does not fit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_policy(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.admin()?;
    let draft: PolicyDraft = crate::problem::json_body(&bytes, "a policy")?;
    let current = current_certificate(&api, company, id, &headers).await?;
    let saved = records::set_policy(
        &api.store,
        company,
        CertificateId(id),
        &draft,
        etag::as_read(&headers, &current),
    )
    .await
    .map_err(|e| record_problem(e, Entry::Policy))?;
    queue_sync(&api, company).await?;
    Ok(tagged_certificate(&saved))
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
        ("If-Match" = Option<String>, Header, description = "The certificate's ETag as read: refused (412) if it changed since"),
    ),
    responses(
        (status = 200, description = "The certificate as saved, with its new ETag", body = Certificate),
        (status = 404, description = "No such certificate, or it has no policy of this line", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_policy(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id, subject)): Path<(i64, i64, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.admin()?;
    let line: Subject = serde_json::from_value(Value::String(subject.clone())).map_err(|_| {
        Problem::not_found(format!(
            "there is no coverage line \"{subject}\"; use one of the names the certificate lists, e.g. general_liability"
        ))
    })?;
    let current = current_certificate(&api, company, id, &headers).await?;
    let saved = records::remove_policy(
        &api.store,
        company,
        CertificateId(id),
        line,
        etag::as_read(&headers, &current),
    )
    .await
    .map_err(|e| match e {
        RecordError::Edit(_) => Problem::not_found(e.to_string()),
        other => record_problem(other, Entry::Address),
    })?;
    queue_sync(&api, company).await?;
    Ok(tagged_certificate(&saved))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/parties/{id}/waivers",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The party"), PageQuery),
    responses(
        (status = 200, description = "The party's waivers and overrides, by id; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Waiver>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn waivers(
    caller: Caller,
    State(api): State<Api>,
    Path((company, party)): Path<(i64, i64)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(page) = query.map_err(|r| crate::problem::bad_query(&r))?;
    let all = records::waivers_of(&api.store, company, Some(PartyId(party)))
        .await
        .map_err(|e| record_problem(e, Entry::Address))?;
    by_id(
        all,
        |w: &Waiver| w.id.0,
        &page,
        format!("/api/v1/companies/{company}/compliance/parties/{party}/waivers"),
    )
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
    request_body = records::NewWaiver,
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
    let new: records::NewWaiver = crate::problem::json_body(&bytes, "a waiver")?;
    let saved = records::add_waiver(&api.store, company, PartyId(party), new)
        .await
        .map_err(|e| record_problem(e, Entry::Waiver))?;
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
        .map_err(|e| record_problem(e, Entry::Address))?;
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
    let Query(q) = query.map_err(|r| crate::problem::bad_query(&r))?;
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

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/compliance/import",
    tag = "compliance",
    description = "Writes a compliance document (parties, projects, their associations, contacts, profiles, certificates, waivers; the format of docs/compliance-import.md) in one transaction: all of it, or nothing when anything is wrong. Each record is found again among the stored ones by its natural key (a party by its Procore vendor id or name, …), so the same document sent again updates what the first wrote instead of adding a copy; the answer counts, per kind, the records new and those found and updated. Queues a compliance sync, which writes the compliance that follows to Procore.",
    security(("token" = [])),
    params(("company_id" = i64, Path)),
    request_body = domain::compliance::ComplianceData,
    responses(
        (status = 200, description = "Written: per kind, how many records were added and how many were found and updated", body = store::ImportSummary),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A record of the document finds several stored ones (two parties of its name); nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every problem of the document, each under its place (`parties[0].name`) or its section (`certificates`); nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn import(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    bytes: Bytes,
) -> Result<Json<store::ImportSummary>, Problem> {
    caller.admin()?;
    api.connection(company).await?;
    let data: domain::compliance::ComplianceData =
        crate::problem::json_body(&bytes, "a compliance document").map_err(|mut p| {
            for e in &mut p.errors {
                if let Some(hint) = domain::compliance::money_hint(&e.detail) {
                    e.detail = format!("{} ({hint})", e.detail);
                }
            }
            p
        })?;
    let done = api
        .store
        .import_compliance(company, &data)
        .await
        .map_err(|e| match e {
            store::StoreError::InvalidImport(problems) => Problem::invalid(
                problems
                    .into_iter()
                    .map(|p| FieldError::new(p.section, p.message))
                    .collect(),
            ),
            other => other.into(),
        })?;
    queue_sync(&api, company).await?;
    Ok(Json(done))
}
