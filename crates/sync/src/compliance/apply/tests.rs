//! What each planned action becomes in the store batch. `build` is pure, so these need no
//! database: a plan and trestle's records in, the batch out.

use super::*;
use crate::compliance::collect::Rejected;
use crate::compliance::input::{ProcoreProject, ProcoreVendor};
use crate::compliance::reason::Reason;
use crate::compliance::settings::InsuranceLevel;
use domain::compliance::{PartyProject, ProcoreInsuranceStatus};

const COMPANY: i64 = 7;
const RUN: RunId = RunId(42);

fn batch_of(actions: Vec<Action>, local: &LocalCompliance) -> Batch {
    build(
        &Plan { actions },
        None,
        local,
        COMPANY,
        false,
        &BTreeSet::new(),
        RUN,
    )
}

fn project_fields(name: &str) -> ProjectFields {
    ProjectFields {
        name: name.into(),
        description: None,
        start_date: None,
        completion_date: None,
        active: true,
        project_number: Some("P-1".into()),
        total_value: None,
    }
}

fn party_fields(name: &str) -> PartyFields {
    PartyFields {
        name: name.into(),
        address: None,
        website: None,
        active: true,
    }
}

fn contact_fields(email: &str) -> ContactFields {
    ContactFields {
        first_name: Some("Ada".into()),
        last_name: None,
        email: Some(email.into()),
        phone: None,
        fax: None,
        primary: true,
    }
}

fn local_project(id: i64, procore: Option<i64>) -> Project {
    Project {
        id: ProjectId(id),
        procore_project_id: procore,
        name: format!("project {id}"),
        ..new_project(0)
    }
}

fn local_party(id: i64, procore: Option<i64>) -> Party {
    Party {
        id: PartyId(id),
        procore_vendor_id: procore,
        name: format!("party {id}"),
        ..new_party(0)
    }
}

fn record(origin_id: &str, notes: &str) -> InsuranceRecord {
    InsuranceRecord {
        origin_id: origin_id.into(),
        insurance_type: "General Liability".into(),
        status: ProcoreInsuranceStatus::Compliant,
        effective_date: None,
        expiration_date: None,
        policy_number: None,
        insurer: None,
        notes: notes.into(),
    }
}

fn write(origin_id: &str, notes: &str) -> Action {
    Action::WriteInsurance {
        level: InsuranceLevel::CompanyVendor,
        procore_vendor_id: 500,
        procore_project_id: None,
        record: record(origin_id, notes),
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
        reason: Reason::ImportedAutomatically,
    }
}

fn removal(procore_insurance_id: Option<i64>) -> Action {
    Action::RemoveInsurance {
        level: InsuranceLevel::ProjectVendor,
        procore_vendor_id: 500,
        procore_project_id: Some(100),
        origin_id: "trestle:party:3:project:4:summary".into(),
        procore_insurance_id,
        reason: Reason::ImportedAutomatically,
    }
}

#[test]
fn a_created_project_becomes_a_new_project_carrying_its_procore_id_and_an_import_decision() {
    let b = batch_of(
        vec![Action::CreateProject {
            procore_id: 100,
            fields: project_fields("Tower"),
            changes: Vec::new(),
            reason: Reason::ImportedAutomatically,
        }],
        &LocalCompliance::default(),
    );
    let [ComplianceChange::CreateProject {
        project,
        custom_fields,
    }] = &b.changes[..]
    else {
        panic!("one project created: {:?}", b.changes);
    };
    assert_eq!(project.name, "Tower");
    assert_eq!(project.procore_project_id, Some(100));
    assert_eq!(
        custom_fields.get(crate::compliance::PROJECT_NUMBER_FIELD),
        Some(&"P-1".to_string())
    );
    assert_eq!(
        b.mappings[&(ProcoreRecordKind::Project, 100)].decision,
        MappingDecision::Import
    );
    assert_eq!(b.log[0].change, Some(0));
    assert_eq!(b.log[0].kind, SubjectKind::ProcoreProject);
    assert_eq!(b.log[0].outcome, "applied");
    assert_eq!(b.tally.projects_created, 1);
}

