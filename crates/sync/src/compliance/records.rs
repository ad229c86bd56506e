//! Projects, companies and contacts: the mapping decisions, automatic import, and keeping
//! linked records up to date.
//!
//! A trestle record is linked to the Procore record whose id it carries. The mapping is the
//! administrator's decision and wins: Do not add ignores the Procore record for good (a record
//! linked before is left as it is, and nothing else of the sync touches it), Link moves the
//! link to the chosen record, Import creates one. Without a decision a linked record is simply
//! kept up to date, and an unlinked one waits for a decision unless automatic import applies.

use super::fields::{changes, ContactFields, PartyFields, ProjectFields};
use super::input::{ComplianceSnapshot, LocalCompliance, Mapping, ProcoreVendor};
use super::plan::{Action, Key};
use super::reason::{Mapped, Reason};
use super::settings::{ComplianceSettings, ContactSync, DescriptionSync, NewProjects};
use domain::compliance::{Contact, ContactId, PartyId, ProjectId};
use std::collections::{BTreeMap, BTreeSet};

/// For every Procore record that is in trestle once the plan is applied (linked, linked by this
/// plan, or created by it), the trestle id when it is known already.
pub(super) type Present<Id> = BTreeMap<i64, Option<Id>>;

enum Decision<Id> {
    Skip(Reason),
    Create(Reason),
    Link(Id, Reason),
    Update(Id),
}

trait LocalId: Copy + Eq {
    fn raw(self) -> i64;
}

impl LocalId for ProjectId {
    fn raw(self) -> i64 {
        self.0
    }
}

impl LocalId for PartyId {
    fn raw(self) -> i64 {
        self.0
    }
}

/// The mapping rules shared by projects and companies.
///
/// `carried_by(id)` is `None` when trestle has no such record, else the Procore id it carries;
/// `automatic` is what an undecided, unlinked record gets.
fn decide<Id: LocalId>(
    kind: Mapped,
    procore_id: i64,
    mapping: Mapping<Id>,
    linked: Option<Id>,
    carried_by: impl Fn(Id) -> Option<Option<i64>>,
    automatic: Result<Reason, Reason>,
) -> Decision<Id> {
    match (mapping, linked) {
        (Mapping::DoNotAdd, _) => Decision::Skip(Reason::DoNotAdd { kind }),
        (Mapping::LinkTo(id), _) => match carried_by(id) {
            None => Decision::Skip(Reason::LinkTargetMissing {
                kind,
                local_id: id.raw(),
            }),
            Some(Some(other)) if other != procore_id => {
                Decision::Skip(Reason::LinkTargetLinkedElsewhere {
                    kind,
                    local_id: id.raw(),
                    procore_id: other,
                })
            }
            _ if linked == Some(id) => Decision::Update(id),
            _ => Decision::Link(
                id,
                Reason::LinkChosen {
                    kind,
                    local_id: id.raw(),
                },
            ),
        },
        (_, Some(id)) => Decision::Update(id),
        (Mapping::Import, None) => Decision::Create(Reason::ImportChosen { kind }),
        (Mapping::Undecided, None) => match automatic {
            Ok(reason) => Decision::Create(reason),
            Err(reason) => Decision::Skip(reason),
        },
    }
}

/// The lowest trestle id carrying each Procore id.
fn links<Id: LocalId + Ord>(records: impl Iterator<Item = (Id, Option<i64>)>) -> BTreeMap<i64, Id> {
    let mut out: BTreeMap<i64, Id> = BTreeMap::new();
    for (id, procore) in records {
        if let Some(p) = procore {
            out.entry(p).and_modify(|e| *e = (*e).min(id)).or_insert(id);
        }
    }
    out
}

/// Records linked in trestle whose Procore record the snapshot did not include stay present
/// (unless marked Do not add), so their associations and insurance are not dropped because
/// one read missed them.
fn keep_unseen<Id: LocalId>(
    present: &mut Present<Id>,
    linked: &BTreeMap<i64, Id>,
    mapping: impl Fn(i64) -> Mapping<Id>,
) {
    for (procore_id, id) in linked {
        if mapping(*procore_id) != Mapping::DoNotAdd {
            present.entry(*procore_id).or_insert(Some(*id));
        }
    }
}

