//! `/api/v1/companies/{company_id}/compliance/{parties,projects,associations}`: the compliance
//! app as a person looks it over. Parties and projects with their compliance on a day (today,
//! or a later date to see what lapses by then), one party's compliance with every
//! requirement's outcome and the reason it is not met, its contacts, and the party-project
//! associations the commitments made. Compliance is evaluated over the whole company at once,
//! so these lists are computed whole and paged in memory. Their shapes are also what `trestle
//! compliance parties|projects --json` prints.

use crate::auth::Caller;
use crate::paging::{limit, paged, window, Next, PageQuery};
use crate::problem::bad_query;
use crate::{Api, FieldError, Problem};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use domain::compliance::PartyId;
use engine::views::{PartyRow, PartyStatus, ProjectRow, TargetStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A value's name as serde writes it: `non_compliant`, `general_liability`.
fn name_of(value: impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The names of a party's compliance status.
const STATUSES: [&str; 5] = [
    "compliant",
    "non_compliant",
    "waived",
    "overridden",
    "not_tracked",
];

/// A party with its compliance on the day asked about.
#[derive(Debug, Serialize, ToSchema)]
pub struct Party {
    pub id: i64,
    pub name: String,
    pub active: bool,
    /// The Procore directory company it mirrors, if any.
    pub procore_vendor_id: Option<i64>,
    /// Its global compliance: `compliant`, `non_compliant`, `waived`, `overridden` or
    /// `not_tracked` (no profile applies).
    pub status: String,
    /// A policy it relies on lapses within its profile's warning window.
    pub expiring_soon: bool,
    pub next_expiration: Option<NaiveDate>,
    /// The projects it is active on, and on how many of them it is not compliant.
    pub active_projects: usize,
    pub not_compliant_projects: usize,
}

impl From<PartyRow> for Party {
    fn from(r: PartyRow) -> Party {
        Party {
            id: r.id.0,
            name: r.name,
            active: r.active,
            procore_vendor_id: r.procore_vendor_id,
            status: name_of(r.status),
            expiring_soon: r.expiring_soon,
            next_expiration: r.next_expiration,
            active_projects: r.active_projects,
            not_compliant_projects: r.not_compliant_projects,
        }
    }
}

/// A compliance project with its parties on the day asked about.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceProject {
    pub id: i64,
    pub name: String,
    pub active: bool,
    pub procore_project_id: Option<i64>,
    pub start_date: Option<NaiveDate>,
    pub completion_date: Option<NaiveDate>,
    /// The parties active on it, and how many of them are not compliant there.
    pub active_parties: usize,
    pub not_compliant_parties: usize,
}

impl From<ProjectRow> for ComplianceProject {
    fn from(r: ProjectRow) -> ComplianceProject {
        ComplianceProject {
            id: r.id.0,
            name: r.name,
            active: r.active,
            procore_project_id: r.procore_project_id,
            start_date: r.start_date,
            completion_date: r.completion_date,
            active_parties: r.active_parties,
            not_compliant_parties: r.not_compliant_parties,
        }
    }
}

/// A party's compliance on a day: globally, and on each project it is associated with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyCompliance {
    pub id: i64,
    pub name: String,
    /// The Procore directory company it mirrors, whose insurance records trestle writes
    /// (`GET …/compliance/insurance?procore_vendor_id=`).
    pub procore_vendor_id: Option<i64>,
    pub on: NaiveDate,
    pub global: TargetCompliance,
    pub projects: Vec<TargetCompliance>,
}

/// Compliance toward one target: the party globally, or on one project.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetCompliance {
    /// None: global.
    pub project_id: Option<i64>,
    pub project_name: Option<String>,
    /// Whether the association is active (always, globally).
    pub active: bool,
    /// The profile that applies, by name; none: compliance is not tracked here.
    pub profile: Option<String>,
    /// `compliant`, `non_compliant`, `waived`, `overridden` or `not_tracked`.
    pub status: String,
    pub expiring_soon: bool,
    pub next_expiration: Option<NaiveDate>,
    pub requirements: Vec<Requirement>,
}

/// One requirement of the profile, as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requirement {
    pub key: String,
    /// The coverage line: `general_liability`, `automobile_liability`, ...
    pub subject: String,
    /// `compliant`, `non-compliant`, `waived` or `overridden`.
    pub status: String,
    /// Why it is not met (also for an overridden one); none when met or waived.
    pub reason: Option<String>,
}

impl From<TargetStatus> for TargetCompliance {
    fn from(t: TargetStatus) -> TargetCompliance {
        TargetCompliance {
            project_id: t.project_id.map(|p| p.0),
            project_name: t.project_name,
            active: t.active,
            profile: t.profile,
            status: name_of(t.status),
            expiring_soon: t.expiring_soon,
            next_expiration: t.next_expiration,
            requirements: t
                .requirements
                .into_iter()
                .map(|r| Requirement {
                    key: r.key,
                    subject: name_of(r.subject),
                    status: r.status,
                    reason: r.reason,
                })
                .collect(),
        }
    }
}

