//! Finding the record a person means from what they typed: a trestle id, or a name compared
//! without case. A name two records share is refused rather than guessed.

use super::RecordError;
use domain::compliance::{Certificate, CertificateId, ComplianceProfile, Party, PartyId, Project};
use serde::Serialize;
use std::fmt;
use store::{CompanyId, Store};

/// A party as offered to pick from: its name and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyName {
    pub id: PartyId,
    pub name: String,
}

impl fmt::Display for PartyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.id)
    }
}

/// The records `asked` names: the one with that id when it is a number, else those with that
/// name, ignoring case.
fn named<'a, T>(
    records: &'a [T],
    asked: &str,
    id: impl Fn(&T) -> i64,
    name: impl Fn(&T) -> &str,
) -> Vec<&'a T> {
    match asked.trim().parse::<i64>() {
        Ok(wanted) => records.iter().filter(|r| id(r) == wanted).collect(),
        Err(_) => records
            .iter()
            .filter(|r| name(r).eq_ignore_ascii_case(asked.trim()))
            .collect(),
    }
}

/// A party named by its trestle id or by its name (ignoring case).
///
/// # Errors
/// [`RecordError::NoParties`], [`RecordError::NoParty`] (with parties to pick from) or
/// [`RecordError::SameNameParties`].
pub async fn find_party(
    store: &Store,
    company: CompanyId,
    asked: &str,
) -> Result<Party, RecordError> {
    let parties = store.parties(company).await?;
    match named(&parties, asked, |p| p.id.0, |p| &p.name).as_slice() {
        [one] => Ok((*one).clone()),
        [] if parties.is_empty() => Err(RecordError::NoParties {
            asked: asked.to_owned(),
        }),
        [] => Err(RecordError::NoParty {
            asked: asked.to_owned(),
            known: parties
                .iter()
                .take(10)
                .map(|p| PartyName {
                    id: p.id,
                    name: p.name.clone(),
                })
                .collect(),
        }),
        many => Err(RecordError::SameNameParties {
            asked: asked.to_owned(),
            ids: many.iter().map(|p| p.id).collect(),
        }),
    }
}

/// A compliance project named by its trestle id or its name (ignoring case).
///
/// # Errors
/// [`RecordError::NoProject`] or [`RecordError::SameNameProjects`].
pub async fn find_project(
    store: &Store,
    company: CompanyId,
    asked: &str,
) -> Result<Project, RecordError> {
    let projects: Vec<Project> = store
        .compliance_projects(company)
        .await?
        .into_iter()
        .map(|r| r.project)
        .collect();
    match named(&projects, asked, |p| p.id.0, |p| &p.name).as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(RecordError::NoProject {
            asked: asked.to_owned(),
        }),
        many => Err(RecordError::SameNameProjects {
            asked: asked.to_owned(),
            count: many.len(),
        }),
    }
}

/// A profile named exactly, else by its name ignoring case when only one matches.
///
/// # Errors
/// [`RecordError::NoProfiles`] or [`RecordError::NoProfile`] (with the names there are).
pub async fn find_profile(
    store: &Store,
    company: CompanyId,
    asked: &str,
) -> Result<ComplianceProfile, RecordError> {
    if let Some(p) = store.profile_by_name(company, asked).await? {
        return Ok(p);
    }
    let profiles = store.profiles(company).await?;
    let close: Vec<&ComplianceProfile> = profiles
        .iter()
        .filter(|p| p.name.trim().eq_ignore_ascii_case(asked.trim()))
        .collect();
    match close.as_slice() {
        [one] => Ok((*one).clone()),
        _ if profiles.is_empty() => Err(RecordError::NoProfiles {
            asked: asked.to_owned(),
        }),
        _ => Err(RecordError::NoProfile {
            asked: asked.to_owned(),
            known: profiles.into_iter().map(|p| p.name).collect(),
        }),
    }
}

/// The profile with exactly this name.
///
/// # Errors
/// [`RecordError::NoProfileNamed`].
pub async fn profile_named(
    store: &Store,
    company: CompanyId,
    name: &str,
) -> Result<ComplianceProfile, RecordError> {
    store
        .profile_by_name(company, name)
        .await?
        .ok_or_else(|| RecordError::NoProfileNamed(name.to_owned()))
}

/// One of the company's certificates.
///
/// # Errors
/// [`RecordError::NoCertificate`], also for another company's certificate.
pub async fn certificate(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
) -> Result<Certificate, RecordError> {
    store
        .certificates(company)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(RecordError::NoCertificate(id))
}