pub(super) fn plan_projects(
    snapshot: &ComplianceSnapshot,
    local: &LocalCompliance,
    settings: &ComplianceSettings,
    out: &mut Vec<Action>,
) -> Present<ProjectId> {
    let by_id: BTreeMap<ProjectId, _> = local.projects.iter().map(|p| (p.id, p)).collect();
    let linked = links(local.projects.iter().map(|p| (p.id, p.procore_project_id)));
    let mapping = |id: i64| local.project_mappings.get(&id).copied().unwrap_or_default();
    let current =
        |id: ProjectId| ProjectFields::of(by_id[&id], local.project_custom_fields.get(&id));
    let mut present = Present::new();
    for p in &snapshot.projects {
        let automatic = match (settings.new_projects, p.active) {
            (NewProjects::ListForMapping, _) => Err(Reason::AwaitingMapping {
                kind: Mapped::Project,
            }),
            (NewProjects::ImportAutomatically, true) => Ok(Reason::ImportedAutomatically),
            (NewProjects::ImportAutomatically, false) => {
                Err(Reason::InactiveNotImportedAutomatically {
                    kind: Mapped::Project,
                })
            }
        };
        let decision = decide(
            Mapped::Project,
            p.id,
            mapping(p.id),
            linked.get(&p.id).copied(),
            |id| by_id.get(&id).map(|l| l.procore_project_id),
            automatic,
        );
        let procore = ProjectFields::from_procore(p);
        // What trestle keeps of its own values, per the settings.
        let keep = |mut f: ProjectFields, cur: &ProjectFields, link: bool| {
            if settings.description == DescriptionSync::OnImportOnly {
                f.description = if link {
                    cur.description.clone().or(f.description)
                } else {
                    cur.description.clone()
                };
            }
            if !settings.sync_active_status {
                f.active = cur.active;
            }
            f
        };
        match decision {
            Decision::Skip(reason) => out.push(Action::Skip {
                key: Key::Project { procore_id: p.id },
                reason,
            }),
            Decision::Create(reason) => {
                present.insert(p.id, None);
                out.push(Action::CreateProject {
                    procore_id: p.id,
                    changes: changes(None, &procore),
                    fields: procore,
                    reason,
                });
            }
            Decision::Link(project_id, reason) => {
                present.insert(p.id, Some(project_id));
                let cur = current(project_id);
                let fields = keep(procore, &cur, true);
                out.push(Action::LinkProject {
                    procore_id: p.id,
                    project_id,
                    changes: changes(Some(&cur), &fields),
                    fields,
                    reason,
                });
            }
            Decision::Update(project_id) => {
                present.insert(p.id, Some(project_id));
                let cur = current(project_id);
                let fields = keep(procore, &cur, false);
                if fields != cur {
                    let changes = changes(Some(&cur), &fields);
                    out.push(Action::UpdateProject {
                        procore_id: p.id,
                        project_id,
                        reason: Reason::Updated {
                            kind: Mapped::Project,
                            fields: changes.iter().map(|c| c.field).collect(),
                        },
                        changes,
                        fields,
                    });
                }
            }
        }
    }
    keep_unseen(&mut present, &linked, mapping);
    present
}

