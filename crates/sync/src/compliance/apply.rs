//! Turning a plan into one store batch: the record changes, the mapping decisions seen, the
//! outbox items for insurance writes and removals, and the run log.
//!
//! This is pure (a plan and trestle's records in, a batch out) so that what each action
//! becomes is tested without a database; the sync looks up the outbox keys used before and
//! applies the batch in one transaction.

use super::collect::Collection;
use super::fields::{ContactFields, PartyFields, ProjectFields};
use super::input::LocalCompliance;
use super::plan::{Action, Key, Plan};
use super::writeback::{RemovePayload, WritePayload, REMOVE_INSURANCE, WRITE_INSURANCE};
use domain::compliance::{
    Contact, ContactId, InsuranceRecord, Party, PartyId, ProfileId, Project, ProjectId,
};
use std::collections::{BTreeMap, BTreeSet};
use store::{
    ComplianceChange, MappingDecision, MappingWrite, NewOutboxItem, ProcoreRecordKind, Ref,
    RunEntry, RunId, SubjectKind,
};

/// One phase's store changes, mapping writes, outbox items and log entries, with its counts.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub changes: Vec<ComplianceChange>,
    pub mappings: BTreeMap<(ProcoreRecordKind, i64), MappingWrite>,
    pub outbox: Vec<NewOutboxItem>,
    pub log: Vec<RunEntry>,
    pub tally: Tally,
}

/// What one phase counts towards the sync's summary. Kept apart from the summary so this
/// module needs nothing from the sync that runs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Tally {
    pub projects_created: usize,
    pub projects_updated: usize,
    pub parties_created: usize,
    pub parties_updated: usize,
    pub contacts_created: usize,
    pub contacts_updated: usize,
    pub associations_set: usize,
    pub associations_ended: usize,
    pub skipped: usize,
    pub rejected: usize,
    pub insurance_queued: usize,
    pub insurance_removals_queued: usize,
}

/// Where a Procore project or company is in trestle while the batch is built: made by an
/// earlier change of this batch, linked by one, or already linked in the store.
pub(super) struct Resolver<'a> {
    local: &'a LocalCompliance,
    created_projects: BTreeMap<i64, usize>,
    created_parties: BTreeMap<i64, usize>,
    linked_projects: BTreeMap<i64, ProjectId>,
    linked_parties: BTreeMap<i64, PartyId>,
}

impl<'a> Resolver<'a> {
    fn new(local: &'a LocalCompliance) -> Self {
        Resolver {
            local,
            created_projects: BTreeMap::new(),
            created_parties: BTreeMap::new(),
            linked_projects: BTreeMap::new(),
            linked_parties: BTreeMap::new(),
        }
    }

    fn project(&self, procore: i64) -> Ref<ProjectId> {
        if let Some(i) = self.created_projects.get(&procore) {
            return Ref::Created(*i);
        }
        if let Some(id) = self.linked_projects.get(&procore) {
            return Ref::Id(*id);
        }
        self.local
            .projects
            .iter()
            .find(|p| p.procore_project_id == Some(procore))
            .map_or(Ref::Procore(procore), |p| Ref::Id(p.id))
    }

    fn party(&self, procore: i64) -> Ref<PartyId> {
        if let Some(i) = self.created_parties.get(&procore) {
            return Ref::Created(*i);
        }
        if let Some(id) = self.linked_parties.get(&procore) {
            return Ref::Id(*id);
        }
        self.local
            .parties
            .iter()
            .find(|p| p.procore_vendor_id == Some(procore))
            .map_or(Ref::Procore(procore), |p| Ref::Id(p.id))
    }
}

/// The run-log kind and Procore id of an action's record.
pub(super) fn log_subject(key: &Key) -> (SubjectKind, Option<i64>) {
    match key {
        Key::Project { procore_id } => (SubjectKind::ProcoreProject, Some(*procore_id)),
        Key::Company { procore_id } => (SubjectKind::ProcoreCompany, Some(*procore_id)),
        Key::Contact { procore_id } => (SubjectKind::ProcoreContact, Some(*procore_id)),
        Key::LocalContact { .. } => (SubjectKind::ProcoreContact, None),
        Key::Commitment { procore_id } => (SubjectKind::ProcoreCommitment, Some(*procore_id)),
        Key::Association {
            procore_vendor_id, ..
        } => (SubjectKind::ProcoreCompany, Some(*procore_vendor_id)),
        Key::Insurance { .. } => (SubjectKind::Insurance, None),
        Key::Setting { .. } => (SubjectKind::Setting, None),
    }
}

