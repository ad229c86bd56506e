//! Profiles, certificates and waivers: the records trestle is the system of record for, stored
//! whole as JSON. Also what makes two certificates (or two waivers) the same record.

use super::rows::{certificate_from_row, list, to_json, CERTIFICATES_SQL};
use super::writes::not_found;
use crate::db::now;
use crate::models::CompanyId;
use crate::{Result, StoreError};
use domain::compliance::{
    Certificate, CertificateId, ComplianceProfile, PartyId, ProfileId, Waiver, WaiverScope,
    WaiverTarget,
};
use sqlx::AnyConnection;
use std::collections::BTreeSet;

pub(super) async fn upsert_profile_on(
    conn: &mut AnyConnection,
    company: CompanyId,
    profile: &ComplianceProfile,
) -> Result<ProfileId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO compliance_profiles (company_id, name, profile_json, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (company_id, name) DO UPDATE SET \
         profile_json = excluded.profile_json, updated_at = excluded.updated_at RETURNING id",
    )
    .bind(company)
    .bind(&profile.name)
    .bind(to_json("compliance profile", profile)?)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    Ok(ProfileId(id))
}

/// What makes two certificates the same paper: the party and the numbers of its policies,
/// compared without case or surrounding spaces. The import format has no key of its own, and
/// these are the numbers a person reads off the ACORD form, so re-entering the same form finds
/// the stored one whatever its dates, limits or projects say now.
pub(super) fn certificate_key(c: &Certificate) -> (PartyId, BTreeSet<String>) {
    let numbers = c
        .policies
        .iter()
        .map(|p| p.policy_number.trim().to_uppercase())
        .collect();
    (c.party_id, numbers)
}

/// What makes two waivers the same decision: the party, where it applies and what it covers.
/// Its kind, reason and end date are what a person changes about that decision.
pub(super) fn waiver_key(w: &Waiver) -> (PartyId, WaiverScope, &WaiverTarget) {
    (w.party_id, w.scope, &w.target)
}

/// The policy numbers of a key as a reader lists them.
pub(super) fn numbers(key: &BTreeSet<String>) -> String {
    key.iter().cloned().collect::<Vec<_>>().join(", ")
}

pub(super) async fn refuse_same_certificate(
    conn: &mut AnyConnection,
    company: CompanyId,
    certificate: &Certificate,
    except: Option<CertificateId>,
) -> Result<()> {
    let key = certificate_key(certificate);
    let same = list(conn, CERTIFICATES_SQL, company, certificate_from_row)
        .await?
        .into_iter()
        .find(|c| Some(c.id) != except && certificate_key(c) == key);
    match same {
        Some(same) => Err(StoreError::Conflict(format!(
            "party {} already has certificate {} with the policies {}; change that one instead",
            certificate.party_id,
            same.id,
            numbers(&key.1)
        ))),
        None => Ok(()),
    }
}

pub(super) async fn insert_certificate(
    conn: &mut AnyConnection,
    company: CompanyId,
    c: &Certificate,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO compliance_certificates (company_id, party_id, certificate_json, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(company)
    .bind(c.party_id.0)
    .bind(to_json("certificate", c)?)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?)
}

pub(super) async fn update_certificate(
    conn: &mut AnyConnection,
    company: CompanyId,
    c: &Certificate,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE compliance_certificates SET party_id = $3, certificate_json = $4, updated_at = $5 \
         WHERE id = $1 AND company_id = $2",
    )
    .bind(c.id.0)
    .bind(company)
    .bind(c.party_id.0)
    .bind(to_json("certificate", c)?)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(not_found("certificate", c.id.0, company));
    }
    Ok(())
}

pub(super) async fn insert_waiver(
    conn: &mut AnyConnection,
    company: CompanyId,
    w: &Waiver,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO compliance_waivers (company_id, party_id, waiver_json, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(company)
    .bind(w.party_id.0)
    .bind(to_json("waiver", w)?)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?)
}

pub(super) async fn update_waiver(
    conn: &mut AnyConnection,
    company: CompanyId,
    w: &Waiver,
) -> Result<()> {
    sqlx::query(
        "UPDATE compliance_waivers SET party_id = $3, waiver_json = $4, updated_at = $5 \
         WHERE id = $1 AND company_id = $2",
    )
    .bind(w.id.0)
    .bind(company)
    .bind(w.party_id.0)
    .bind(to_json("waiver", w)?)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