/// `importable`: companies with an active commitment on a project in trestle, with the first
/// such commitment and its project.
pub(super) fn plan_vendors(
    snapshot: &ComplianceSnapshot,
    local: &LocalCompliance,
    settings: &ComplianceSettings,
    importable: &BTreeMap<i64, (i64, i64)>,
    out: &mut Vec<Action>,
) -> Present<PartyId> {
    let by_id: BTreeMap<PartyId, _> = local.parties.iter().map(|p| (p.id, p)).collect();
    let linked = links(local.parties.iter().map(|p| (p.id, p.procore_vendor_id)));
    let mapping = |id: i64| local.vendor_mappings.get(&id).copied().unwrap_or_default();
    let mut present = Present::new();
    for v in &snapshot.vendors {
        let automatic = match importable.get(&v.id) {
            _ if !settings.import_companies_through_commitments => Err(Reason::AwaitingMapping {
                kind: Mapped::Company,
            }),
            None => Err(Reason::AwaitingMapping {
                kind: Mapped::Company,
            }),
            Some(_) if !v.active => Err(Reason::InactiveNotImportedAutomatically {
                kind: Mapped::Company,
            }),
            Some((commitment_id, procore_project_id)) => Ok(Reason::ImportedThroughCommitment {
                commitment_id: *commitment_id,
                procore_project_id: *procore_project_id,
            }),
        };
        let decision = decide(
            Mapped::Company,
            v.id,
            mapping(v.id),
            linked.get(&v.id).copied(),
            |id| by_id.get(&id).map(|l| l.procore_vendor_id),
            automatic,
        );
        let procore = PartyFields::from_procore(v);
        let keep = |mut f: PartyFields, cur: &PartyFields| {
            if !settings.sync_active_status {
                f.active = cur.active;
            }
            f
        };
        match decision {
            Decision::Skip(reason) => out.push(Action::Skip {
                key: Key::Company { procore_id: v.id },
                reason,
            }),
            Decision::Create(reason) => {
                present.insert(v.id, None);
                out.push(Action::CreateParty {
                    procore_vendor_id: v.id,
                    changes: changes(None, &procore),
                    fields: procore,
                    reason,
                });
            }
            Decision::Link(party_id, reason) => {
                present.insert(v.id, Some(party_id));
                let cur = PartyFields::of(by_id[&party_id]);
                let fields = keep(procore, &cur);
                out.push(Action::LinkParty {
                    procore_vendor_id: v.id,
                    party_id,
                    changes: changes(Some(&cur), &fields),
                    fields,
                    reason,
                });
            }
            Decision::Update(party_id) => {
                present.insert(v.id, Some(party_id));
                let cur = PartyFields::of(by_id[&party_id]);
                let fields = keep(procore, &cur);
                if fields != cur {
                    let changes = changes(Some(&cur), &fields);
                    out.push(Action::UpdateParty {
                        procore_vendor_id: v.id,
                        party_id,
                        reason: Reason::Updated {
                            kind: Mapped::Company,
                            fields: changes.iter().map(|c| c.field).collect(),
                        },
                        changes,
                        fields,
                    });
                }
            }
        }
    }
    keep_unseen(&mut present, &linked, mapping);
    present
}

fn email_key(email: Option<&str>) -> Option<String> {
    crate::text::non_empty(email).map(|e| e.to_lowercase())
}

pub(super) fn plan_contacts(
    snapshot: &ComplianceSnapshot,
    local: &LocalCompliance,
    settings: &ComplianceSettings,
    vendors_in: &Present<PartyId>,
    out: &mut Vec<Action>,
) {
    for v in &snapshot.vendors {
        let skip_all = |out: &mut Vec<Action>, reason: Reason| {
            for c in &v.contacts {
                out.push(Action::Skip {
                    key: Key::Contact { procore_id: c.id },
                    reason: reason.clone(),
                });
            }
        };
        let Some(party) = vendors_in.get(&v.id) else {
            skip_all(
                out,
                Reason::CompanyNotInTrestle {
                    procore_vendor_id: v.id,
                },
            );
            continue;
        };
        let locals: Vec<&Contact> = match party {
            Some(party) => local
                .contacts
                .iter()
                .filter(|c| c.party_id == *party)
                .collect(),
            None => Vec::new(),
        };
        plan_vendor_contacts(
            v,
            &locals,
            &local.contacts,
            settings.contacts,
            out,
            skip_all,
        );
    }
}