#[test]
fn a_linked_project_takes_the_procore_id_from_any_other_project_that_carried_it() {
    let local = LocalCompliance {
        projects: vec![local_project(1, None), local_project(2, Some(100))],
        ..LocalCompliance::default()
    };
    let b = batch_of(
        vec![Action::LinkProject {
            procore_id: 100,
            project_id: ProjectId(1),
            fields: project_fields("Tower"),
            changes: Vec::new(),
            reason: Reason::ImportedAutomatically,
        }],
        &local,
    );
    let updated: Vec<(ProjectId, Option<i64>, &str)> = b
        .changes
        .iter()
        .map(|c| match c {
            ComplianceChange::UpdateProject { project, .. } => (
                project.id,
                project.procore_project_id,
                project.name.as_str(),
            ),
            other => panic!("only project updates: {other:?}"),
        })
        .collect();
    assert_eq!(
        updated,
        vec![
            (ProjectId(2), None, "project 2"),
            (ProjectId(1), Some(100), "Tower")
        ]
    );
    assert_eq!(b.log[0].local_id, Some(1));
    assert_eq!(b.tally.projects_updated, 1);
}

#[test]
fn a_created_party_becomes_a_new_party_and_its_contact_points_at_the_change_that_creates_it() {
    let b = batch_of(
        vec![
            Action::CreateParty {
                procore_vendor_id: 500,
                fields: party_fields("Acme"),
                changes: Vec::new(),
                reason: Reason::ImportedAutomatically,
            },
            Action::CreateContact {
                procore_vendor_id: 500,
                procore_contact_id: 900,
                fields: contact_fields("ada@acme.test"),
                changes: Vec::new(),
                reason: Reason::ImportedAutomatically,
            },
        ],
        &LocalCompliance::default(),
    );
    assert!(matches!(
        &b.changes[0],
        ComplianceChange::CreateParty { party } if party.name == "Acme" && party.procore_vendor_id == Some(500)
    ));
    let ComplianceChange::CreateContact { party, contact } = &b.changes[1] else {
        panic!("a contact created: {:?}", b.changes[1]);
    };
    assert_eq!(*party, Ref::Created(0));
    assert_eq!(contact.procore_contact_id, Some(900));
    assert_eq!(contact.email.as_deref(), Some("ada@acme.test"));
    assert_eq!(
        b.mappings[&(ProcoreRecordKind::Company, 500)].decision,
        MappingDecision::Import
    );
    assert_eq!(b.log[1].change, Some(1));
    assert_eq!((b.tally.parties_created, b.tally.contacts_created), (1, 1));
}

#[test]
fn a_linked_party_takes_the_procore_id_and_later_actions_use_the_linked_party() {
    let local = LocalCompliance {
        parties: vec![local_party(3, None), local_party(4, Some(500))],
        ..LocalCompliance::default()
    };
    let b = batch_of(
        vec![
            Action::LinkParty {
                procore_vendor_id: 500,
                party_id: PartyId(3),
                fields: party_fields("Acme"),
                changes: Vec::new(),
                reason: Reason::ImportedAutomatically,
            },
            Action::CreateContact {
                procore_vendor_id: 500,
                procore_contact_id: 900,
                fields: contact_fields("ada@acme.test"),
                changes: Vec::new(),
                reason: Reason::ImportedAutomatically,
            },
        ],
        &local,
    );
    assert!(matches!(
        &b.changes[0],
        ComplianceChange::UpdateParty { party } if party.id == PartyId(4) && party.procore_vendor_id.is_none()
    ));
    assert!(matches!(
        &b.changes[1],
        ComplianceChange::UpdateParty { party } if party.id == PartyId(3) && party.procore_vendor_id == Some(500) && party.name == "Acme"
    ));
    assert!(matches!(
        &b.changes[2],
        ComplianceChange::CreateContact {
            party: Ref::Id(PartyId(3)),
            ..
        }
    ));
    assert_eq!(b.tally.parties_updated, 1);
}

#[test]
fn an_updated_contact_keeps_its_procore_id_unless_the_action_names_one() {
    let contact = Contact {
        id: ContactId(8),
        party_id: PartyId(3),
        first_name: None,
        last_name: None,
        email: Some("old@acme.test".into()),
        phone: None,
        fax: None,
        primary: false,
        procore_contact_id: Some(900),
    };
    let local = LocalCompliance {
        contacts: vec![contact],
        ..LocalCompliance::default()
    };
    let update = |procore_contact_id| Action::UpdateContact {
        procore_vendor_id: 500,
        contact_id: ContactId(8),
        procore_contact_id,
        fields: contact_fields("new@acme.test"),
        changes: Vec::new(),
        reason: Reason::ImportedAutomatically,
    };
    let b = batch_of(vec![update(None), update(Some(901))], &local);
    let ids: Vec<(Option<i64>, Option<&str>)> = b
        .changes
        .iter()
        .map(|c| match c {
            ComplianceChange::UpdateContact { contact } => {
                (contact.procore_contact_id, contact.email.as_deref())
            }
            other => panic!("only contact updates: {other:?}"),
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            (Some(900), Some("new@acme.test")),
            (Some(901), Some("new@acme.test"))
        ]
    );
    assert_eq!(b.log[0].local_id, Some(8));
    assert_eq!(b.tally.contacts_updated, 2);
}

