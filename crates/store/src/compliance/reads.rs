//! The store's calls on the compliance records other than the apply and the import: the
//! company's records read whole or one by one, and the single-record calls a person makes (a
//! certificate, a waiver, a profile, a mapping decision), plus the insurance write state and
//! the integration's settings.

use super::profiles::{
    insert_certificate, insert_waiver, refuse_same_certificate, update_certificate,
    upsert_profile_on, waiver_key,
};
use super::rows::{
    certificate_from_row, contact_from_row, from_json, insurance_write_from_row, list,
    mapping_from_row, party_from_row, party_project_from_row, profile_from_row, project_from_row,
    to_json, waiver_from_row, CERTIFICATES_SQL, CONTACTS_SQL, PARTIES_SQL, PARTY_PROJECTS_SQL,
    PROFILES_SQL, PROJECTS_SQL, WAIVERS_SQL,
};
use super::writes::{ensure_party, ensure_projects, not_found, write_insurance, write_mapping};
use super::{
    ComplianceProjectRecord, InsuranceWrite, InsuranceWriteState, MappingDecision, MappingWrite,
    ProcoreMapping, ProcoreRecordKind,
};
use crate::db::now;
use crate::db::unchanged;
use crate::models::CompanyId;
use crate::{Backend, Result, Store, StoreError};
use domain::compliance::{
    AppliesTo, Certificate, CertificateId, ComplianceData, ComplianceProfile, Contact, Party,
    PartyId, PartyProject, ProfileId, ProjectId, Waiver, WaiverId, WaiverScope, FORMAT_VERSION,
};

/// How [`StoreError::Changed`] names a company's compliance settings.
const SETTINGS: &str = "the compliance settings of company";