/// `locals`: the party's contacts; `everyone`: every contact, to find one Procore moved to this
/// company from another.
fn plan_vendor_contacts(
    v: &ProcoreVendor,
    locals: &[&Contact],
    everyone: &[Contact],
    mode: ContactSync,
    out: &mut Vec<Action>,
    skip_all: impl Fn(&mut Vec<Action>, Reason),
) {
    let primary = v
        .primary_contact_id
        .filter(|id| v.contacts.iter().any(|c| c.id == *id));
    match (mode, primary) {
        (ContactSync::DoNotSync, _) => return skip_all(out, Reason::ContactSyncOff),
        (ContactSync::PrimaryOnly, None) => {
            if v.contacts.is_empty() {
                out.push(Action::Skip {
                    key: Key::Company { procore_id: v.id },
                    reason: Reason::NoPrimaryContact,
                });
            }
            return skip_all(out, Reason::NoPrimaryContact);
        }
        _ => {}
    }
    let mut contacts: Vec<_> = v.contacts.iter().collect();
    contacts.sort_by_key(|c| c.id);
    let mut claimed: BTreeSet<ContactId> = BTreeSet::new();
    for c in contacts {
        let key = Key::Contact { procore_id: c.id };
        if mode == ContactSync::PrimaryOnly && Some(c.id) != primary {
            out.push(Action::Skip {
                key,
                reason: Reason::NotThePrimaryContact,
            });
            continue;
        }
        let Some(email) = email_key(c.email.as_deref()) else {
            out.push(Action::Skip {
                key,
                reason: Reason::ContactHasNoEmail,
            });
            continue;
        };
        // The person moved to this company in Procore, and trestle keeps them under the party
        // of their old one: a person decides whether it is the same contact.
        if let Some(elsewhere) = everyone
            .iter()
            .find(|l| l.procore_contact_id == Some(c.id) && !locals.iter().any(|m| m.id == l.id))
        {
            out.push(Action::Skip {
                key,
                reason: Reason::ContactOfAnotherParty {
                    contact_id: elsewhere.id,
                    party: elsewhere.party_id,
                },
            });
            continue;
        }
        let existing = locals
            .iter()
            .find(|l| l.procore_contact_id == Some(c.id))
            .or_else(|| {
                locals.iter().find(|l| {
                    l.procore_contact_id.is_none()
                        && !claimed.contains(&l.id)
                        && email_key(l.email.as_deref()).as_ref() == Some(&email)
                })
            });
        let is_primary = match mode {
            ContactSync::AllSetPrimary => Some(c.id) == primary,
            ContactSync::PrimaryOnly => true,
            ContactSync::AllWithoutPrimary | ContactSync::DoNotSync => {
                existing.is_some_and(|e| e.primary)
            }
        };
        let fields = ContactFields::from_procore(c, is_primary);
        match existing {
            None => out.push(Action::CreateContact {
                procore_vendor_id: v.id,
                procore_contact_id: c.id,
                changes: changes(None, &fields),
                fields,
                reason: Reason::ContactAdded { setting: mode },
            }),
            Some(e) => {
                claimed.insert(e.id);
                let cur = ContactFields::of(e);
                let relink = e.procore_contact_id != Some(c.id);
                if relink || fields != cur {
                    let changes = changes(Some(&cur), &fields);
                    let reason = if relink {
                        Reason::ContactMatchedByEmail { contact_id: e.id }
                    } else {
                        Reason::ContactUpdated {
                            fields: changes.iter().map(|c| c.field).collect(),
                        }
                    };
                    out.push(Action::UpdateContact {
                        procore_vendor_id: v.id,
                        contact_id: e.id,
                        procore_contact_id: Some(c.id),
                        fields,
                        changes,
                        reason,
                    });
                }
            }
        }
    }
    // Setting the primary contact means no other contact of the party stays primary.
    let (Some(primary), ContactSync::AllSetPrimary | ContactSync::PrimaryOnly) = (primary, mode)
    else {
        return;
    };
    for e in locals
        .iter()
        .filter(|e| e.primary && !claimed.contains(&e.id))
    {
        let cur = ContactFields::of(e);
        let fields = ContactFields {
            primary: false,
            ..cur.clone()
        };
        out.push(Action::UpdateContact {
            procore_vendor_id: v.id,
            contact_id: e.id,
            procore_contact_id: e.procore_contact_id,
            changes: changes(Some(&cur), &fields),
            fields,
            reason: Reason::NoLongerPrimary {
                procore_contact_id: primary,
            },
        });
    }
}