impl From<PartyStatus> for PartyCompliance {
    fn from(s: PartyStatus) -> PartyCompliance {
        PartyCompliance {
            id: s.id.0,
            name: s.name,
            procore_vendor_id: s.procore_vendor_id,
            on: s.on,
            global: s.global.into(),
            projects: s.projects.into_iter().map(Into::into).collect(),
        }
    }
}

/// A company-level contact of a party.
#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: i64,
    pub party_id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    /// The party's primary contact (at most one is).
    pub primary: bool,
    /// The Procore company user it mirrors, if any.
    pub procore_contact_id: Option<i64>,
}

/// A party's association with a project: what makes its project-level compliance count.
#[derive(Debug, Serialize, ToSchema)]
pub struct Association {
    pub party_id: i64,
    pub party_name: String,
    pub project_id: i64,
    pub project_name: String,
    /// Inactive once no active commitment holds it (the sync ends it, never deletes it).
    pub active: bool,
    /// The profile for this project, when it is not the party's own (`profile_field`).
    pub profile_id: Option<i64>,
    /// The Procore commitments (purchase orders, subcontracts) that made it.
    pub procore_commitment_ids: Vec<i64>,
}

/// The day, and which parties or projects to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `YYYY-MM-DD`; today when not given: a later date shows what lapses by then.
    pub on: Option<String>,
    /// Parties only: those with this global status (`compliant`, `non_compliant`, `waived`,
    /// `overridden`, `not_tracked`).
    pub status: Option<String>,
    /// Part of the name, any case.
    pub q: Option<String>,
    /// At most this many, by id (1 to 500; 100 when not given).
    pub limit: Option<u32>,
    /// Only records with a greater id: the next page.
    pub after: Option<i64>,
}

/// The day compliance is evaluated on.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnQuery {
    /// `YYYY-MM-DD`; today when not given: a later date shows what lapses by then.
    pub on: Option<String>,
}

/// The day asked about, today when none is.
fn day(on: Option<&str>, errors: &mut Vec<FieldError>) -> NaiveDate {
    let today = Utc::now().date_naive();
    match on.map(|d| d.parse::<NaiveDate>()) {
        None => today,
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            errors.push(FieldError::new(
                "on",
                format!(
                    "\"{}\" is no date ({e}); a date is YYYY-MM-DD",
                    on.unwrap_or_default()
                ),
            ));
            today
        }
    }
}

