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
use store::{CompanyId, Store};

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
///
/// # Errors
/// [`RecordError::Invalid`]; the store's not-found or conflict.
pub async fn replace_certificate(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
    c: Certificate,
) -> Result<Certificate, RecordError> {
    let c = Certificate { id, ..c };
    check(store, company, &c).await?;
    store.replace_certificate(company, &c).await?;
    Ok(c)
}

/// Changes certificate `id`'s policy for the draft's subject (only the fields given), or adds
/// one; returns the certificate as saved.
///
/// # Errors
/// [`RecordError::NoCertificate`], [`RecordError::Edit`], [`RecordError::Invalid`].
pub async fn set_policy(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
    draft: &PolicyDraft,
) -> Result<Certificate, RecordError> {
    let mut c = super::certificate(store, company, id).await?;
    edit::set_policy(&mut c, draft)?;
    check(store, company, &c).await?;
    store.replace_certificate(company, &c).await?;
    Ok(c)
}

/// Removes certificate `id`'s policy for `subject`; returns the certificate as saved.
///
/// # Errors
/// [`RecordError::NoCertificate`], or [`RecordError::Edit`] when it has no such policy.
pub async fn remove_policy(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
    subject: Subject,
) -> Result<Certificate, RecordError> {
    let mut c = super::certificate(store, company, id).await?;
    edit::remove_policy(&mut c, subject)?;
    store.replace_certificate(company, &c).await?;
    Ok(c)
}

/// Removes certificate `id`.
///
/// # Errors
/// [`RecordError::NoCertificate`].
pub async fn remove_certificate(
    store: &Store,
    company: CompanyId,
    id: CertificateId,
) -> Result<(), RecordError> {
    if store.remove_certificate(company, id).await? {
        Ok(())
    } else {
        Err(RecordError::NoCertificate(id))
    }
}