impl Store {
    /// Everything `evaluate` needs for a company, read in one consistent snapshot: parties,
    /// projects, associations, contacts, profiles, certificates and waivers, each by id
    /// (associations by party, then project). Project custom fields are not part of it; see
    /// [`Store::compliance_projects`].
    pub async fn compliance_dataset(&self, company: CompanyId) -> Result<ComplianceData> {
        // PostgreSQL's default isolation takes a new snapshot per statement; a record added
        // between two reads would otherwise show a certificate of a party the dataset lacks.
        // A SQLite read transaction keeps one snapshot from its first read.
        let mut tx = match self.backend() {
            Backend::Postgres => {
                self.pool()
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
            Backend::Sqlite => self.pool().begin().await?,
        };
        let data = ComplianceData {
            version: FORMAT_VERSION,
            parties: list(&mut tx, PARTIES_SQL, company, party_from_row).await?,
            projects: list(&mut tx, PROJECTS_SQL, company, project_from_row)
                .await?
                .into_iter()
                .map(|r| r.project)
                .collect(),
            party_projects: list(&mut tx, PARTY_PROJECTS_SQL, company, party_project_from_row)
                .await?,
            contacts: list(&mut tx, CONTACTS_SQL, company, contact_from_row).await?,
            profiles: list(&mut tx, PROFILES_SQL, company, profile_from_row).await?,
            certificates: list(&mut tx, CERTIFICATES_SQL, company, certificate_from_row).await?,
            waivers: list(&mut tx, WAIVERS_SQL, company, waiver_from_row).await?,
        };
        tx.commit().await?;
        Ok(data)
    }

    /// The company's parties, by id.
    pub async fn parties(&self, company: CompanyId) -> Result<Vec<Party>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, PARTIES_SQL, company, party_from_row).await
    }

    pub async fn party(&self, company: CompanyId, id: PartyId) -> Result<Option<Party>> {
        const SQL: &str =
            "SELECT id, name, address, website, active, procore_vendor_id, profile_id \
             FROM compliance_parties WHERE id = $1 AND company_id = $2";
        let row = sqlx::query(SQL)
            .bind(id.0)
            .bind(company)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(party_from_row).transpose()
    }

    /// The company's compliance projects with their custom fields, by id.
    pub async fn compliance_projects(
        &self,
        company: CompanyId,
    ) -> Result<Vec<ComplianceProjectRecord>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, PROJECTS_SQL, company, project_from_row).await
    }

    pub async fn compliance_project(
        &self,
        company: CompanyId,
        id: ProjectId,
    ) -> Result<Option<ComplianceProjectRecord>> {
        let row = sqlx::query(
            "SELECT id, name, description, start_date, completion_date, active, procore_project_id, \
             custom_fields_json FROM compliance_projects WHERE id = $1 AND company_id = $2",
        )
        .bind(id.0)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(project_from_row).transpose()
    }

    /// The company's party-project associations, by party then project.
    pub async fn party_projects(&self, company: CompanyId) -> Result<Vec<PartyProject>> {
        let mut conn = self.pool().acquire().await?;
        list(
            &mut conn,
            PARTY_PROJECTS_SQL,
            company,
            party_project_from_row,
        )
        .await
    }

    /// The company's contacts, by id.
    pub async fn contacts(&self, company: CompanyId) -> Result<Vec<Contact>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, CONTACTS_SQL, company, contact_from_row).await
    }

    /// Saves a profile under its name: a new name inserts it, a known name (in this company)
    /// replaces that profile's requirements and keeps its id, so parties that use it follow.
    /// The given `id` is ignored; the stored one is returned.
    ///
    /// # Errors
    /// With `as_read` (the profile as its writer read it): [`StoreError::Changed`] when it
    /// changed since, [`StoreError::NotFound`] when it is gone; nothing is written.
    pub async fn upsert_profile(
        &self,
        company: CompanyId,
        profile: &ComplianceProfile,
        as_read: Option<&ComplianceProfile>,
    ) -> Result<ProfileId> {
        let mut tx = self.begin_write().await?;
        if as_read.is_some() {
            let now = self.profile_locked(&mut tx, company, &profile.name).await?;
            unchanged("profile", &profile.name, now.as_ref(), as_read)?;
        }
        let id = upsert_profile_on(&mut tx, company, profile).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Profile `name` read inside a write, locked until it commits.
    async fn profile_locked(
        &self,
        conn: &mut sqlx::AnyConnection,
        company: CompanyId,
        name: &str,
    ) -> Result<Option<ComplianceProfile>> {
        let sql = format!(
            "SELECT id, name, profile_json FROM compliance_profiles WHERE company_id = $1 AND name = $2{}",
            self.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    /// Certificate `id` read inside a write, locked until it commits.
    async fn certificate_locked(
        &self,
        conn: &mut sqlx::AnyConnection,
        company: CompanyId,
        id: CertificateId,
    ) -> Result<Option<Certificate>> {
        let sql = format!(
            "SELECT id, party_id, certificate_json FROM compliance_certificates \
             WHERE company_id = $1 AND id = $2{}",
            self.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(certificate_from_row).transpose()
    }

    /// The company's profiles, by id.
    pub async fn profiles(&self, company: CompanyId) -> Result<Vec<ComplianceProfile>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, PROFILES_SQL, company, profile_from_row).await
    }

    pub async fn profile_by_name(
        &self,
        company: CompanyId,
        name: &str,
    ) -> Result<Option<ComplianceProfile>> {
        let row = sqlx::query(
            "SELECT id, name, profile_json FROM compliance_profiles WHERE company_id = $1 AND name = $2",
        )
        .bind(company)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    /// Adds a certificate of one of the company's parties; the given `id` is ignored.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no such party; [`StoreError::Conflict`]
    /// when the party already has a certificate with the same policy numbers: that is the same paper entered twice, to be changed instead.
    pub async fn add_certificate(
        &self,
        company: CompanyId,
        certificate: &Certificate,
    ) -> Result<CertificateId> {
        let mut tx = self.begin_write().await?;
        ensure_party(&mut tx, company, certificate.party_id).await?;
        ensure_projects(&mut tx, company, certificate_projects(certificate)).await?;
        refuse_same_certificate(&mut tx, company, certificate, None).await?;
        let id = insert_certificate(&mut tx, company, certificate).await?;
        tx.commit().await?;
        Ok(CertificateId(id))
    }

    /// Replaces certificate `certificate.id` whole (a corrected entry, a renewal on the same
    /// paper).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no such certificate or party;
    /// [`StoreError::Conflict`] when another certificate of the party has the same policy
    /// numbers; with `as_read` (the certificate as its writer read it),
    /// [`StoreError::Changed`] when it changed since.
    pub async fn replace_certificate(
        &self,
        company: CompanyId,
        certificate: &Certificate,
        as_read: Option<&Certificate>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if as_read.is_some() {
            let now = self
                .certificate_locked(&mut tx, company, certificate.id)
                .await?;
            unchanged(
                "certificate",
                &certificate.id.to_string(),
                now.as_ref(),
                as_read,
            )?;
        }
        ensure_party(&mut tx, company, certificate.party_id).await?;
        ensure_projects(&mut tx, company, certificate_projects(certificate)).await?;
        refuse_same_certificate(&mut tx, company, certificate, Some(certificate.id)).await?;
        update_certificate(&mut tx, company, certificate).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a certificate; `true` when there was one.
    ///
    /// # Errors
    /// With `as_read` (the certificate as its writer read it): [`StoreError::Changed`] when it
    /// changed since, [`StoreError::NotFound`] when it is gone.
    pub async fn remove_certificate(
        &self,
        company: CompanyId,
        id: CertificateId,
        as_read: Option<&Certificate>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        if as_read.is_some() {
            let now = self.certificate_locked(&mut tx, company, id).await?;
            unchanged("certificate", &id.to_string(), now.as_ref(), as_read)?;
        }
        let done =
            sqlx::query("DELETE FROM compliance_certificates WHERE id = $1 AND company_id = $2")
                .bind(id.0)
                .bind(company)
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The company's certificates, by id.
    pub async fn certificates(&self, company: CompanyId) -> Result<Vec<Certificate>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, CERTIFICATES_SQL, company, certificate_from_row).await
    }

    /// Adds a waiver or override for one of the company's parties; the given `id` is ignored.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no such party; [`StoreError::Conflict`]
    /// when the party already has a waiver with the same scope and target: evaluation would apply only one of them.
    pub async fn add_waiver(&self, company: CompanyId, waiver: &Waiver) -> Result<WaiverId> {
        let mut tx = self.begin_write().await?;
        ensure_party(&mut tx, company, waiver.party_id).await?;
        if let WaiverScope::Project(project) = waiver.scope {
            ensure_projects(&mut tx, company, [project]).await?;
        }
        let same = list(&mut tx, WAIVERS_SQL, company, waiver_from_row)
            .await?
            .into_iter()
            .find(|w| waiver_key(w) == waiver_key(waiver));
        if let Some(same) = same {
            return Err(StoreError::Conflict(format!(
                "party {} already has waiver {} for the same target and scope; remove it first",
                waiver.party_id, same.id
            )));
        }
        let id = insert_waiver(&mut tx, company, waiver).await?;
        tx.commit().await?;
        Ok(WaiverId(id))
    }

    /// Removes a waiver; `true` when there was one.
    pub async fn remove_waiver(&self, company: CompanyId, id: WaiverId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM compliance_waivers WHERE id = $1 AND company_id = $2")
            .bind(id.0)
            .bind(company)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The company's waivers and overrides, by id.
    pub async fn waivers(&self, company: CompanyId) -> Result<Vec<Waiver>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, WAIVERS_SQL, company, waiver_from_row).await
    }

    /// Records a person's decision about a Procore project or company, replacing any earlier
    /// one. A decision stays until the next one: no sync changes it (see
    /// [`MappingWrite::keep_existing`]).
    pub async fn set_mapping(
        &self,
        company: CompanyId,
        kind: ProcoreRecordKind,
        procore_id: i64,
        decision: MappingDecision,
    ) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        write_mapping(
            &mut conn,
            company,
            &MappingWrite {
                kind,
                procore_id,
                decision,
                keep_existing: false,
            },
        )
        .await
    }

    pub async fn mapping(
        &self,
        company: CompanyId,
        kind: ProcoreRecordKind,
        procore_id: i64,
    ) -> Result<Option<ProcoreMapping>> {
        let row = sqlx::query(
            "SELECT company_id, record_kind, procore_id, decision, local_id, created_at, updated_at \
             FROM procore_mappings WHERE company_id = $1 AND record_kind = $2 AND procore_id = $3",
        )
        .bind(company)
        .bind(kind.as_str())
        .bind(procore_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(mapping_from_row).transpose()
    }

    /// Every decision about one kind of Procore record, by Procore id.
    pub async fn mappings(
        &self,
        company: CompanyId,
        kind: ProcoreRecordKind,
    ) -> Result<Vec<ProcoreMapping>> {
        let rows = sqlx::query(
            "SELECT company_id, record_kind, procore_id, decision, local_id, created_at, updated_at \
             FROM procore_mappings WHERE company_id = $1 AND record_kind = $2 ORDER BY procore_id",
        )
        .bind(company)
        .bind(kind.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(mapping_from_row).collect()
    }

    /// Forgets that a record was written (it was removed from Procore), so writing it again
    /// later is a first write. With `procore_insurance_id`, only the write of that Procore
    /// record is forgotten: one written since as a new Procore record stays. Forgetting a
    /// record not stored does nothing.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn forget_insurance_write(
        &self,
        company: CompanyId,
        origin_id: &str,
        procore_insurance_id: Option<i64>,
    ) -> Result<()> {
        match procore_insurance_id {
            Some(id) => sqlx::query(
                "DELETE FROM insurance_writes WHERE company_id = $1 AND origin_id = $2 \
                 AND procore_insurance_id = $3",
            )
            .bind(company)
            .bind(origin_id)
            .bind(id),
            None => {
                sqlx::query("DELETE FROM insurance_writes WHERE company_id = $1 AND origin_id = $2")
                    .bind(company)
                    .bind(origin_id)
            }
        }
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Remembers an insurance record as written (outside an apply: e.g. the drain, once Procore
    /// answered). A `None` Procore id keeps the one stored.
    pub async fn record_insurance_write(
        &self,
        company: CompanyId,
        write: &InsuranceWrite,
    ) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        write_insurance(&mut conn, company, write).await
    }

    /// Sets the Procore insurance id of a written record once a create answered with it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when nothing was written for `origin_id`.
    pub async fn set_procore_insurance_id(
        &self,
        company: CompanyId,
        origin_id: &str,
        procore_insurance_id: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE insurance_writes SET procore_insurance_id = $3 WHERE company_id = $1 AND origin_id = $2",
        )
        .bind(company)
        .bind(origin_id)
        .bind(procore_insurance_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "insurance write",
                id: format!("{origin_id} of company {company}"),
            });
        }
        Ok(())
    }

    /// The last insurance record written for an origin id.
    pub async fn insurance_write(
        &self,
        company: CompanyId,
        origin_id: &str,
    ) -> Result<Option<InsuranceWriteState>> {
        let row = sqlx::query(
            "SELECT company_id, origin_id, record_json, fingerprint, procore_insurance_id, written_at, \
             procore_vendor_id, procore_project_id \
             FROM insurance_writes WHERE company_id = $1 AND origin_id = $2",
        )
        .bind(company)
        .bind(origin_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(insurance_write_from_row).transpose()
    }

    /// Every insurance record written for the company, by origin id.
    pub async fn insurance_writes(&self, company: CompanyId) -> Result<Vec<InsuranceWriteState>> {
        let rows = sqlx::query(
            "SELECT company_id, origin_id, record_json, fingerprint, procore_insurance_id, written_at, \
             procore_vendor_id, procore_project_id \
             FROM insurance_writes WHERE company_id = $1 ORDER BY origin_id",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(insurance_write_from_row).collect()
    }

    /// Saves the company's compliance integration settings, replacing what it had. The typed
    /// form lives in the sync crate; the store keeps the JSON it is given.
    ///
    /// # Errors
    /// With `as_read` (the settings as their writer read them, `null` for none saved yet):
    /// [`StoreError::Changed`] when they changed since; nothing is written.
    pub async fn save_compliance_settings(
        &self,
        company: CompanyId,
        settings: &serde_json::Value,
        as_read: Option<&serde_json::Value>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // A first save made from "none saved" must not replace one saved meanwhile: no row
        // is there to lock, so it inserts only if none is there when it commits.
        let mut first_save = false;
        if as_read.is_some() {
            let sql = format!(
                "SELECT settings_json FROM compliance_settings WHERE company_id = $1{}",
                self.for_update()
            );
            let stored: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(company)
                .fetch_optional(&mut *tx)
                .await?;
            first_save = stored.is_none();
            let now = match stored {
                Some(s) => from_json("compliance settings", &s)?,
                None => serde_json::Value::Null,
            };
            unchanged(SETTINGS, &company.to_string(), Some(&now), as_read)?;
        }
        let on_conflict = if first_save {
            "DO NOTHING"
        } else {
            "DO UPDATE SET settings_json = excluded.settings_json, updated_at = excluded.updated_at"
        };
        let sql = format!(
            "INSERT INTO compliance_settings (company_id, settings_json, updated_at) \
             VALUES ($1, $2, $3) ON CONFLICT (company_id) {on_conflict}"
        );
        let written = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .bind(to_json("compliance settings", settings)?)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        if written.rows_affected() == 0 {
            return Err(StoreError::Changed {
                what: SETTINGS,
                id: company.to_string(),
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// The company's compliance settings, `None` until saved once.
    pub async fn compliance_settings(
        &self,
        company: CompanyId,
    ) -> Result<Option<serde_json::Value>> {
        let stored: Option<String> = sqlx::query_scalar(
            "SELECT settings_json FROM compliance_settings WHERE company_id = $1",
        )
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        stored
            .map(|s| from_json("compliance settings", &s))
            .transpose()
    }

    /// Gives a party the profile of its global compliance (also the fallback for its
    /// projects), or none. Only that column is written, so a sync applying at the same time
    /// keeps it and this keeps the sync's fields.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no such party or profile; with
    /// `as_read` (the party as its writer read it), [`StoreError::Changed`] when its profile
    /// changed since (its other fields are the sync's and may change freely).
    pub async fn set_party_profile(
        &self,
        company: CompanyId,
        party: PartyId,
        profile: Option<ProfileId>,
        as_read: Option<&Party>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(read) = as_read {
            let sql = format!(
                "SELECT profile_id FROM compliance_parties WHERE id = $1 AND company_id = $2{}",
                self.for_update()
            );
            let now: Option<Option<i64>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(party.0)
                .bind(company)
                .fetch_optional(&mut *tx)
                .await?;
            let read = read.profile_id.map(|p| p.0);
            unchanged("party", &party.to_string(), now.as_ref(), Some(&read))?;
        }
        if let Some(profile) = profile {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM compliance_profiles WHERE id = $1 AND company_id = $2",
            )
            .bind(profile.0)
            .bind(company)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(not_found("profile", profile.0, company));
            }
        }
        let done = sqlx::query(
            "UPDATE compliance_parties SET profile_id = $3, updated_at = $4 \
             WHERE id = $1 AND company_id = $2",
        )
        .bind(party.0)
        .bind(company)
        .bind(profile.map(|p| p.0))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(not_found("party", party.0, company));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a profile nobody uses; `false` when the company has none of that name.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] while a party or a party-project still names it: removing it
    /// would silently stop tracking their compliance. With `as_read` (the profile as its
    /// writer read it), [`StoreError::Changed`] when it changed since.
    pub async fn remove_profile(
        &self,
        company: CompanyId,
        name: &str,
        as_read: Option<&ComplianceProfile>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let now = self.profile_locked(&mut tx, company, name).await?;
        let Some(id) = now.as_ref().map(|p| p.id.0) else {
            return Ok(false);
        };
        unchanged("profile", name, now.as_ref(), as_read)?;
        let parties: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM compliance_parties WHERE company_id = $1 AND profile_id = $2",
        )
        .bind(company)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let associations: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM compliance_party_projects WHERE company_id = $1 AND profile_id = $2",
        )
        .bind(company)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if parties + associations > 0 {
            return Err(StoreError::Conflict(format!(
                "profile \"{name}\" is used by {parties} parties and {associations} party-projects; \
                 give them another profile first"
            )));
        }
        sqlx::query("DELETE FROM compliance_profiles WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The projects a certificate is limited to (none when it covers all).
fn certificate_projects(certificate: &Certificate) -> Vec<ProjectId> {
    match &certificate.applies_to {
        AppliesTo::AllProjects => Vec::new(),
        AppliesTo::Projects(projects) => projects.clone(),
    }
}
