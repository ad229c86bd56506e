//! [`Store::apply_compliance`]: a compliance plan written in one transaction.

use super::writes::{
    create_linked, insert_contact, insert_party, insert_project, party_ref, project_ref, resolve,
    set_party_project, update_contact, update_party_from_procore, update_project, write_insurance,
    write_mapping, Created, NoProfile,
};
use super::{ComplianceBatch, ComplianceChange};
use crate::{outbox, runlog, settings, Result, Store};
use domain::compliance::{PartyId, PartyProject, ProjectId};

impl Store {
    /// Applies a compliance plan in ONE transaction: the record changes, their links, the
    /// mapping decisions, the outbox items, the insurance write state, the cursors and the
    /// run-log entries are all written, or none is.
    ///
    /// Returns `(index in batch.changes, local id)` for every create. A create whose Procore id
    /// is already linked writes nothing and returns the linked id, so re-applying a plan after
    /// a crash (or two processes applying the same plan) never duplicates a record; a
    /// party-project is keyed by its pair, so setting it again replaces it. Log entries whose
    /// `change` names a create get that create's local id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when a change names a record the company does not have (or a
    /// [`Ref`] that does not resolve); [`StoreError::Conflict`]; [`StoreError::Database`].
    ///
    /// [`StoreError::NotFound`]: crate::StoreError::NotFound
    /// [`StoreError::Conflict`]: crate::StoreError::Conflict
    /// [`StoreError::Database`]: crate::StoreError::Database
    /// [`Ref`]: super::Ref
    /// Nothing is written on error.
    pub async fn apply_compliance(&self, batch: &ComplianceBatch<'_>) -> Result<Vec<(usize, i64)>> {
        let company = batch.company_id;
        let kinds: Vec<Option<Created>> = batch
            .changes
            .iter()
            .map(|c| match c {
                ComplianceChange::CreateParty { .. } => Some(Created::Party),
                ComplianceChange::CreateProject { .. } => Some(Created::Project),
                ComplianceChange::CreateContact { .. } => Some(Created::Contact),
                _ => None,
            })
            .collect();
        let mut tx = self.begin_write().await?;
        let mut created = Vec::new();
        for (index, change) in batch.changes.iter().enumerate() {
            match change {
                ComplianceChange::CreateParty { party } => {
                    let id = create_linked(
                        &mut tx,
                        company,
                        Created::Party,
                        party.procore_vendor_id,
                        async |conn| insert_party(conn, company, party).await,
                    )
                    .await?;
                    created.push((index, id));
                }
                ComplianceChange::UpdateParty { party } => {
                    update_party_from_procore(&mut tx, company, party).await?;
                }
                ComplianceChange::CreateProject {
                    project,
                    custom_fields,
                } => {
                    let id = create_linked(
                        &mut tx,
                        company,
                        Created::Project,
                        project.procore_project_id,
                        async |conn| insert_project(conn, company, project, custom_fields).await,
                    )
                    .await?;
                    created.push((index, id));
                }
                ComplianceChange::UpdateProject {
                    project,
                    custom_fields,
                } => {
                    update_project(&mut tx, company, project, custom_fields).await?;
                }
                ComplianceChange::SetPartyProject {
                    party,
                    project,
                    profile_id,
                    active,
                    procore_commitment_ids,
                } => {
                    let party_id = resolve(
                        &mut tx,
                        company,
                        Created::Party,
                        party_ref(*party),
                        &created,
                        &kinds,
                    )
                    .await?;
                    let project_id = resolve(
                        &mut tx,
                        company,
                        Created::Project,
                        project_ref(*project),
                        &created,
                        &kinds,
                    )
                    .await?;
                    let pp = PartyProject {
                        party_id: PartyId(party_id),
                        project_id: ProjectId(project_id),
                        profile_id: *profile_id,
                        active: *active,
                        procore_commitment_ids: procore_commitment_ids.clone(),
                    };
                    set_party_project(&mut tx, company, &pp, NoProfile::Keeps).await?;
                }
                ComplianceChange::CreateContact { party, contact } => {
                    let party_id = resolve(
                        &mut tx,
                        company,
                        Created::Party,
                        party_ref(*party),
                        &created,
                        &kinds,
                    )
                    .await?;
                    let id = create_linked(
                        &mut tx,
                        company,
                        Created::Contact,
                        contact.procore_contact_id,
                        async |conn| {
                            insert_contact(conn, company, PartyId(party_id), contact).await
                        },
                    )
                    .await?;
                    created.push((index, id));
                }
                ComplianceChange::UpdateContact { contact } => {
                    update_contact(&mut tx, company, contact).await?;
                }
            }
        }
        for m in batch.mappings {
            write_mapping(&mut tx, company, m).await?;
        }
        for item in batch.outbox {
            outbox::enqueue_on(&mut tx, item).await?;
        }
        for w in batch.insurance_writes {
            write_insurance(&mut tx, company, w).await?;
        }
        for cursor in batch.cursors {
            settings::set_cursor_on(&mut tx, company, &cursor.collection, &cursor.value).await?;
        }
        if let Some(run) = batch.run {
            runlog::record_on(&mut tx, run, batch.log, &created).await?;
        }
        tx.commit().await?;
        Ok(created)
    }
}
