//! Waivers and overrides: a person's decision that beats the evidence, added with a reason and
//! removed when it no longer holds.

use super::{find_project, RecordError};
use chrono::NaiveDate;
use domain::compliance::{edit, PartyId, Subject, Waiver, WaiverId, WaiverKind};
use serde::Deserialize;
use store::{CompanyId, Store};

/// A waiver or override to add: of a requirement key or a whole subject, on the party's global
/// compliance unless `project` or `everywhere` says otherwise.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
pub struct NewWaiver {
    #[serde(default)]
    pub requirement: Option<String>,
    #[serde(default)]
    pub subject: Option<Subject>,
    pub kind: WaiverKind,
    pub reason: String,
    /// The last day it applies; `None` until removed.
    #[serde(default)]
    pub until: Option<NaiveDate>,
    /// A project's trestle id or name.
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub everywhere: bool,
}

/// The company's waivers and overrides, by id; only `party`'s when one is given.
///
/// # Errors
/// The store failed.
pub async fn waivers_of(
    store: &Store,
    company: CompanyId,
    party: Option<PartyId>,
) -> Result<Vec<Waiver>, RecordError> {
    let all = store.waivers(company).await?;
    Ok(all
        .into_iter()
        .filter(|w| party.is_none_or(|p| w.party_id == p))
        .collect())
}

/// Adds a waiver for `party`; returns it as saved, with its id.
///
/// # Errors
/// [`RecordError::Edit`] for a target, scope or reason the rules refuse, a project not found,
/// the store's conflict when the party has a waiver of the same target and scope.
pub async fn add_waiver(
    store: &Store,
    company: CompanyId,
    party: PartyId,
    new: NewWaiver,
) -> Result<Waiver, RecordError> {
    let profiles = store.profiles(company).await?;
    let target = edit::waiver_target(new.requirement.as_deref(), new.subject, &profiles)?;
    let project = match &new.project {
        Some(p) => Some(find_project(store, company, p).await?.id),
        None => None,
    };
    let mut waiver = Waiver {
        id: WaiverId(0),
        party_id: party,
        scope: edit::waiver_scope(project, new.everywhere)?,
        target,
        kind: new.kind,
        reason: edit::waiver_reason(&new.reason)?,
        until: new.until,
    };
    waiver.id = store.add_waiver(company, &waiver).await?;
    Ok(waiver)
}

/// Removes waiver `id`; the requirement is evaluated on the evidence again.
///
/// # Errors
/// [`RecordError::NoWaiver`].
pub async fn remove_waiver(
    store: &Store,
    company: CompanyId,
    id: WaiverId,
) -> Result<(), RecordError> {
    if store.remove_waiver(company, id).await? {
        Ok(())
    } else {
        Err(RecordError::NoWaiver(id))
    }
}