fn matches(name: &str, search: Option<&str>) -> bool {
    search.is_none_or(|s| name.to_lowercase().contains(s))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/parties",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ListQuery),
    responses(
        (status = 200, description = "Parties by id with their compliance on the day; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Party>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn parties(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(q) = query.map_err(|r| bad_query(&r))?;
    let mut errors = Vec::new();
    let on = day(q.on.as_deref(), &mut errors);
    let limit = limit(q.limit, 100, 500, &mut errors);
    if let Some(s) = q.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        errors.push(FieldError::new(
            "status",
            format!(
                "\"{s}\" is no compliance status; use {}",
                STATUSES.join(", ")
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let search = q.q.as_deref().map(str::to_lowercase);
    let rows: Vec<Party> = engine::views::parties(&api.store, company, on)
        .await?
        .into_iter()
        .filter(|r| matches(&r.name, search.as_deref()))
        .map(Party::from)
        .filter(|p| q.status.as_deref().is_none_or(|s| p.status == s))
        .collect();
    Ok(paged(
        window(rows, |p| p.id, q.after, limit),
        limit,
        |p| p.id.to_string(),
        Next {
            path: format!("/api/v1/companies/{company}/compliance/parties"),
            cursor: "after",
            filters: &[
                ("on", q.on.clone()),
                ("status", q.status.clone()),
                ("q", q.q.clone()),
            ],
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/parties/{id}",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The party"), OnQuery),
    responses(
        (status = 200, description = "The party's compliance on the day, globally and on each of its projects, with every requirement's outcome and the reason it is not met; its `ETag` is what `PUT …/parties/{id}/profile` names in `If-Match`", body = PartyCompliance),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn party(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    query: Result<Query<OnQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(q) = query.map_err(|r| bad_query(&r))?;
    let mut errors = Vec::new();
    let on = day(q.on.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let status = engine::views::party_status(&api.store, company, PartyId(id), on)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no party {id}")))?;
    let party = api
        .store
        .party(company, PartyId(id))
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no party {id}")))?;
    let shown: PartyCompliance = status.into();
    Ok(crate::etag::tagged(
        Json(shown).into_response(),
        &crate::compliance::party_tag(&party),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/projects",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ListQuery),
    responses(
        (status = 200, description = "Compliance projects by id, with how many of their active parties are not compliant on the day; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<ComplianceProject>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn projects(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(q) = query.map_err(|r| bad_query(&r))?;
    let mut errors = Vec::new();
    let on = day(q.on.as_deref(), &mut errors);
    let limit = limit(q.limit, 100, 500, &mut errors);
    if q.status.is_some() {
        errors.push(FieldError::new(
            "status",
            "projects have no status of their own; filter parties by status instead",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let search = q.q.as_deref().map(str::to_lowercase);
    let rows: Vec<ComplianceProject> = engine::views::projects(&api.store, company, on)
        .await?
        .into_iter()
        .filter(|r| matches(&r.name, search.as_deref()))
        .map(ComplianceProject::from)
        .collect();
    Ok(paged(
        window(rows, |p| p.id, q.after, limit),
        limit,
        |p| p.id.to_string(),
        Next {
            path: format!("/api/v1/companies/{company}/compliance/projects"),
            cursor: "after",
            filters: &[("on", q.on.clone()), ("q", q.q.clone())],
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/parties/{id}/contacts",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The party"), PageQuery),
    responses(
        (status = 200, description = "The party's contacts, by id; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Contact>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn contacts(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(page) = query.map_err(|r| bad_query(&r))?;
    api.store
        .party(company, PartyId(id))
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no party {id}")))?;
    let contacts = api.store.contacts(company).await?;
    let contacts = contacts
        .into_iter()
        .filter(|c| c.party_id.0 == id)
        .map(|c| Contact {
            id: c.id.0,
            party_id: c.party_id.0,
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            phone: c.phone,
            fax: c.fax,
            primary: c.primary,
            procore_contact_id: c.procore_contact_id,
        })
        .collect();
    crate::paging::by_id(
        contacts,
        |c: &Contact| c.id,
        &page,
        format!("/api/v1/companies/{company}/compliance/parties/{id}/contacts"),
    )
}

/// Which associations to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssociationsQuery {
    /// Only this party's.
    pub party_id: Option<i64>,
    /// Only this project's.
    pub project_id: Option<i64>,
    /// Only active (`true`) or only ended (`false`) ones.
    pub active: Option<bool>,
    /// At most this many, by party then project (1 to 500; 100 when not given).
    pub limit: Option<u32>,
    /// Only associations after this one (`PARTY:PROJECT`): the next page.
    pub after: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/associations",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), AssociationsQuery),
    responses(
        (status = 200, description = "Party-project associations by party then project; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Association>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn associations(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<AssociationsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(q) = query.map_err(|r| bad_query(&r))?;
    let mut errors = Vec::new();
    let limit = limit(q.limit, 100, 500, &mut errors);
    let after = match q.after.as_deref() {
        None => None,
        Some(a) => {
            let parsed = a
                .split_once(':')
                .and_then(|(p, r)| Some((p.parse::<i64>().ok()?, r.parse::<i64>().ok()?)));
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "after",
                    "an association as `PARTY:PROJECT`, from a page's Link header",
                ));
            }
            parsed
        }
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let data = api.store.compliance_dataset(company).await?;
    let parties: BTreeMap<_, _> = data
        .parties
        .iter()
        .map(|p| (p.id, p.name.as_str()))
        .collect();
    let projects: BTreeMap<_, _> = data
        .projects
        .iter()
        .map(|p| (p.id, p.name.as_str()))
        .collect();
    let rows: Vec<Association> = data
        .party_projects
        .iter()
        .filter(|a| q.party_id.is_none_or(|p| a.party_id.0 == p))
        .filter(|a| q.project_id.is_none_or(|p| a.project_id.0 == p))
        .filter(|a| q.active.is_none_or(|active| a.active == active))
        .map(|a| Association {
            party_id: a.party_id.0,
            party_name: parties.get(&a.party_id).copied().unwrap_or_default().into(),
            project_id: a.project_id.0,
            project_name: projects
                .get(&a.project_id)
                .copied()
                .unwrap_or_default()
                .into(),
            active: a.active,
            profile_id: a.profile_id.map(|p| p.0),
            procore_commitment_ids: a.procore_commitment_ids.clone(),
        })
        .collect();
    Ok(paged(
        window(rows, |a| (a.party_id, a.project_id), after, limit),
        limit,
        |a| format!("{}:{}", a.party_id, a.project_id),
        Next {
            path: format!("/api/v1/companies/{company}/compliance/associations"),
            cursor: "after",
            filters: &[
                ("party_id", q.party_id.map(|p| p.to_string())),
                ("project_id", q.project_id.map(|p| p.to_string())),
                ("active", q.active.map(|a| a.to_string())),
            ],
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::compliance::OverallStatus;

    #[test]
    fn every_compliance_status_is_named_as_the_filter_takes_it() {
        for s in [
            OverallStatus::Compliant,
            OverallStatus::NonCompliant,
            OverallStatus::Waived,
            OverallStatus::Overridden,
            OverallStatus::NotTracked,
        ] {
            assert!(STATUSES.contains(&name_of(s).as_str()), "{s:?}");
        }
    }
}