#[test]
fn an_association_is_set_active_by_procore_ids_and_logged_under_each_commitment() {
    let b = batch_of(
        vec![Action::Associate {
            procore_project_id: 100,
            procore_vendor_id: 500,
            commitment_ids: vec![61, 62],
            profile_id: None,
            reason: Reason::ImportedAutomatically,
        }],
        &LocalCompliance::default(),
    );
    assert_eq!(
        b.changes,
        vec![ComplianceChange::SetPartyProject {
            party: Ref::Procore(500),
            project: Ref::Procore(100),
            profile_id: None,
            active: true,
            procore_commitment_ids: vec![61, 62],
        }]
    );
    let logged: Vec<(SubjectKind, Option<i64>)> = b
        .log
        .iter()
        .map(|e| (e.kind.clone(), e.procore_id))
        .collect();
    assert_eq!(
        logged,
        vec![
            (SubjectKind::ProcoreCompany, Some(500)),
            (SubjectKind::ProcoreCommitment, Some(61)),
            (SubjectKind::ProcoreCommitment, Some(62))
        ]
    );
    assert!(b.log.iter().all(|e| e.action == "associate"));
    assert_eq!(b.tally.associations_set, 1);
}

#[test]
fn an_ended_association_is_set_inactive_without_commitments_and_logged_under_those_it_had() {
    let local = LocalCompliance {
        party_projects: vec![PartyProject {
            party_id: PartyId(3),
            project_id: ProjectId(4),
            profile_id: None,
            active: true,
            procore_commitment_ids: vec![61],
        }],
        ..LocalCompliance::default()
    };
    let b = batch_of(
        vec![Action::EndAssociation {
            procore_project_id: 100,
            procore_vendor_id: 500,
            party_id: PartyId(3),
            project_id: ProjectId(4),
            reason: Reason::ImportedAutomatically,
        }],
        &local,
    );
    assert_eq!(
        b.changes,
        vec![ComplianceChange::SetPartyProject {
            party: Ref::Id(PartyId(3)),
            project: Ref::Id(ProjectId(4)),
            profile_id: None,
            active: false,
            procore_commitment_ids: Vec::new(),
        }]
    );
    assert_eq!(b.log.len(), 2);
    assert_eq!(
        (&b.log[1].kind, b.log[1].procore_id),
        (&SubjectKind::ProcoreCommitment, Some(61))
    );
    assert_eq!(b.tally.associations_ended, 1);
}

#[test]
fn an_insurance_write_becomes_an_outbox_item_keyed_by_its_record_and_logged_as_queued() {
    let b = batch_of(
        vec![write("trestle:party:3:summary", "all good")],
        &LocalCompliance::default(),
    );
    assert!(b.changes.is_empty());
    let [item] = &b.outbox[..] else {
        panic!("one outbox item: {:?}", b.outbox);
    };
    assert_eq!(item.kind, WRITE_INSURANCE);
    assert_eq!(item.company_id, COMPANY);
    assert_eq!(
        item.key,
        insurance_key(COMPANY, &record("trestle:party:3:summary", "all good"))
    );
    let payload: WritePayload = serde_json::from_str(&item.payload_json).unwrap();
    assert_eq!(payload.procore_vendor_id, 500);
    assert_eq!(payload.record.origin_id, "trestle:party:3:summary");
    assert_eq!(b.log[0].outcome, "queued");
    assert_eq!(b.log[0].procore_id, Some(500));
    assert_eq!(b.tally.insurance_queued, 1);
}

#[test]
fn an_insurance_write_whose_key_was_used_before_gets_a_key_of_its_own_run() {
    let key = insurance_key(COMPANY, &record("trestle:party:3:summary", "all good"));
    let b = build(
        &Plan {
            actions: vec![write("trestle:party:3:summary", "all good")],
        },
        None,
        &LocalCompliance::default(),
        COMPANY,
        false,
        &BTreeSet::from([key.clone()]),
        RUN,
    );
    assert_eq!(b.outbox[0].key, format!("{key}:run{RUN}"));
}

#[test]
fn a_notes_only_change_makes_a_different_write_key() {
    assert_ne!(
        insurance_key(COMPANY, &record("trestle:party:3:summary", "a")),
        insurance_key(COMPANY, &record("trestle:party:3:summary", "b"))
    );
}