fn action_name(a: &Action) -> &'static str {
    match a {
        Action::CreateProject { .. } => "create_project",
        Action::LinkProject { .. } => "link_project",
        Action::UpdateProject { .. } => "update_project",
        Action::CreateParty { .. } => "create_party",
        Action::LinkParty { .. } => "link_party",
        Action::UpdateParty { .. } => "update_party",
        Action::CreateContact { .. } => "create_contact",
        Action::UpdateContact { .. } => "update_contact",
        Action::Associate { .. } => "associate",
        Action::UpdateAssociation { .. } => "update_association",
        Action::EndAssociation { .. } => "end_association",
        Action::WriteInsurance { .. } => "write_insurance",
        Action::RemoveInsurance { .. } => "remove_insurance",
        Action::Skip { .. } => "skip",
    }
}

fn short_hash(s: &str) -> String {
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The outbox key of an insurance removal: one per record written (the same origin written
/// again after a removal is a new Procore record, with a new id).
pub(super) fn removal_key(
    company: i64,
    origin_id: &str,
    procore_insurance_id: Option<i64>,
) -> String {
    format!(
        "insurance-removal:{company}:{origin_id}:{}",
        procore_insurance_id.map_or_else(|| "unknown".into(), |id| id.to_string())
    )
}

/// The outbox key of an insurance write: the record and what trestle would write (status,
/// dates, policy, and notes, so a notes-only change is a new write). One function, so the
/// planning side and the look-up of earlier writes can never disagree.
pub(super) fn insurance_key(company: i64, record: &InsuranceRecord) -> String {
    let fingerprint = format!("{}|{}", record.status_fingerprint(), record.notes);
    format!(
        "insurance:{company}:{}:{}",
        record.origin_id,
        short_hash(&fingerprint)
    )
}

fn new_project(procore: i64) -> Project {
    Project {
        id: ProjectId(0),
        name: String::new(),
        description: None,
        start_date: None,
        completion_date: None,
        active: true,
        procore_project_id: Some(procore),
    }
}

fn new_party(procore: i64) -> Party {
    Party {
        id: PartyId(0),
        name: String::new(),
        address: None,
        website: None,
        active: true,
        procore_vendor_id: Some(procore),
        profile_id: None,
    }
}

fn listed(kind: ProcoreRecordKind, procore_id: i64, decision: MappingDecision) -> MappingWrite {
    MappingWrite {
        kind,
        procore_id,
        decision,
        keep_existing: true,
    }
}

/// Turns one phase's plan into its batch. `seen`: the collection whose records are listed for
/// mapping and whose rejects are logged (the first phase of a sync only). `existing_keys`: the
/// outbox keys of insurance writes and removals already done, which a new one must not reuse.
pub(super) fn build(
    plan: &Plan,
    seen: Option<&Collection>,
    local: &LocalCompliance,
    company: i64,
    dry_run: bool,
    existing_keys: &BTreeSet<String>,
    run: RunId,
) -> Batch {
    let mut builder = Builder {
        batch: Batch::default(),
        resolver: Resolver::new(local),
        local,
        company,
        dry_run,
        existing_keys,
        run,
    };
    if let Some(c) = seen {
        builder.list_seen(c);
    }
    let vendor_of_party: BTreeMap<PartyId, i64> = local
        .parties
        .iter()
        .filter_map(|p| p.procore_vendor_id.map(|v| (p.id, v)))
        .collect();
    for action in &plan.actions {
        let key = action.key();
        let (kind, mut procore_id) = log_subject(&key);
        if let Key::Insurance { origin_id } = &key {
            // Filed under the party's Procore company, so `explain procore-company` answers
            // why its compliance is (or is not) in Procore.
            procore_id = domain::compliance::target_of(origin_id)
                .and_then(|t| vendor_of_party.get(&t.party).copied());
        }
        let mut entry = RunEntry {
            kind,
            procore_id,
            local_id: None,
            change: None,
            action: action_name(action).into(),
            reason: action.reason().to_string(),
            detail_json: serde_json::to_string(action).ok(),
            outcome: builder.planned("applied"),
        };
        let extra = builder.action(action, &mut entry);
        builder.batch.log.push(entry);
        builder.batch.log.extend(extra);
    }
    if let Some(c) = seen {
        builder.log_rejected(c);
    }
    builder.batch
}

/// The batch being built, and what each action needs to become its part of it.
struct Builder<'a> {
    batch: Batch,
    resolver: Resolver<'a>,
    local: &'a LocalCompliance,
    company: i64,
    dry_run: bool,
    existing_keys: &'a BTreeSet<String>,
    run: RunId,
}

impl Builder<'_> {
    /// A dry run logs every change as planned, not as done.
    fn planned(&self, applied: &str) -> String {
        if self.dry_run {
            "planned".to_string()
        } else {
            applied.to_string()
        }
    }

    /// Every record seen is listed for mapping, without overruling a decision.
    fn list_seen(&mut self, c: &Collection) {
        for p in &c.snapshot.projects {
            self.batch.mappings.insert(
                (ProcoreRecordKind::Project, p.id),
                listed(ProcoreRecordKind::Project, p.id, MappingDecision::Undecided),
            );
        }
        for v in &c.snapshot.vendors {
            self.batch.mappings.insert(
                (ProcoreRecordKind::Company, v.id),
                listed(ProcoreRecordKind::Company, v.id, MappingDecision::Undecided),
            );
        }
    }

    fn log_rejected(&mut self, c: &Collection) {
        for rej in &c.rejected {
            self.batch.tally.rejected += 1;
            self.batch.log.push(RunEntry {
                kind: rej.kind.clone(),
                procore_id: rej.procore_id,
                local_id: None,
                change: None,
                action: "skip".into(),
                reason: format!("Procore sent a record trestle cannot use: {}", rej.problem),
                detail_json: None,
                outcome: "skipped".into(),
            });
        }
    }

    /// Adds one action's changes to the batch and fills in its log entry; returns the further
    /// log entries it makes (one per commitment of an association).
    fn action(&mut self, action: &Action, entry: &mut RunEntry) -> Vec<RunEntry> {
        match action {
            Action::CreateProject {
                procore_id, fields, ..
            } => self.create_project(*procore_id, fields, entry),
            Action::LinkProject {
                procore_id,
                project_id,
                fields,
                ..
            }
            | Action::UpdateProject {
                procore_id,
                project_id,
                fields,
                ..
            } => self.link_project(*procore_id, *project_id, fields, entry),
            Action::CreateParty {
                procore_vendor_id,
                fields,
                ..
            } => self.create_party(*procore_vendor_id, fields, entry),
            Action::LinkParty {
                procore_vendor_id,
                party_id,
                fields,
                ..
            }
            | Action::UpdateParty {
                procore_vendor_id,
                party_id,
                fields,
                ..
            } => self.link_party(*procore_vendor_id, *party_id, fields, entry),
            Action::CreateContact {
                procore_vendor_id,
                procore_contact_id,
                fields,
                ..
            } => self.create_contact(*procore_vendor_id, *procore_contact_id, fields, entry),
            Action::UpdateContact {
                contact_id,
                procore_contact_id,
                fields,
                ..
            } => self.update_contact(*contact_id, *procore_contact_id, fields, entry),
            Action::Associate {
                procore_project_id,
                procore_vendor_id,
                commitment_ids,
                profile_id,
                ..
            }
            | Action::UpdateAssociation {
                procore_project_id,
                procore_vendor_id,
                commitment_ids,
                profile_id,
                ..
            } => {
                return self.associate(
                    *procore_project_id,
                    *procore_vendor_id,
                    commitment_ids,
                    *profile_id,
                    entry,
                );
            }
            Action::EndAssociation {
                party_id,
                project_id,
                ..
            } => return self.end_association(*party_id, *project_id, entry),
            Action::WriteInsurance {
                level,
                procore_vendor_id,
                procore_project_id,
                record,
                ..
            } => self.queue_write(
                WritePayload {
                    level: *level,
                    procore_vendor_id: *procore_vendor_id,
                    procore_project_id: *procore_project_id,
                    record: record.clone(),
                },
                entry,
            ),
            Action::RemoveInsurance {
                level,
                procore_vendor_id,
                procore_project_id,
                origin_id,
                procore_insurance_id,
                ..
            } => self.queue_removal(
                RemovePayload {
                    level: *level,
                    procore_vendor_id: *procore_vendor_id,
                    procore_project_id: *procore_project_id,
                    origin_id: origin_id.clone(),
                    procore_insurance_id: *procore_insurance_id,
                },
                entry,
            ),
            Action::Skip { .. } => {
                self.batch.tally.skipped += 1;
                entry.outcome = "skipped".into();
            }
        }
        Vec::new()
    }

    /// A new project, and the Procore project recorded as imported.
    fn create_project(&mut self, procore_id: i64, fields: &ProjectFields, entry: &mut RunEntry) {
        self.batch.tally.projects_created += 1;
        let mut p = new_project(procore_id);
        let mut custom = BTreeMap::new();
        fields.apply_to(&mut p, &mut custom);
        let change = self.batch.changes.len();
        self.resolver.created_projects.insert(procore_id, change);
        entry.change = Some(change);
        self.batch.changes.push(ComplianceChange::CreateProject {
            project: p,
            custom_fields: custom,
        });
        self.batch.mappings.insert(
            (ProcoreRecordKind::Project, procore_id),
            listed(
                ProcoreRecordKind::Project,
                procore_id,
                MappingDecision::Import,
            ),
        );
    }

    /// Any other project carrying the Procore id lets go of it; the project takes it and the
    /// fields.
    fn link_project(
        &mut self,
        procore_id: i64,
        project_id: ProjectId,
        fields: &ProjectFields,
        entry: &mut RunEntry,
    ) {
        self.batch.tally.projects_updated += 1;
        entry.local_id = Some(project_id.0);
        let local = self.local;
        let custom_of = |id: &ProjectId| {
            local
                .project_custom_fields
                .get(id)
                .cloned()
                .unwrap_or_default()
        };
        for other in &local.projects {
            if other.id != project_id && other.procore_project_id == Some(procore_id) {
                let mut o = other.clone();
                o.procore_project_id = None;
                self.batch.changes.push(ComplianceChange::UpdateProject {
                    custom_fields: custom_of(&o.id),
                    project: o,
                });
            }
        }
        if let Some(p) = local.projects.iter().find(|p| p.id == project_id) {
            let mut p = p.clone();
            let mut custom = custom_of(&project_id);
            fields.apply_to(&mut p, &mut custom);
            p.procore_project_id = Some(procore_id);
            self.resolver.linked_projects.insert(procore_id, project_id);
            self.batch.changes.push(ComplianceChange::UpdateProject {
                project: p,
                custom_fields: custom,
            });
        }
    }

    /// A new party, and the Procore company recorded as imported.
    fn create_party(&mut self, procore_vendor_id: i64, fields: &PartyFields, entry: &mut RunEntry) {
        self.batch.tally.parties_created += 1;
        let mut p = new_party(procore_vendor_id);
        fields.apply_to(&mut p);
        let change = self.batch.changes.len();
        self.resolver
            .created_parties
            .insert(procore_vendor_id, change);
        entry.change = Some(change);
        self.batch
            .changes
            .push(ComplianceChange::CreateParty { party: p });
        self.batch.mappings.insert(
            (ProcoreRecordKind::Company, procore_vendor_id),
            listed(
                ProcoreRecordKind::Company,
                procore_vendor_id,
                MappingDecision::Import,
            ),
        );
    }

    /// As [`Builder::link_project`], for a party.
    fn link_party(
        &mut self,
        procore_vendor_id: i64,
        party_id: PartyId,
        fields: &PartyFields,
        entry: &mut RunEntry,
    ) {
        self.batch.tally.parties_updated += 1;
        entry.local_id = Some(party_id.0);
        for other in &self.local.parties {
            if other.id != party_id && other.procore_vendor_id == Some(procore_vendor_id) {
                let mut o = other.clone();
                o.procore_vendor_id = None;
                self.batch
                    .changes
                    .push(ComplianceChange::UpdateParty { party: o });
            }
        }
        if let Some(p) = self.local.parties.iter().find(|p| p.id == party_id) {
            let mut p = p.clone();
            fields.apply_to(&mut p);
            p.procore_vendor_id = Some(procore_vendor_id);
            self.resolver
                .linked_parties
                .insert(procore_vendor_id, party_id);
            self.batch
                .changes
                .push(ComplianceChange::UpdateParty { party: p });
        }
    }

    /// A new contact of the party the Procore company is (or becomes in this batch).
    fn create_contact(
        &mut self,
        procore_vendor_id: i64,
        procore_contact_id: i64,
        fields: &ContactFields,
        entry: &mut RunEntry,
    ) {
        self.batch.tally.contacts_created += 1;
        let mut c = Contact {
            id: ContactId(0),
            party_id: PartyId(0),
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            fax: None,
            primary: false,
            procore_contact_id: Some(procore_contact_id),
        };
        fields.apply_to(&mut c);
        c.procore_contact_id = Some(procore_contact_id);
        entry.change = Some(self.batch.changes.len());
        self.batch.changes.push(ComplianceChange::CreateContact {
            party: self.resolver.party(procore_vendor_id),
            contact: c,
        });
    }

    fn update_contact(
        &mut self,
        contact_id: ContactId,
        procore_contact_id: Option<i64>,
        fields: &ContactFields,
        entry: &mut RunEntry,
    ) {
        self.batch.tally.contacts_updated += 1;
        entry.local_id = Some(contact_id.0);
        if let Some(c) = self.local.contacts.iter().find(|c| c.id == contact_id) {
            let mut c = c.clone();
            fields.apply_to(&mut c);
            if procore_contact_id.is_some() {
                c.procore_contact_id = procore_contact_id;
            }
            self.batch
                .changes
                .push(ComplianceChange::UpdateContact { contact: c });
        }
    }

    /// The association, active with exactly these commitments; each commitment is logged too.
    fn associate(
        &mut self,
        procore_project_id: i64,
        procore_vendor_id: i64,
        commitment_ids: &[i64],
        profile_id: Option<ProfileId>,
        entry: &RunEntry,
    ) -> Vec<RunEntry> {
        self.batch.tally.associations_set += 1;
        let party = self.resolver.party(procore_vendor_id);
        let project = self.resolver.project(procore_project_id);
        // No profile named: the store keeps the association's own (a person's, set
        // perhaps after this sync read it).
        self.batch.changes.push(ComplianceChange::SetPartyProject {
            party,
            project,
            profile_id,
            active: true,
            procore_commitment_ids: commitment_ids.to_vec(),
        });
        commitment_entries(commitment_ids, entry)
    }

    /// The association, inactive with no commitments; each commitment it had is logged.
    fn end_association(
        &mut self,
        party_id: PartyId,
        project_id: ProjectId,
        entry: &RunEntry,
    ) -> Vec<RunEntry> {
        self.batch.tally.associations_ended += 1;
        let existing = self
            .local
            .party_projects
            .iter()
            .find(|a| a.party_id == party_id && a.project_id == project_id);
        self.batch.changes.push(ComplianceChange::SetPartyProject {
            party: Ref::Id(party_id),
            project: Ref::Id(project_id),
            profile_id: None,
            active: false,
            procore_commitment_ids: Vec::new(),
        });
        commitment_entries(
            existing.map_or(&[][..], |a| &a.procore_commitment_ids[..]),
            entry,
        )
    }

    /// An outbox item the drain writes to Procore after the batch is applied.
    fn queue_write(&mut self, payload: WritePayload, entry: &mut RunEntry) {
        self.batch.tally.insurance_queued += 1;
        entry.procore_id = Some(payload.procore_vendor_id);
        entry.outcome = self.planned("queued");
        let mut key = insurance_key(self.company, &payload.record);
        // The same record written before and changed since (A, B, then A again) is a
        // new write: its key must not be taken by the first one.
        if self.existing_keys.contains(&key) {
            key = format!("{key}:run{}", self.run);
        }
        self.batch.outbox.push(NewOutboxItem::new(
            self.company,
            WRITE_INSURANCE,
            &key,
            &serde_json::to_string(&payload).expect("serializable"),
        ));
    }

    /// An outbox item the drain takes out of Procore after the batch is applied.
    fn queue_removal(&mut self, payload: RemovePayload, entry: &mut RunEntry) {
        self.batch.tally.insurance_removals_queued += 1;
        entry.procore_id = Some(payload.procore_vendor_id);
        entry.outcome = self.planned("queued");
        let mut key = removal_key(
            self.company,
            &payload.origin_id,
            payload.procore_insurance_id,
        );
        // Removed before and written again under the same Procore id: a new removal.
        if self.existing_keys.contains(&key) {
            key = format!("{key}:run{}", self.run);
        }
        self.batch.outbox.push(NewOutboxItem::new(
            self.company,
            REMOVE_INSURANCE,
            &key,
            &serde_json::to_string(&payload).expect("serializable"),
        ));
    }
}

/// The action's log entry again under each commitment, so `explain procore-commitment` finds it.
fn commitment_entries(commitment_ids: &[i64], entry: &RunEntry) -> Vec<RunEntry> {
    commitment_ids
        .iter()
        .map(|c| RunEntry {
            kind: SubjectKind::ProcoreCommitment,
            procore_id: Some(*c),
            ..entry.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests;
