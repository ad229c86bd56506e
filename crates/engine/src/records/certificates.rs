//! Certificates of insurance entered one at a time: added whole or from one policy, replaced,
//! a policy set or removed, removed. Each is checked as an import would check it, against the
//! company's parties and projects.

use super::{find_project, validate, RecordError};
use chrono::NaiveDate;
use domain::compliance::{
    edit, AppliesTo, Certificate, CertificateId, ComplianceData, Currency, Party, PartyId,
    PolicyDraft, Subject,
};
use serde::Deserialize;
use store::{CompanyId, Store, StoreError};

/// A certificate to add: a whole one, or one policy; the other fields override the whole
/// one's.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewCertificate {
    /// The whole certificate, in the import file's shape: its `id` is the new certificate's
    /// own (any given is ignored), and its `party_id` must be the party it is added to (the
    /// REST API fills both in from the address); without it, `policy` makes one.
    pub whole: Option<Certificate>,
    /// The one policy of a certificate given without `whole`.
    pub policy: PolicyDraft,
    /// The projects (trestle ids or names) the certificate is evidence on; none keeps the
    /// whole one's, or all projects.
    pub projects: Vec<String>,
    pub received_on: Option<NaiveDate>,
    pub currency: Option<Currency>,
    pub producer: Option<String>,
    pub holder: Option<String>,
}

/// The company's certificates, by id; only `party`'s when one is given.
///
/// # Errors
/// The store failed.
pub async fn certificates_of(
    store: &Store,
    company: CompanyId,
    party: Option<PartyId>,
) -> Result<Vec<Certificate>, RecordError> {
    let all = store.certificates(company).await?;
    Ok(all
        .into_iter()
        .filter(|c| party.is_none_or(|p| c.party_id == p))
        .collect())
}

/// Checks a certificate as an import would, against the company's parties and projects.
async fn check(store: &Store, company: CompanyId, c: &Certificate) -> Result<(), RecordError> {
    // The certificate is checked, not the parties' profiles (which the data leaves out).
    let parties = store
        .parties(company)
        .await?
        .into_iter()
        .map(|p| Party {
            profile_id: None,
            ..p
        })
        .collect();
    let projects = store
        .compliance_projects(company)
        .await?
        .into_iter()
        .map(|r| r.project)
        .collect();
    validate(ComplianceData {
        parties,
        projects,
        certificates: vec![c.clone()],
        ..Default::default()
    })
}

/// Adds a certificate of `party`; returns it as saved, with its id.
///
/// # Errors
/// [`RecordError::Edit`] for a policy missing a required field, [`RecordError::PartyMismatch`]
/// when the whole certificate names another party, a project not found,
/// [`RecordError::Invalid`], or the store's conflict when the party has a certificate with the
/// same policy numbers.
pub async fn add_certificate(
    store: &Store,
    company: CompanyId,
    party: PartyId,
    new: NewCertificate,
) -> Result<Certificate, RecordError> {
    let mut c = match new.whole {
        Some(c) if c.party_id != party => {
            return Err(RecordError::PartyMismatch {
                given: c.party_id,
                asked: party,
            })
        }
        Some(c) => c,
        None => Certificate {
            id: CertificateId(0),
            party_id: party,
            applies_to: AppliesTo::AllProjects,
            received_on: None,
            currency: Currency::default(),
            producer: None,
            holder: None,
            policies: vec![new.policy.new_policy()?],
        },
    };
    if !new.projects.is_empty() {
        let mut ids = Vec::new();
        for p in &new.projects {
            ids.push(find_project(store, company, p).await?.id);
        }
        c.applies_to = AppliesTo::Projects(ids);
    }
    c.received_on = new.received_on.or(c.received_on);
    c.currency = new.currency.unwrap_or(c.currency);
    c.producer = new.producer.or(c.producer);
    c.holder = new.holder.or(c.holder);
    check(store, company, &c).await?;
    c.id = store.add_certificate(company, &c).await?;
    Ok(c)
}

/// Replaces certificate `id` whole with `c` (a corrected entry, a renewal on the same paper).
/// With `as_read` (the certificate as the caller read it), it is refused if it changed since.
///
/// # Errors
/// [`RecordError::Invalid`]; the store's not-found, conflict, or changed.
pub async fn replace_certificate(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
    c: Certificate,
    as_read: Option<&Certificate>,
) -> Result<Certificate, RecordError> {
    let c = Certificate { id, ..c };
    check(store, company, &c).await?;
    store.replace_certificate(company, &c, as_read).await?;
    Ok(c)
}

/// Changes certificate `id`'s policy for the draft's subject (only the fields given), or adds
/// one; returns the certificate as saved. The edit applies to `as_read` (the certificate as
/// the caller read it) and is refused if it changed since; without it, to the certificate as
/// it is, so an edit made at the same moment is kept, not overwritten.
///
/// # Errors
/// [`RecordError::NoCertificate`], [`RecordError::Edit`], [`RecordError::Invalid`]; the
/// store's changed.
pub async fn set_policy(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
    draft: &PolicyDraft,
    as_read: Option<&Certificate>,
) -> Result<Certificate, RecordError> {
    edited(store, company, id, as_read, true, |c| {
        edit::set_policy(c, draft).map_err(RecordError::from)
    })
    .await
}

/// Removes certificate `id`'s policy for `subject`; returns the certificate as saved. As
/// [`set_policy`], from `as_read` or from the certificate as it is.
///
/// # Errors
/// [`RecordError::NoCertificate`], or [`RecordError::Edit`] when it has no such policy; the
/// store's changed.
pub async fn remove_policy(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
    subject: Subject,
    as_read: Option<&Certificate>,
) -> Result<Certificate, RecordError> {
    edited(store, company, id, as_read, false, |c| {
        edit::remove_policy(c, subject).map_err(RecordError::from)
    })
    .await
}

/// Applies `change` to certificate `id` as read (`as_read`, or read here) and writes it unless
/// the certificate changed since that read; `check` validates the result as an import would.
/// Without `as_read`, a write that came between is not an error: the change is made again on
/// what it left.
async fn edited(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
    as_read: Option<&Certificate>,
    checked: bool,
    change: impl Fn(&mut Certificate) -> Result<(), RecordError>,
) -> Result<Certificate, RecordError> {
    let mut tries_left = store::TRIES_AGAIN;
    loop {
        let read = match as_read {
            Some(c) => c.clone(),
            None => super::certificate(store, company, id).await?,
        };
        let mut c = read.clone();
        change(&mut c)?;
        if checked {
            check(store, company, &c).await?;
        }
        match store.replace_certificate(company, &c, Some(&read)).await {
            Ok(()) => return Ok(c),
            Err(StoreError::Changed { .. }) if as_read.is_none() && tries_left > 0 => {
                tries_left -= 1;
            }
            Err(e) if as_read.is_none() => return Err(e.gave_up().into()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Removes certificate `id`; with `as_read`, refused if it changed since the caller read it.
///
/// # Errors
/// [`RecordError::NoCertificate`]; the store's changed.
pub async fn remove_certificate(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
    as_read: Option<&Certificate>,
) -> Result<(), RecordError> {
    match store.remove_certificate(company, id, as_read).await {
        Ok(true) => Ok(()),
        Ok(false) | Err(StoreError::NotFound { .. }) => Err(RecordError::NoCertificate(id)),
        Err(e) => Err(e.into()),
    }
}