#[test]
fn an_insurance_removal_becomes_an_outbox_item_keyed_by_the_procore_record_it_removes() {
    let b = batch_of(
        vec![removal(Some(77)), removal(None)],
        &LocalCompliance::default(),
    );
    let kinds_and_keys: Vec<(&str, &str)> = b
        .outbox
        .iter()
        .map(|i| (i.kind.as_str(), i.key.as_str()))
        .collect();
    assert_eq!(
        kinds_and_keys,
        vec![
            (
                REMOVE_INSURANCE,
                "insurance-removal:7:trestle:party:3:project:4:summary:77"
            ),
            (
                REMOVE_INSURANCE,
                "insurance-removal:7:trestle:party:3:project:4:summary:unknown"
            ),
        ]
    );
    let payload: RemovePayload = serde_json::from_str(&b.outbox[0].payload_json).unwrap();
    assert_eq!(payload.procore_project_id, Some(100));
    assert_eq!(payload.procore_insurance_id, Some(77));
    assert_eq!(b.tally.insurance_removals_queued, 2);
}

#[test]
fn a_skip_changes_nothing_and_is_logged_as_skipped() {
    let b = batch_of(
        vec![Action::Skip {
            key: Key::Company { procore_id: 500 },
            reason: Reason::ImportedAutomatically,
        }],
        &LocalCompliance::default(),
    );
    assert!(b.changes.is_empty() && b.outbox.is_empty() && b.mappings.is_empty());
    assert_eq!(
        (b.log[0].action.as_str(), b.log[0].outcome.as_str()),
        ("skip", "skipped")
    );
    assert_eq!(b.tally.skipped, 1);
}

#[test]
fn a_dry_run_logs_changes_as_planned() {
    let b = build(
        &Plan {
            actions: vec![
                Action::CreateParty {
                    procore_vendor_id: 500,
                    fields: party_fields("Acme"),
                    changes: Vec::new(),
                    reason: Reason::ImportedAutomatically,
                },
                write("trestle:party:3:summary", "all good"),
            ],
        },
        None,
        &LocalCompliance::default(),
        COMPANY,
        true,
        &BTreeSet::new(),
        RUN,
    );
    let outcomes: Vec<&str> = b.log.iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["planned", "planned"]);
}

#[test]
fn an_insurance_action_is_logged_under_the_procore_company_of_its_party() {
    let local = LocalCompliance {
        parties: vec![local_party(3, Some(500))],
        ..LocalCompliance::default()
    };
    let b = batch_of(
        vec![Action::Skip {
            key: Key::Insurance {
                origin_id: "trestle:party:3:summary".into(),
            },
            reason: Reason::ImportedAutomatically,
        }],
        &local,
    );
    assert_eq!(
        (&b.log[0].kind, b.log[0].procore_id),
        (&SubjectKind::Insurance, Some(500))
    );
}

#[test]
fn records_seen_are_listed_undecided_and_rejected_ones_logged_as_skipped() {
    let mut seen = Collection::default();
    seen.snapshot.projects.push(ProcoreProject {
        id: 100,
        name: "Tower".into(),
        description: None,
        start_date: None,
        completion_date: None,
        project_number: None,
        total_value: None,
        active: true,
    });
    seen.snapshot.vendors.push(ProcoreVendor {
        id: 500,
        name: "Acme".into(),
        address: None,
        city: None,
        state_code: None,
        zip: None,
        country_code: None,
        website: None,
        active: true,
        primary_contact_id: None,
        contacts: Vec::new(),
    });
    seen.rejected.push(Rejected {
        kind: SubjectKind::ProcoreCommitment,
        procore_id: Some(61),
        problem: "no vendor".into(),
    });
    let b = build(
        &Plan::default(),
        Some(&seen),
        &LocalCompliance::default(),
        COMPANY,
        false,
        &BTreeSet::new(),
        RUN,
    );
    let listed: Vec<(ProcoreRecordKind, i64, MappingDecision, bool)> = b
        .mappings
        .values()
        .map(|m| (m.kind, m.procore_id, m.decision, m.keep_existing))
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                ProcoreRecordKind::Project,
                100,
                MappingDecision::Undecided,
                true
            ),
            (
                ProcoreRecordKind::Company,
                500,
                MappingDecision::Undecided,
                true
            ),
        ]
    );
    let [entry] = &b.log[..] else {
        panic!("one log entry: {:?}", b.log);
    };
    assert_eq!(
        (&entry.kind, entry.procore_id, entry.outcome.as_str()),
        (&SubjectKind::ProcoreCommitment, Some(61), "skipped")
    );
    assert!(entry.reason.ends_with("no vendor"));
    assert_eq!(b.tally.rejected, 1);
}
