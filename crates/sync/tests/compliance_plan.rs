//! The compliance planner, one named test per rule of seed `002_4ab7969fb7c4b59e.txt`
//! (TrustLayer + Procore) and of the issue's settings.

use chrono::NaiveDate;
use domain::compliance::{
    ComplianceProfile, Contact, ContactId, Currency, InsuranceRecord, Party, PartyId, PartyProject,
    ProcoreInsuranceStatus, ProfileId, Project, ProjectId, DEFAULT_EXPIRING_WITHIN_DAYS,
};
use std::collections::BTreeMap;
use sync::compliance::{
    plan, Action, ActiveCommitments, CommitmentKind, ComplianceSettings, ComplianceSnapshot,
    ContactFields, ContactSync, DescriptionSync, DesiredInsurance, Field, InsuranceLevel,
    InsuranceTarget, Key, LocalCompliance, Mapped, Mapping, NewProjects, Plan, ProcoreCommitment,
    ProcoreContact, ProcoreProject, ProcoreVendor, Reason, SyncLevel, WrittenInsurance,
    PROJECT_NUMBER_FIELD, TOTAL_VALUE_FIELD,
};

// ---- fixtures -------------------------------------------------------------------------------

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn today() -> NaiveDate {
    d("2026-11-22")
}

fn project(id: i64) -> ProcoreProject {
    ProcoreProject {
        id,
        name: format!("Project {id}"),
        description: Some(format!("Description {id}")),
        start_date: Some(d("2026-01-05")),
        completion_date: Some(d("2027-06-30")),
        project_number: Some(format!("P-{id}")),
        total_value: Some("1250000".into()),
        active: true,
    }
}

fn vendor(id: i64) -> ProcoreVendor {
    ProcoreVendor {
        id,
        name: format!("Vendor {id}"),
        address: Some("1 Main St".into()),
        city: Some("Toronto".into()),
        state_code: Some("ON".into()),
        zip: Some("M5V 2T6".into()),
        country_code: Some("CA".into()),
        website: Some(format!("https://vendor{id}.example.com")),
        active: true,
        primary_contact_id: None,
        contacts: vec![],
    }
}

fn contact(id: i64) -> ProcoreContact {
    ProcoreContact {
        id,
        first_name: Some("Ann".into()),
        last_name: Some(format!("Lee{id}")),
        email: Some(format!("c{id}@example.com")),
        business_phone: Some("555-0100".into()),
        mobile_phone: Some("555-0199".into()),
        fax: Some("555-0101".into()),
    }
}

fn commitment(
    id: i64,
    kind: CommitmentKind,
    project: i64,
    vendor: i64,
    status: &str,
) -> ProcoreCommitment {
    ProcoreCommitment {
        id,
        kind,
        procore_project_id: project,
        procore_vendor_id: Some(vendor),
        status: Some(status.into()),
        executed: false,
        custom_fields: BTreeMap::new(),
    }
}

fn sc(id: i64, project: i64, vendor: i64, status: &str) -> ProcoreCommitment {
    commitment(id, CommitmentKind::Subcontract, project, vendor, status)
}

fn po(id: i64, project: i64, vendor: i64, status: &str) -> ProcoreCommitment {
    commitment(id, CommitmentKind::PurchaseOrder, project, vendor, status)
}

fn local_project(id: i64, procore: Option<i64>) -> Project {
    Project {
        id: ProjectId(id),
        name: format!("Local project {id}"),
        description: None,
        start_date: None,
        completion_date: None,
        active: true,
        procore_project_id: procore,
    }
}

fn party(id: i64, procore: Option<i64>) -> Party {
    Party {
        id: PartyId(id),
        name: format!("Local party {id}"),
        address: None,
        website: None,
        active: true,
        procore_vendor_id: procore,
        profile_id: None,
    }
}

fn local_contact(id: i64, party: i64, email: &str, primary: bool) -> Contact {
    Contact {
        id: ContactId(id),
        party_id: PartyId(party),
        first_name: None,
        last_name: None,
        email: Some(email.into()),
        phone: None,
        fax: None,
        primary,
        procore_contact_id: None,
    }
}

fn profile(id: i64, name: &str) -> ComplianceProfile {
    ComplianceProfile {
        id: ProfileId(id),
        name: name.into(),
        currency: Currency::Usd,
        expiring_within_days: DEFAULT_EXPIRING_WITHIN_DAYS,
        requirements: vec![],
    }
}

fn association(party: i64, project: i64, commitments: Vec<i64>) -> PartyProject {
    PartyProject {
        party_id: PartyId(party),
        project_id: ProjectId(project),
        profile_id: None,
        active: true,
        procore_commitment_ids: commitments,
    }
}

fn record(origin_id: &str, status: ProcoreInsuranceStatus, notes: &str) -> InsuranceRecord {
    InsuranceRecord {
        origin_id: origin_id.into(),
        insurance_type: "General Liability".into(),
        status,
        effective_date: Some(d("2026-01-01")),
        expiration_date: Some(d("2027-01-01")),
        policy_number: Some("GL-1".into()),
        insurer: Some("Granite Mutual".into()),
        notes: notes.into(),
    }
}

fn desired(party: i64, project: Option<i64>, record: InsuranceRecord) -> DesiredInsurance {
    DesiredInsurance {
        target: InsuranceTarget {
            party: PartyId(party),
            project: project.map(ProjectId),
        },
        record,
    }
}

fn settings() -> ComplianceSettings {
    ComplianceSettings::default()
}

/// Procore project 1 linked to trestle project 10, vendor 7 linked to party 70.
fn linked() -> (ComplianceSnapshot, LocalCompliance) {
    let snapshot = ComplianceSnapshot {
        projects: vec![project(1)],
        vendors: vec![vendor(7)],
        commitments: vec![],
        ..Default::default()
    };
    let mut local = LocalCompliance {
        projects: vec![local_project(10, Some(1))],
        parties: vec![party(70, Some(7))],
        ..Default::default()
    };
    sync_once(&snapshot, &mut local, &settings(), today());
    assert!(
        !plan(&snapshot, &local, &settings(), today()).has_changes(),
        "the fixture starts in sync"
    );
    (snapshot, local)
}

fn reasons_for<'a>(plan: &'a Plan, key: &Key) -> Vec<&'a Reason> {
    plan.about(key).map(Action::reason).collect()
}

fn project_key(id: i64) -> Key {
    Key::Project { procore_id: id }
}

fn company_key(id: i64) -> Key {
    Key::Company { procore_id: id }
}

fn contact_key(id: i64) -> Key {
    Key::Contact { procore_id: id }
}

fn commitment_key(id: i64) -> Key {
    Key::Commitment { procore_id: id }
}

fn association_key(project: i64, vendor: i64) -> Key {
    Key::Association {
        procore_project_id: project,
        procore_vendor_id: vendor,
    }
}

fn insurance_key(origin: &str) -> Key {
    Key::Insurance {
        origin_id: origin.into(),
    }
}

fn changes_of(plan: &Plan) -> Vec<&Action> {
    plan.changes().collect()
}

/// Applies a plan to in-memory records the way the executor does, so idempotence can be
/// checked.
fn apply(local: &mut LocalCompliance, plan: &Plan) {
    fn next(ids: impl Iterator<Item = i64>) -> i64 {
        ids.max().unwrap_or(0).max(1000) + 1
    }
    fn project_by_procore(local: &LocalCompliance, procore: i64) -> ProjectId {
        local
            .projects
            .iter()
            .find(|p| p.procore_project_id == Some(procore))
            .unwrap()
            .id
    }
    fn party_by_procore(local: &LocalCompliance, procore: i64) -> PartyId {
        local
            .parties
            .iter()
            .find(|p| p.procore_vendor_id == Some(procore))
            .unwrap()
            .id
    }
    for action in &plan.actions {
        match action.clone() {
            Action::CreateProject {
                procore_id, fields, ..
            } => {
                let id = ProjectId(next(local.projects.iter().map(|p| p.id.0)));
                let mut p = local_project(id.0, Some(procore_id));
                fields.apply_to(&mut p, local.project_custom_fields.entry(id).or_default());
                local.projects.push(p);
            }
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
            } => {
                for p in &mut local.projects {
                    if p.procore_project_id == Some(procore_id) {
                        p.procore_project_id = None;
                    }
                }
                let p = local
                    .projects
                    .iter_mut()
                    .find(|p| p.id == project_id)
                    .unwrap();
                p.procore_project_id = Some(procore_id);
                fields.apply_to(
                    p,
                    local.project_custom_fields.entry(project_id).or_default(),
                );
            }
            Action::CreateParty {
                procore_vendor_id,
                fields,
                ..
            } => {
                let id = next(local.parties.iter().map(|p| p.id.0));
                let mut p = party(id, Some(procore_vendor_id));
                fields.apply_to(&mut p);
                local.parties.push(p);
            }
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
            } => {
                for p in &mut local.parties {
                    if p.procore_vendor_id == Some(procore_vendor_id) {
                        p.procore_vendor_id = None;
                    }
                }
                let p = local.parties.iter_mut().find(|p| p.id == party_id).unwrap();
                p.procore_vendor_id = Some(procore_vendor_id);
                fields.apply_to(p);
            }
            Action::CreateContact {
                procore_vendor_id,
                procore_contact_id,
                fields,
                ..
            } => {
                let id = next(local.contacts.iter().map(|c| c.id.0));
                let party = party_by_procore(local, procore_vendor_id);
                let mut c = local_contact(id, party.0, "", false);
                c.procore_contact_id = Some(procore_contact_id);
                fields.apply_to(&mut c);
                local.contacts.push(c);
            }
            Action::UpdateContact {
                contact_id,
                procore_contact_id,
                fields,
                ..
            } => {
                let c = local
                    .contacts
                    .iter_mut()
                    .find(|c| c.id == contact_id)
                    .unwrap();
                fields.apply_to(c);
                if procore_contact_id.is_some() {
                    c.procore_contact_id = procore_contact_id;
                }
            }
            Action::Associate {
                procore_project_id,
                procore_vendor_id,
                commitment_ids,
                profile_id,
                ..
            } => {
                let project = project_by_procore(local, procore_project_id);
                let party = party_by_procore(local, procore_vendor_id);
                match local
                    .party_projects
                    .iter_mut()
                    .find(|a| a.party_id == party && a.project_id == project)
                {
                    Some(a) => {
                        a.active = true;
                        a.procore_commitment_ids = commitment_ids;
                        if profile_id.is_some() {
                            a.profile_id = profile_id;
                        }
                    }
                    None => local.party_projects.push(PartyProject {
                        profile_id,
                        ..association(party.0, project.0, commitment_ids)
                    }),
                }
            }
            Action::UpdateAssociation {
                party_id,
                project_id,
                commitment_ids,
                profile_id,
                ..
            } => {
                let a = local
                    .party_projects
                    .iter_mut()
                    .find(|a| a.party_id == party_id && a.project_id == project_id)
                    .unwrap();
                a.procore_commitment_ids = commitment_ids;
                if profile_id.is_some() {
                    a.profile_id = profile_id;
                }
            }
            Action::EndAssociation {
                party_id,
                project_id,
                ..
            } => {
                let a = local
                    .party_projects
                    .iter_mut()
                    .find(|a| a.party_id == party_id && a.project_id == project_id)
                    .unwrap();
                a.active = false;
                a.procore_commitment_ids.clear();
            }
            Action::WriteInsurance {
                record,
                as_of,
                procore_vendor_id,
                procore_project_id,
                ..
            } => {
                local.written.insert(
                    record.origin_id.clone(),
                    WrittenInsurance {
                        record,
                        written_on: as_of,
                        procore_insurance_id: Some(90_000 + local.written.len() as i64),
                        written_to: Some((procore_vendor_id, procore_project_id)),
                    },
                );
            }
            Action::RemoveInsurance { origin_id, .. } => {
                local.written.remove(&origin_id);
            }
            Action::Skip { .. } => {}
        }
    }
}

fn sync_once(
    snapshot: &ComplianceSnapshot,
    local: &mut LocalCompliance,
    s: &ComplianceSettings,
    today: NaiveDate,
) {
    let p = plan(snapshot, local, s, today);
    apply(local, &p);
}

fn assert_idempotent(
    snapshot: &ComplianceSnapshot,
    local: &mut LocalCompliance,
    s: &ComplianceSettings,
) {
    let first = plan(snapshot, local, s, today());
    apply(local, &first);
    let again = plan(snapshot, local, s, today());
    assert!(!again.has_changes(), "{:#?}", changes_of(&again));
}

// ---- mapping and import ---------------------------------------------------------------------

#[test]
fn an_undecided_project_is_listed_for_mapping_and_not_imported_by_default() {
    let snapshot = ComplianceSnapshot {
        projects: vec![project(1)],
        ..Default::default()
    };
    let p = plan(&snapshot, &LocalCompliance::default(), &settings(), today());
    assert!(!p.has_changes());
    assert_eq!(
        reasons_for(&p, &project_key(1)),
        [&Reason::AwaitingMapping {
            kind: Mapped::Project
        }]
    );
}

#[test]
fn a_project_mapped_to_import_is_created_with_every_field_and_the_dry_run_lists_them() {
    let snapshot = ComplianceSnapshot {
        projects: vec![project(1)],
        ..Default::default()
    };
    let mut local = LocalCompliance::default();
    local.project_mappings.insert(1, Mapping::Import);
    let p = plan(&snapshot, &local, &settings(), today());
    let [Action::CreateProject {
        procore_id: 1,
        fields,
        changes,
        reason,
    }] = changes_of(&p)[..]
    else {
        panic!("{p:#?}")
    };
    assert_eq!(
        reason,
        &Reason::ImportChosen {
            kind: Mapped::Project
        }
    );
    assert_eq!(fields.name, "Project 1");
    assert_eq!(fields.description.as_deref(), Some("Description 1"));
    assert_eq!(fields.start_date, Some(d("2026-01-05")));
    assert_eq!(fields.completion_date, Some(d("2027-06-30")));
    assert_eq!(fields.project_number.as_deref(), Some("P-1"));
    assert_eq!(fields.total_value.as_deref(), Some("1250000"));
    assert!(fields.active);
    let listed: Vec<Field> = changes.iter().map(|c| c.field).collect();
    assert_eq!(
        listed,
        [
            Field::Name,
            Field::Description,
            Field::StartDate,
            Field::CompletionDate,
            Field::ProjectNumber,
            Field::TotalValue,
            Field::Active
        ]
    );

    apply(&mut local, &p);
    let custom = &local.project_custom_fields[&local.projects[0].id];
    assert_eq!(custom[PROJECT_NUMBER_FIELD], "P-1");
    assert_eq!(custom[TOTAL_VALUE_FIELD], "1250000");
    assert!(!plan(&snapshot, &local, &settings(), today()).has_changes());
}

#[test]
fn a_link_shows_field_by_field_what_it_would_change_before_it_is_made() {
    let snapshot = ComplianceSnapshot {
        projects: vec![project(1)],
        ..Default::default()
    };
    let mut local = LocalCompliance {
        projects: vec![local_project(10, None)],
        ..Default::default()
    };
    local.project_custom_fields.insert(
        ProjectId(10),
        BTreeMap::from([("Owner".to_owned(), "City".to_owned())]),
    );
    local
        .project_mappings
        .insert(1, Mapping::LinkTo(ProjectId(10)));
    let p = plan(&snapshot, &local, &settings(), today());
    let [Action::LinkProject {
        project_id: ProjectId(10),
        changes,
        reason,
        ..
    }] = changes_of(&p)[..]
    else {
        panic!("{p:#?}")
    };
    assert_eq!(
        reason,
        &Reason::LinkChosen {
            kind: Mapped::Project,
            local_id: 10
        }
    );
    assert_eq!(
        changes[0].to_string(),
        "name: \"Local project 10\" -> \"Project 1\""
    );
    assert!(
        changes.iter().all(|c| c.field != Field::Active),
        "the status did not change: {changes:?}"
    );
    apply(&mut local, &p);
    assert_eq!(local.projects[0].procore_project_id, Some(1));
    assert_eq!(
        local.project_custom_fields[&ProjectId(10)]["Owner"],
        "City",
        "custom fields the integration does not manage are left alone"
    );
    assert!(!plan(&snapshot, &local, &settings(), today()).has_changes());
}

#[test]
fn a_link_to_a_missing_record_or_to_one_linked_elsewhere_is_not_made() {
    let snapshot = ComplianceSnapshot {
        projects: vec![project(1)],
        vendors: vec![vendor(7)],
        ..Default::default()
    };
    let mut local = LocalCompliance {
        parties: vec![party(70, Some(8))],
        ..Default::default()
    };
    local
        .project_mappings
        .insert(1, Mapping::LinkTo(ProjectId(99)));
    local
        .vendor_mappings
        .insert(7, Mapping::LinkTo(PartyId(70)));
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(!p.has_changes(), "{p:#?}");
    assert_eq!(
        reasons_for(&p, &project_key(1)),
        [&Reason::LinkTargetMissing {
            kind: Mapped::Project,
            local_id: 99
        }]
    );
    assert_eq!(
        reasons_for(&p, &company_key(7)),
        [&Reason::LinkTargetLinkedElsewhere {
            kind: Mapped::Company,
            local_id: 70,
            procore_id: 8
        }]
    );
}

#[test]
fn a_company_can_be_imported_or_linked_by_its_mapping() {
    let snapshot = ComplianceSnapshot {
        vendors: vec![vendor(7), vendor(8)],
        ..Default::default()
    };
    let mut local = LocalCompliance {
        parties: vec![party(80, None)],
        ..Default::default()
    };
    local.vendor_mappings.insert(7, Mapping::Import);
    local
        .vendor_mappings
        .insert(8, Mapping::LinkTo(PartyId(80)));
    let p = plan(&snapshot, &local, &settings(), today());
    let [Action::CreateParty {
        procore_vendor_id: 7,
        fields,
        ..
    }, Action::LinkParty {
        procore_vendor_id: 8,
        party_id: PartyId(80),
        ..
    }] = changes_of(&p)[..]
    else {
        panic!("{p:#?}")
    };
    assert_eq!(fields.name, "Vendor 7");
    assert_eq!(
        fields.address.as_deref(),
        Some("1 Main St, Toronto, ON M5V 2T6, CA")
    );
    assert_eq!(
        fields.website.as_deref(),
        Some("https://vendor7.example.com")
    );
    assert_idempotent(&snapshot, &mut local, &settings());
}

#[test]
fn a_record_marked_do_not_add_is_ignored_by_every_later_sync() {
    let (mut snapshot, mut local) = linked();
    local.project_mappings.insert(1, Mapping::DoNotAdd);
    local.vendor_mappings.insert(7, Mapping::DoNotAdd);
    // Procore changes, a commitment appears, a status is due to be written: all ignored.
    snapshot.projects[0].name = "Renamed".into();
    snapshot.vendors[0].name = "Renamed".into();
    snapshot.commitments.push(sc(100, 1, 7, "Approved"));
    local.insurance.push(desired(
        70,
        None,
        record(
            "trestle:party:70:summary",
            ProcoreInsuranceStatus::Compliant,
            "",
        ),
    ));
    let s = ComplianceSettings {
        new_projects: NewProjects::ImportAutomatically,
        import_companies_through_commitments: true,
        ..settings()
    };
    for _ in 0..2 {
        let p = plan(&snapshot, &local, &s, today());
        assert!(!p.has_changes(), "{:#?}", changes_of(&p));
        assert_eq!(
            reasons_for(&p, &project_key(1)),
            [&Reason::DoNotAdd {
                kind: Mapped::Project
            }]
        );
        assert_eq!(
            reasons_for(&p, &company_key(7)),
            [&Reason::DoNotAdd {
                kind: Mapped::Company
            }]
        );
        assert_eq!(
            reasons_for(&p, &commitment_key(100)),
            [&Reason::ProjectNotLinked {
                procore_project_id: 1
            }]
        );
        assert_eq!(
            reasons_for(&p, &insurance_key("trestle:party:70:summary")),
            [&Reason::PartyNotLinked { party: PartyId(70) }]
        );
        apply(&mut local, &p);
    }
    assert_eq!(local.projects[0].name, "Project 1");
}

#[test]
fn with_automatic_project_import_new_active_projects_are_imported_at_once() {
    let mut inactive = project(2);
    inactive.active = false;
    let snapshot = ComplianceSnapshot {
        projects: vec![project(1), inactive],
        ..Default::default()
    };
    let s = ComplianceSettings {
        new_projects: NewProjects::ImportAutomatically,
        ..settings()
    };
    let mut local = LocalCompliance::default();
    let p = plan(&snapshot, &local, &s, today());
    assert!(matches!(
        changes_of(&p)[..],
        [Action::CreateProject {
            procore_id: 1,
            reason: Reason::ImportedAutomatically,
            ..
        }]
    ));
    assert_eq!(
        reasons_for(&p, &project_key(2)),
        [&Reason::InactiveNotImportedAutomatically {
            kind: Mapped::Project
        }]
    );
    assert_idempotent(&snapshot, &mut local, &s);
}

#[test]
fn with_company_import_on_a_company_with_an_active_commitment_on_a_linked_project_comes_in() {
    let (mut snapshot, mut local) = linked();
    snapshot.vendors.extend([vendor(8), vendor(9)]);
    snapshot.projects.push(project(2)); // not linked
    snapshot.commitments = vec![
        sc(100, 1, 8, "Approved"),
        sc(101, 2, 9, "Approved"), // on an unlinked project
    ];
    let s = ComplianceSettings {
        import_companies_through_commitments: true,
        ..settings()
    };
    let p = plan(&snapshot, &local, &s, today());
    let [Action::CreateParty {
        procore_vendor_id: 8,
        reason,
        ..
    }, Action::Associate {
        procore_project_id: 1,
        procore_vendor_id: 8,
        commitment_ids,
        ..
    }] = changes_of(&p)[..]
    else {
        panic!("{p:#?}")
    };
    assert_eq!(
        reason,
        &Reason::ImportedThroughCommitment {
            commitment_id: 100,
            procore_project_id: 1
        }
    );
    assert_eq!(commitment_ids, &[100]);
    assert_eq!(
        reasons_for(&p, &company_key(9)),
        [&Reason::AwaitingMapping {
            kind: Mapped::Company
        }]
    );
    assert_idempotent(&snapshot, &mut local, &s);
}

#[test]
fn without_company_import_a_company_with_an_active_commitment_waits_for_its_mapping() {
    let (mut snapshot, local) = linked();
    snapshot.vendors.push(vendor(8));
    snapshot.commitments = vec![sc(100, 1, 8, "Approved")];
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(!p.has_changes(), "{p:#?}");
    assert_eq!(
        reasons_for(&p, &company_key(8)),
        [&Reason::AwaitingMapping {
            kind: Mapped::Company
        }]
    );
    assert_eq!(
        reasons_for(&p, &commitment_key(100)),
        [&Reason::CompanyNotInTrestle {
            procore_vendor_id: 8
        }]
    );
}

// ---- projects and parties kept up to date ---------------------------------------------------

#[test]
fn a_linked_project_keeps_name_dates_number_and_value_up_to_date() {
    let (mut snapshot, mut local) = linked();
    let p1 = &mut snapshot.projects[0];
    p1.name = "Tower".into();
    p1.start_date = Some(d("2026-02-01"));
    p1.completion_date = None;
    p1.project_number = Some("T-1".into());
    p1.total_value = Some("2000000.5".into());
    let p = plan(&snapshot, &local, &settings(), today());
    let [Action::UpdateProject {
        project_id: ProjectId(10),
        reason,
        ..
    }] = changes_of(&p)[..]
    else {
        panic!("{p:#?}")
    };
    assert_eq!(
        reason,
        &Reason::Updated {
            kind: Mapped::Project,
            fields: vec![
                Field::Name,
                Field::StartDate,
                Field::CompletionDate,
                Field::ProjectNumber,
                Field::TotalValue
            ]
        }
    );
    assert_idempotent(&snapshot, &mut local, &settings());
    assert_eq!(local.projects[0].name, "Tower");
    assert_eq!(local.projects[0].completion_date, None);
}

#[test]
fn descriptions_are_kept_in_sync_by_default() {
    let (mut snapshot, local) = linked();
    snapshot.projects[0].description = Some("New scope".into());
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(matches!(
        changes_of(&p)[..],
        [Action::UpdateProject { reason: Reason::Updated { fields, .. }, .. }] if fields == &[Field::Description]
    ));
}

#[test]
fn with_descriptions_synced_only_on_import_a_later_change_is_left_alone() {
    let s = ComplianceSettings {
        description: DescriptionSync::OnImportOnly,
        ..settings()
    };
    let (mut snapshot, local) = linked();
    assert_eq!(
        local.projects[0].description.as_deref(),
        Some("Description 1"),
        "copied on link"
    );
    snapshot.projects[0].description = Some("New scope".into());
    assert!(!plan(&snapshot, &local, &s, today()).has_changes());

    // Linking keeps a description written in trestle, and fills an empty one.
    let mut local = LocalCompliance {
        projects: vec![local_project(10, None), local_project(20, None)],
        ..Default::default()
    };
    local.projects[0].description = Some("Written in trestle".into());
    local
        .project_mappings
        .insert(1, Mapping::LinkTo(ProjectId(10)));
    local
        .project_mappings
        .insert(2, Mapping::LinkTo(ProjectId(20)));
    let snapshot = ComplianceSnapshot {
        projects: vec![project(1), project(2)],
        ..Default::default()
    };
    sync_once(&snapshot, &mut local, &s, today());
    assert_eq!(
        local.projects[0].description.as_deref(),
        Some("Written in trestle")
    );
    assert_eq!(
        local.projects[1].description.as_deref(),
        Some("Description 2")
    );
}

#[test]
fn a_record_turning_inactive_in_procore_inactivates_the_linked_one_only_when_status_sync_is_on() {
    let (mut snapshot, mut local) = linked();
    snapshot.projects[0].active = false;
    snapshot.vendors[0].active = false;
    assert!(
        !plan(&snapshot, &local, &settings(), today()).has_changes(),
        "status sync is off by default"
    );
    let on = ComplianceSettings {
        sync_active_status: true,
        ..settings()
    };
    let p = plan(&snapshot, &local, &on, today());
    let [Action::UpdateProject {
        fields: project_fields,
        ..
    }, Action::UpdateParty {
        fields: party_fields,
        reason,
        ..
    }] = changes_of(&p)[..]
    else {
        panic!("{p:#?}")
    };
    assert!(!project_fields.active && !party_fields.active);
    assert_eq!(
        reason,
        &Reason::Updated {
            kind: Mapped::Company,
            fields: vec![Field::Active]
        }
    );
    assert_idempotent(&snapshot, &mut local, &on);
    assert!(!local.projects[0].active && !local.parties[0].active);
    // Active again in Procore: reactivated.
    snapshot.projects[0].active = true;
    assert_idempotent(&snapshot, &mut local, &on);
    assert!(local.projects[0].active);
}

#[test]
fn a_linked_party_keeps_name_address_and_website_up_to_date() {
    let (mut snapshot, mut local) = linked();
    assert_eq!(local.parties[0].name, "Vendor 7");
    snapshot.vendors[0].city = None;
    snapshot.vendors[0].website = None;
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(matches!(
        changes_of(&p)[..],
        [Action::UpdateParty { reason: Reason::Updated { fields, .. }, .. }]
            if fields == &[Field::Address, Field::Website]
    ));
    assert_idempotent(&snapshot, &mut local, &settings());
    assert_eq!(
        local.parties[0].address.as_deref(),
        Some("1 Main St, ON M5V 2T6, CA")
    );
}

// ---- contacts -------------------------------------------------------------------------------

fn with_contacts(mode: ContactSync) -> (ComplianceSnapshot, LocalCompliance, ComplianceSettings) {
    let (mut snapshot, local) = linked();
    snapshot.vendors[0].contacts = vec![contact(2), contact(1), contact(3)];
    snapshot.vendors[0].primary_contact_id = Some(2);
    (
        snapshot,
        local,
        ComplianceSettings {
            contacts: mode,
            ..settings()
        },
    )
}

fn created_contacts(p: &Plan) -> Vec<(i64, bool)> {
    p.actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateContact {
                procore_contact_id,
                fields,
                ..
            } => Some((*procore_contact_id, fields.primary)),
            _ => None,
        })
        .collect()
}

#[test]
fn contacts_are_not_synced_by_default_and_each_says_so() {
    let (snapshot, local, s) = with_contacts(ContactSync::default());
    assert_eq!(s.contacts, ContactSync::DoNotSync);
    let p = plan(&snapshot, &local, &s, today());
    assert!(!p.has_changes());
    assert_eq!(reasons_for(&p, &contact_key(1)), [&Reason::ContactSyncOff]);
}

#[test]
fn sync_all_and_set_primary_adds_every_contact_and_makes_procores_primary_the_only_primary() {
    let (snapshot, mut local, s) = with_contacts(ContactSync::AllSetPrimary);
    local
        .contacts
        .push(local_contact(5, 70, "office@example.com", true));
    let p = plan(&snapshot, &local, &s, today());
    assert_eq!(created_contacts(&p), [(1, false), (2, true), (3, false)]);
    let Some(Action::CreateContact { fields, .. }) = p.about(&contact_key(1)).next() else {
        panic!("{p:#?}")
    };
    assert_eq!(
        fields,
        &ContactFields {
            first_name: Some("Ann".into()),
            last_name: Some("Lee1".into()),
            email: Some("c1@example.com".into()),
            phone: Some("555-0100".into()),
            fax: Some("555-0101".into()),
            primary: false,
        }
    );
    assert!(matches!(
        p.about(&Key::LocalContact {
            contact_id: ContactId(5)
        })
        .collect::<Vec<_>>()[..],
        [Action::UpdateContact {
            fields: ContactFields { primary: false, .. },
            reason: Reason::NoLongerPrimary {
                procore_contact_id: 2
            },
            ..
        }]
    ));
    assert_idempotent(&snapshot, &mut local, &s);
}

#[test]
fn sync_all_without_primary_adds_every_contact_and_leaves_primary_flags_alone() {
    let (snapshot, mut local, s) = with_contacts(ContactSync::AllWithoutPrimary);
    let mut mine = local_contact(5, 70, "C3@example.com", true);
    mine.first_name = Some("Ann".into());
    local.contacts.push(mine);
    let p = plan(&snapshot, &local, &s, today());
    assert_eq!(created_contacts(&p), [(1, false), (2, false)]);
    assert!(
        matches!(
            p.about(&contact_key(3)).collect::<Vec<_>>()[..],
            [Action::UpdateContact {
                contact_id: ContactId(5),
                fields: ContactFields { primary: true, .. },
                reason: Reason::ContactMatchedByEmail { .. },
                ..
            }]
        ),
        "matched by email (ignoring case), linked instead of duplicated, still primary"
    );
    assert_idempotent(&snapshot, &mut local, &s);
    assert_eq!(local.contacts.len(), 3);
}

#[test]
fn only_primary_syncs_just_the_primary_contact() {
    let (snapshot, mut local, s) = with_contacts(ContactSync::PrimaryOnly);
    let p = plan(&snapshot, &local, &s, today());
    assert_eq!(created_contacts(&p), [(2, true)]);
    assert_eq!(
        reasons_for(&p, &contact_key(1)),
        [&Reason::NotThePrimaryContact]
    );
    assert_idempotent(&snapshot, &mut local, &s);
}

#[test]
fn only_primary_with_no_primary_contact_in_procore_syncs_nothing_and_says_so() {
    let (mut snapshot, local, s) = with_contacts(ContactSync::PrimaryOnly);
    snapshot.vendors[0].primary_contact_id = None;
    let p = plan(&snapshot, &local, &s, today());
    assert!(!p.has_changes());
    assert_eq!(
        reasons_for(&p, &contact_key(2)),
        [&Reason::NoPrimaryContact]
    );
    assert!(p.actions[0]
        .reason()
        .to_string()
        .contains("no primary contact"));
    // A company with no contacts at all says so on the company.
    snapshot.vendors[0].contacts.clear();
    let p = plan(&snapshot, &local, &s, today());
    assert_eq!(
        reasons_for(&p, &company_key(7)),
        [&Reason::NoPrimaryContact]
    );
}

#[test]
fn a_contact_without_an_email_is_not_synced() {
    let (mut snapshot, local, s) = with_contacts(ContactSync::AllSetPrimary);
    snapshot.vendors[0].contacts[1].email = Some("  ".into());
    let p = plan(&snapshot, &local, &s, today());
    assert_eq!(
        reasons_for(&p, &contact_key(1)),
        [&Reason::ContactHasNoEmail]
    );
    assert_eq!(created_contacts(&p), [(2, true), (3, false)]);
}

#[test]
fn a_synced_contact_changed_in_procore_is_updated() {
    let (mut snapshot, mut local, s) = with_contacts(ContactSync::AllSetPrimary);
    sync_once(&snapshot, &mut local, &s, today());
    snapshot.vendors[0].contacts[0].business_phone = None;
    let p = plan(&snapshot, &local, &s, today());
    assert!(
        matches!(
            changes_of(&p)[..],
            [Action::UpdateContact { fields: ContactFields { phone: Some(phone), .. }, reason: Reason::ContactUpdated { fields }, .. }]
                if phone == "555-0199" && fields == &[Field::Phone]
        ),
        "{p:#?}"
    );
}

// ---- commitments and associations -----------------------------------------------------------

fn associated(p: &Plan) -> Vec<(i64, i64, Vec<i64>)> {
    p.changes()
        .filter_map(|a| match a {
            Action::Associate {
                procore_project_id,
                procore_vendor_id,
                commitment_ids,
                ..
            } => Some((
                *procore_project_id,
                *procore_vendor_id,
                commitment_ids.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn an_active_commitment_on_a_linked_project_associates_the_company_with_it() {
    let (mut snapshot, mut local) = linked();
    snapshot.commitments = vec![sc(100, 1, 7, "Approved"), po(101, 1, 7, "Received")];
    let p = plan(&snapshot, &local, &settings(), today());
    assert_eq!(associated(&p), [(1, 7, vec![100, 101])]);
    assert_idempotent(&snapshot, &mut local, &settings());
    assert_eq!(local.party_projects[0].project_id, ProjectId(10));
    assert_eq!(local.party_projects[0].party_id, PartyId(70));
}

#[test]
fn the_default_active_statuses_are_approved_or_complete_subcontracts_and_agreed_purchase_orders() {
    let (mut snapshot, local) = linked();
    let cases = [
        (sc(1, 1, 7, "Approved"), true),
        (sc(2, 1, 7, "Complete"), true),
        (sc(3, 1, 7, "Draft"), false),
        (sc(4, 1, 7, "Out For Signature"), false),
        (sc(5, 1, 7, "Terminated"), false),
        (sc(6, 1, 7, "Void"), false),
        (po(7, 1, 7, "Approved"), true),
        (po(8, 1, 7, "Partially Received"), true),
        (po(9, 1, 7, "received"), true),
        (po(10, 1, 7, "Submitted"), false),
        (po(11, 1, 7, "Processing"), false),
        (po(12, 1, 7, "Closed"), false),
    ];
    snapshot.commitments = cases.iter().map(|(c, _)| c.clone()).collect();
    let p = plan(&snapshot, &local, &settings(), today());
    let want: Vec<i64> = cases
        .iter()
        .filter(|(_, a)| *a)
        .map(|(c, _)| c.id)
        .collect();
    assert_eq!(associated(&p), [(1, 7, want)]);
    assert!(matches!(
        reasons_for(&p, &commitment_key(10))[..],
        [Reason::CommitmentNotActive { kind: CommitmentKind::PurchaseOrder, status: Some(s), .. }] if s == "Submitted"
    ));
}

#[test]
fn a_commitment_on_an_unlinked_project_is_not_associated_and_says_so() {
    let (mut snapshot, local) = linked();
    snapshot.projects.push(project(2));
    snapshot.commitments = vec![sc(100, 2, 7, "Approved")];
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(associated(&p).is_empty());
    assert_eq!(
        reasons_for(&p, &commitment_key(100)),
        [&Reason::ProjectNotLinked {
            procore_project_id: 2
        }]
    );
}

#[test]
fn ignored_commitment_types_never_associate() {
    let (mut snapshot, local) = linked();
    snapshot.commitments = vec![sc(100, 1, 7, "Approved"), po(101, 1, 7, "Approved")];
    for (s, kept, ignored) in [
        (
            ComplianceSettings {
                ignore_purchase_orders: true,
                ..settings()
            },
            100,
            (101, CommitmentKind::PurchaseOrder),
        ),
        (
            ComplianceSettings {
                ignore_subcontracts: true,
                ..settings()
            },
            101,
            (100, CommitmentKind::Subcontract),
        ),
    ] {
        let p = plan(&snapshot, &local, &s, today());
        assert_eq!(associated(&p), [(1, 7, vec![kept])]);
        assert_eq!(
            reasons_for(&p, &commitment_key(ignored.0)),
            [&Reason::CommitmentTypeIgnored { kind: ignored.1 }]
        );
    }
}

#[test]
fn a_shared_status_list_applies_to_both_kinds() {
    let (mut snapshot, local) = linked();
    snapshot.commitments = vec![
        sc(100, 1, 7, "Out For Signature"),
        po(101, 1, 7, "Out For Signature"),
        po(102, 1, 7, "Approved"),
    ];
    let s = ComplianceSettings {
        active_commitments: ActiveCommitments::Shared {
            statuses: vec!["out for signature ".into()],
        },
        ..settings()
    };
    let p = plan(&snapshot, &local, &s, today());
    assert_eq!(associated(&p), [(1, 7, vec![100, 101])]);
}

#[test]
fn separate_status_lists_apply_per_kind() {
    let (mut snapshot, local) = linked();
    snapshot.commitments = vec![
        sc(100, 1, 7, "Draft"),
        sc(101, 1, 7, "Submitted"),
        po(102, 1, 7, "Submitted"),
        po(103, 1, 7, "Draft"),
    ];
    let s = ComplianceSettings {
        active_commitments: ActiveCommitments::PerType {
            subcontracts: vec!["Draft".into()],
            purchase_orders: vec!["Submitted".into()],
        },
        ..settings()
    };
    let p = plan(&snapshot, &local, &s, today());
    assert_eq!(associated(&p), [(1, 7, vec![100, 102])]);
    assert!(matches!(
        reasons_for(&p, &commitment_key(103))[..],
        [Reason::CommitmentNotActive { active, .. }] if active == &["Submitted".to_owned()]
    ));
}

#[test]
fn in_executed_only_mode_only_executed_commitments_count_whatever_their_status() {
    let (mut snapshot, local) = linked();
    let mut executed_draft = sc(100, 1, 7, "Draft");
    executed_draft.executed = true;
    snapshot.commitments = vec![executed_draft, sc(101, 1, 7, "Approved")];
    let s = ComplianceSettings {
        active_commitments: ActiveCommitments::ExecutedOnly,
        ..settings()
    };
    let p = plan(&snapshot, &local, &s, today());
    assert_eq!(associated(&p), [(1, 7, vec![100])]);
    assert_eq!(
        reasons_for(&p, &commitment_key(101)),
        [&Reason::CommitmentNotExecuted {
            kind: CommitmentKind::Subcontract
        }]
    );
}

#[test]
fn the_association_ends_when_the_last_active_commitment_goes() {
    let (mut snapshot, mut local) = linked();
    snapshot.commitments = vec![sc(100, 1, 7, "Approved"), po(101, 1, 7, "Approved")];
    assert_idempotent(&snapshot, &mut local, &settings());

    // One of two goes: the association stays, with the other.
    snapshot.commitments[0].status = Some("Terminated".into());
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(matches!(
        changes_of(&p)[..],
        [Action::UpdateAssociation { commitment_ids, .. }] if commitment_ids == &[101]
    ));
    apply(&mut local, &p);

    // The last one goes: it ends, kept inactive.
    snapshot.commitments.pop();
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(matches!(
        changes_of(&p)[..],
        [Action::EndAssociation {
            reason: Reason::AssociationEnded,
            party_id: PartyId(70),
            project_id: ProjectId(10),
            ..
        }]
    ));
    assert_idempotent(&snapshot, &mut local, &settings());
    assert!(!local.party_projects[0].active);

    // A commitment becoming active again brings it back.
    snapshot.commitments[0].status = Some("Approved".into());
    assert_eq!(
        associated(&plan(&snapshot, &local, &settings(), today())),
        [(1, 7, vec![100])]
    );
    assert_idempotent(&snapshot, &mut local, &settings());
    assert!(local.party_projects[0].active);
}

#[test]
fn an_association_made_by_hand_in_trestle_is_never_ended_by_the_sync() {
    let (snapshot, mut local) = linked();
    local.party_projects.push(association(70, 10, vec![]));
    assert!(!plan(&snapshot, &local, &settings(), today()).has_changes());
}

// ---- compliance profile mapping -------------------------------------------------------------

fn with_profile_field(value: &str) -> (ComplianceSnapshot, LocalCompliance) {
    let (mut snapshot, mut local) = linked();
    local.profiles = vec![
        profile(1, "Standard Subcontractor"),
        profile(2, "Standard Supplier"),
        profile(3, "High Rise"),
        profile(4, "Roofing"),
    ];
    let mut c = sc(100, 1, 7, "Approved");
    c.custom_fields
        .insert("Compliance Profile".into(), value.into());
    snapshot.commitments = vec![c];
    (snapshot, local)
}

#[test]
fn a_profile_named_exactly_by_the_commitment_field_applies_to_the_association() {
    let (snapshot, mut local) = with_profile_field("High Rise");
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(matches!(
        changes_of(&p)[..],
        [Action::Associate { profile_id: Some(ProfileId(3)), reason: Reason::Associated { profile: Some(name), .. }, .. }] if name == "High Rise"
    ));
    assert_idempotent(&snapshot, &mut local, &settings());
    assert_eq!(local.party_projects[0].profile_id, Some(ProfileId(3)));
}

#[test]
fn a_changed_profile_value_updates_the_association() {
    let (mut snapshot, mut local) = with_profile_field("High Rise");
    assert_idempotent(&snapshot, &mut local, &settings());
    snapshot.commitments[0]
        .custom_fields
        .insert("Compliance Profile".into(), "Roofing".into());
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(matches!(
        changes_of(&p)[..],
        [Action::UpdateAssociation {
            profile_id: Some(ProfileId(4)),
            ..
        }]
    ));
}

#[test]
fn a_typo_in_the_profile_field_is_reported_with_the_closest_profile_names_and_never_applied() {
    let (snapshot, local) = with_profile_field("Standard Subcontracter");
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(
        matches!(
            changes_of(&p)[..],
            [Action::Associate {
                profile_id: None,
                reason: Reason::Associated { profile: None, .. },
                ..
            }]
        ),
        "the association is made, without the profile"
    );
    let reasons = reasons_for(&p, &commitment_key(100));
    assert_eq!(
        reasons,
        [&Reason::UnknownProfile {
            field: "Compliance Profile".into(),
            value: "Standard Subcontracter".into(),
            closest: vec![
                "Standard Subcontractor".into(),
                "Standard Supplier".into(),
                "High Rise".into()
            ],
        }]
    );
    let text = reasons[0].to_string();
    assert!(
        text.contains("\"Standard Subcontracter\"")
            && text.contains("closest: \"Standard Subcontractor\""),
        "{text}"
    );
}

#[test]
fn profile_names_match_exactly_not_ignoring_case() {
    let (snapshot, local) = with_profile_field("high rise");
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(matches!(
        reasons_for(&p, &commitment_key(100))[..],
        [Reason::UnknownProfile { closest, .. }] if closest[0] == "High Rise"
    ));
}

#[test]
fn the_profile_field_name_is_configurable() {
    let (mut snapshot, local) = with_profile_field("Roofing");
    let c = &mut snapshot.commitments[0];
    c.custom_fields.clear();
    c.custom_fields
        .insert("COI Profile".into(), "Roofing".into());
    assert!(matches!(
        changes_of(&plan(&snapshot, &local, &settings(), today()))[..],
        [Action::Associate {
            profile_id: None,
            ..
        }]
    ));
    let s = ComplianceSettings {
        profile_field: "COI Profile".into(),
        ..settings()
    };
    assert!(matches!(
        changes_of(&plan(&snapshot, &local, &s, today()))[..],
        [Action::Associate {
            profile_id: Some(ProfileId(4)),
            ..
        }]
    ));
}

#[test]
fn commitments_naming_different_profiles_apply_none_and_say_so() {
    let (mut snapshot, local) = with_profile_field("Roofing");
    let mut other = po(101, 1, 7, "Approved");
    other
        .custom_fields
        .insert("Compliance Profile".into(), "High Rise".into());
    snapshot.commitments.push(other);
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(matches!(
        changes_of(&p)[..],
        [Action::Associate {
            profile_id: None,
            ..
        }]
    ));
    assert_eq!(
        reasons_for(&p, &association_key(1, 7))[0],
        &Reason::ConflictingProfiles {
            field: "Compliance Profile".into(),
            profiles: vec!["High Rise".into(), "Roofing".into()]
        }
    );
}

// ---- write-back -----------------------------------------------------------------------------

const GLOBAL: &str = "trestle:party:70:subject:general_liability";
const ON_PROJECT: &str = "trestle:party:70:project:10:subject:general_liability";

fn with_records() -> (ComplianceSnapshot, LocalCompliance) {
    let (snapshot, mut local) = linked();
    local.insurance = vec![
        desired(
            70,
            None,
            record(GLOBAL, ProcoreInsuranceStatus::Compliant, "ok"),
        ),
        desired(
            70,
            Some(10),
            record(ON_PROJECT, ProcoreInsuranceStatus::NonCompliant, "missing"),
        ),
    ];
    (snapshot, local)
}

fn written(p: &Plan) -> Vec<(InsuranceLevel, i64, Option<i64>, String)> {
    p.changes()
        .filter_map(|a| match a {
            Action::WriteInsurance {
                level,
                procore_vendor_id,
                procore_project_id,
                record,
                ..
            } => Some((
                *level,
                *procore_vendor_id,
                *procore_project_id,
                record.origin_id.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_record_never_written_goes_to_the_vendor_at_its_level() {
    let (snapshot, mut local) = with_records();
    let p = plan(&snapshot, &local, &settings(), today());
    assert_eq!(
        written(&p),
        [
            (
                InsuranceLevel::ProjectVendor,
                7,
                Some(1),
                ON_PROJECT.to_owned()
            ),
            (InsuranceLevel::CompanyVendor, 7, None, GLOBAL.to_owned()),
        ]
    );
    assert_eq!(
        reasons_for(&p, &insurance_key(GLOBAL)),
        [&Reason::FirstWrite {
            level: InsuranceLevel::CompanyVendor
        }]
    );
    assert_idempotent(&snapshot, &mut local, &settings());
    assert_eq!(local.written[GLOBAL].written_on, today());
}

#[test]
fn a_subject_level_status_change_is_written() {
    let (snapshot, mut local) = with_records();
    sync_once(&snapshot, &mut local, &settings(), today());
    local.insurance[1].record.status = ProcoreInsuranceStatus::Compliant;
    let p = plan(&snapshot, &local, &settings(), today());
    assert_eq!(written(&p).len(), 1);
    assert_eq!(
        reasons_for(&p, &insurance_key(ON_PROJECT)),
        [&Reason::StatusChanged {
            from: ProcoreInsuranceStatus::NonCompliant,
            to: ProcoreInsuranceStatus::Compliant,
            since: today()
        }]
    );
}

#[test]
fn a_notes_only_change_is_written_and_says_the_status_did_not_change() {
    let (snapshot, mut local) = with_records();
    sync_once(&snapshot, &mut local, &settings(), today());
    local.insurance[0].record.notes = "ok, one endorsement fewer missing".into();
    let p = plan(&snapshot, &local, &settings(), today());
    assert_eq!(written(&p).len(), 1);
    let reasons = reasons_for(&p, &insurance_key(GLOBAL));
    assert_eq!(reasons, [&Reason::NotesOnly { since: today() }]);
    assert!(reasons[0].to_string().contains("status did not change"));
}

#[test]
fn an_unchanged_record_is_not_written_and_says_since_when() {
    let (snapshot, mut local) = with_records();
    sync_once(&snapshot, &mut local, &settings(), d("2026-11-01"));
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(!p.has_changes());
    let reasons = reasons_for(&p, &insurance_key(GLOBAL));
    assert_eq!(
        reasons,
        [&Reason::NothingChangedSince {
            on: d("2026-11-01")
        }]
    );
    assert_eq!(
        reasons[0].to_string(),
        "not written: nothing changed since the last write on 2026-11-01"
    );
}

#[test]
fn with_compliance_sync_off_nothing_is_written_but_projects_and_parties_still_sync() {
    let (mut snapshot, local) = with_records();
    snapshot.projects[0].name = "Tower".into();
    let s = ComplianceSettings {
        compliance_sync: false,
        ..settings()
    };
    let p = plan(&snapshot, &local, &s, today());
    assert!(written(&p).is_empty());
    assert_eq!(
        reasons_for(&p, &insurance_key(GLOBAL)),
        [&Reason::ComplianceSyncOff]
    );
    assert!(matches!(changes_of(&p)[..], [Action::UpdateProject { .. }]));
}

#[test]
fn the_sync_level_decides_which_records_are_written() {
    let (snapshot, local) = with_records();
    for (level, want, excluded) in [
        (SyncLevel::All, vec![ON_PROJECT, GLOBAL], None),
        (
            SyncLevel::ProjectsOnly,
            vec![ON_PROJECT],
            Some((GLOBAL, InsuranceLevel::CompanyVendor)),
        ),
        (
            SyncLevel::PartiesOnly,
            vec![GLOBAL],
            Some((ON_PROJECT, InsuranceLevel::ProjectVendor)),
        ),
    ] {
        let s = ComplianceSettings {
            level,
            ..settings()
        };
        let p = plan(&snapshot, &local, &s, today());
        let got: Vec<String> = written(&p).into_iter().map(|w| w.3).collect();
        assert_eq!(got, want, "{level:?}");
        if let Some((origin, record_level)) = excluded {
            assert_eq!(
                reasons_for(&p, &insurance_key(origin)),
                [&Reason::LevelExcludes {
                    setting: level,
                    level: record_level
                }]
            );
        }
    }
}

#[test]
fn records_of_an_unlinked_party_or_project_are_not_written() {
    let (snapshot, mut local) = with_records();
    local.parties.push(party(71, None));
    local.projects.push(local_project(11, None));
    local.insurance = vec![
        desired(71, None, record("a", ProcoreInsuranceStatus::Compliant, "")),
        desired(
            70,
            Some(11),
            record("b", ProcoreInsuranceStatus::Compliant, ""),
        ),
    ];
    let p = plan(&snapshot, &local, &settings(), today());
    assert!(!p.has_changes());
    assert_eq!(
        reasons_for(&p, &insurance_key("a")),
        [&Reason::PartyNotLinked { party: PartyId(71) }]
    );
    assert_eq!(
        reasons_for(&p, &insurance_key("b")),
        [&Reason::InsuranceProjectNotLinked {
            project: ProjectId(11)
        }]
    );
}

// ---- the plan as a whole --------------------------------------------------------------------

fn everything() -> (ComplianceSnapshot, LocalCompliance, ComplianceSettings) {
    let mut v8 = vendor(8);
    v8.contacts = vec![contact(2), contact(1)];
    v8.primary_contact_id = Some(1);
    let mut v9 = vendor(9);
    v9.contacts = vec![contact(3)];
    let mut c = sc(100, 1, 8, "Approved");
    c.custom_fields
        .insert("Compliance Profile".into(), "High Rise".into());
    let snapshot = ComplianceSnapshot {
        projects: vec![project(3), project(1), project(2)],
        vendors: vec![v9, v8, vendor(7)],
        commitments: vec![
            po(103, 2, 9, "Received"),
            c,
            sc(101, 1, 7, "Draft"),
            po(102, 3, 8, "Approved"),
        ],
        ..Default::default()
    };
    let mut local = LocalCompliance {
        projects: vec![local_project(10, None)],
        parties: vec![party(70, Some(7))],
        profiles: vec![profile(1, "High Rise")],
        insurance: vec![
            desired(
                70,
                None,
                record(GLOBAL, ProcoreInsuranceStatus::Compliant, ""),
            ),
            desired(
                70,
                Some(10),
                record(ON_PROJECT, ProcoreInsuranceStatus::Compliant, ""),
            ),
        ],
        ..Default::default()
    };
    local
        .project_mappings
        .insert(1, Mapping::LinkTo(ProjectId(10)));
    local.project_mappings.insert(3, Mapping::DoNotAdd);
    let s = ComplianceSettings {
        new_projects: NewProjects::ImportAutomatically,
        import_companies_through_commitments: true,
        contacts: ContactSync::AllSetPrimary,
        sync_active_status: true,
        ..settings()
    };
    (snapshot, local, s)
}

#[test]
fn planning_twice_on_the_same_input_gives_the_same_plan_in_apply_order() {
    let (snapshot, local, s) = everything();
    let a = plan(&snapshot, &local, &s, today());
    assert_eq!(a, plan(&snapshot, &local, &s, today()));
    let keys: Vec<Key> = a.actions.iter().map(Action::key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    // The order Procore listed things in does not matter.
    let mut reversed = snapshot.clone();
    reversed.projects.reverse();
    reversed.vendors.reverse();
    reversed.commitments.reverse();
    for v in &mut reversed.vendors {
        v.contacts.reverse();
    }
    assert_eq!(a, plan(&reversed, &local, &s, today()));
}

#[test]
fn applying_a_plan_and_planning_again_leaves_nothing_to_do() {
    let (snapshot, mut local, s) = everything();
    let first = plan(&snapshot, &local, &s, today());
    assert!(first.has_changes());
    apply(&mut local, &first);
    let second = plan(&snapshot, &local, &s, today());
    assert!(!second.has_changes(), "{:#?}", changes_of(&second));
    // What the first plan did, for the record.
    assert!(local.parties.iter().any(|p| p.procore_vendor_id == Some(8)));
    assert!(local.parties.iter().any(|p| p.procore_vendor_id == Some(9)));
    assert_eq!(local.contacts.iter().filter(|c| c.primary).count(), 1);
    assert!(local
        .party_projects
        .iter()
        .any(|a| a.project_id == ProjectId(10) && a.profile_id == Some(ProfileId(1))));
    assert!(local.written.contains_key(ON_PROJECT));
}

#[test]
fn every_reason_reads_as_a_sentence_for_explain() {
    let (snapshot, local, s) = everything();
    let p = plan(&snapshot, &local, &s, today());
    let defaults = plan(&snapshot, &local, &settings(), today());
    for a in p.actions.iter().chain(&defaults.actions) {
        let text = a.reason().to_string();
        assert!(text.len() > 30 && text.contains(':'), "{text}");
    }
    // The seed's troubleshooting answers, by record.
    let commitment = reasons_for(&p, &commitment_key(101))[0].to_string();
    assert!(
        commitment.contains("\"Draft\"") && commitment.contains("active"),
        "{commitment}"
    );
    let dna = reasons_for(&p, &project_key(3))[0].to_string();
    assert!(dna.contains("Do not add"), "{dna}");
}

#[test]
fn settings_default_to_the_seeds_defaults_and_serialize() {
    let s = ComplianceSettings::default();
    assert_eq!(s.new_projects, NewProjects::ListForMapping);
    assert!(!s.import_companies_through_commitments);
    assert_eq!(s.description, DescriptionSync::Always);
    assert!(!s.sync_active_status);
    assert_eq!(s.contacts, ContactSync::DoNotSync);
    assert!(!s.ignore_purchase_orders && !s.ignore_subcontracts);
    assert_eq!(s.profile_field, "Compliance Profile");
    assert!(s.compliance_sync);
    assert_eq!(s.level, SyncLevel::All);
    let json = serde_json::to_string(&s).unwrap();
    let back: ComplianceSettings = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let partial: ComplianceSettings = serde_json::from_str(r#"{"level":"projects_only"}"#).unwrap();
    assert_eq!(partial.level, SyncLevel::ProjectsOnly);
    assert_eq!(partial.contacts, ContactSync::DoNotSync);
    // Plans serialize for the run log.
    let (snapshot, local, s) = everything();
    let p = plan(&snapshot, &local, &s, today());
    let back: Plan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

// ---- removing records trestle no longer reports ---------------------------------------------

fn removed(p: &Plan) -> Vec<(String, i64, Option<i64>, Option<i64>)> {
    p.changes()
        .filter_map(|a| match a {
            Action::RemoveInsurance {
                origin_id,
                procore_vendor_id,
                procore_project_id,
                procore_insurance_id,
                ..
            } => Some((
                origin_id.clone(),
                *procore_vendor_id,
                *procore_project_id,
                *procore_insurance_id,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_record_trestle_no_longer_reports_is_removed_from_procore() {
    let (snapshot, mut local) = with_records();
    sync_once(&snapshot, &mut local, &settings(), today());
    let project_record_id = local.written[ON_PROJECT].procore_insurance_id;
    // The association ended (or the format changed): the project record is no longer rendered.
    local.insurance.retain(|d| d.record.origin_id != ON_PROJECT);

    let p = plan(&snapshot, &local, &settings(), today());

    assert_eq!(
        removed(&p),
        [(ON_PROJECT.to_owned(), 7, Some(1), project_record_id)]
    );
    assert_eq!(
        reasons_for(&p, &insurance_key(ON_PROJECT)),
        [&Reason::NoLongerReported]
    );
    assert!(written(&p).is_empty(), "the global record is unchanged");
    assert_idempotent(&snapshot, &mut local, &settings());
    assert!(!local.written.contains_key(ON_PROJECT));
}

#[test]
fn records_at_a_level_no_longer_sent_are_removed() {
    let (snapshot, mut local) = with_records();
    sync_once(&snapshot, &mut local, &settings(), today());
    let s = ComplianceSettings {
        level: SyncLevel::PartiesOnly,
        ..settings()
    };

    let p = plan(&snapshot, &local, &s, today());

    assert_eq!(removed(&p).len(), 1);
    assert_eq!(removed(&p)[0].0, ON_PROJECT);
    assert!(
        reasons_for(&p, &insurance_key(ON_PROJECT)).contains(&&Reason::LevelNoLongerSent {
            setting: SyncLevel::PartiesOnly,
            level: InsuranceLevel::ProjectVendor
        })
    );
}

#[test]
fn with_compliance_sync_off_nothing_is_removed_either() {
    let (snapshot, mut local) = with_records();
    sync_once(&snapshot, &mut local, &settings(), today());
    local.insurance.clear();
    let s = ComplianceSettings {
        compliance_sync: false,
        ..settings()
    };
    assert!(removed(&plan(&snapshot, &local, &s, today())).is_empty());
}

#[test]
fn records_under_a_company_marked_do_not_add_and_records_trestle_did_not_make_are_left_alone() {
    let (snapshot, mut local) = with_records();
    sync_once(&snapshot, &mut local, &settings(), today());
    local.insurance.clear();
    let mut foreign = local.written[GLOBAL].clone();
    foreign.record.origin_id = "someone-else:1".into();
    local.written.insert("someone-else:1".into(), foreign);
    local.vendor_mappings.insert(7, Mapping::DoNotAdd);

    let p = plan(&snapshot, &local, &settings(), today());

    assert!(removed(&p).is_empty(), "{:?}", removed(&p));
}

#[test]
fn records_of_a_party_no_longer_linked_are_removed_from_where_they_were_written() {
    let (snapshot, mut local) = with_records();
    sync_once(&snapshot, &mut local, &settings(), today());
    // The link of Procore company 7 moved to another party: party 70 is linked to nothing.
    local.parties[0].procore_vendor_id = None;

    let p = plan(&snapshot, &local, &settings(), today());

    let mut got: Vec<(String, i64)> = removed(&p).into_iter().map(|r| (r.0, r.1)).collect();
    got.sort();
    assert_eq!(got, [(ON_PROJECT.to_owned(), 7), (GLOBAL.to_owned(), 7)]);
    assert!(
        reasons_for(&p, &insurance_key(GLOBAL)).contains(&&Reason::NoLongerLinked {
            procore_vendor_id: 7,
            procore_project_id: None
        })
    );
}

#[test]
fn a_record_whose_party_is_linked_to_another_company_moves_there() {
    let (mut snapshot, mut local) = with_records();
    sync_once(&snapshot, &mut local, &settings(), today());
    let old_id = local.written[GLOBAL].procore_insurance_id;
    // Party 70 now stands for Procore company 8.
    let mut vendor = snapshot.vendors[0].clone();
    vendor.id = 8;
    snapshot.vendors.push(vendor);
    local.parties[0].procore_vendor_id = Some(8);

    let p = plan(&snapshot, &local, &settings(), today());

    let moved = Reason::MovedInProcore {
        from_vendor: 7,
        from_project: None,
    };
    // Both of the party's records move: its global one and the one on project 1.
    assert_eq!(removed(&p).len(), 2);
    assert!(removed(&p).contains(&(GLOBAL.to_owned(), 7, None, old_id)));
    assert!(written(&p).contains(&(InsuranceLevel::CompanyVendor, 8, None, GLOBAL.to_owned())));
    assert!(reasons_for(&p, &insurance_key(GLOBAL))
        .iter()
        .all(|r| **r == moved));
    assert!(moved.to_string().contains("Procore company 7"));
}

#[test]
fn a_contact_procore_moved_from_another_company_is_not_created_twice_and_says_where_it_is() {
    let (snapshot, mut local, s) = with_contacts(ContactSync::AllWithoutPrimary);
    // Procore contact 3 was synced under party 71 (another company) before it moved.
    local.parties.push(party(71, Some(8)));
    local.contacts.push(Contact {
        procore_contact_id: Some(3),
        ..local_contact(40, 71, "c3@example.com", false)
    });

    let p = plan(&snapshot, &local, &s, today());

    assert!(!created_contacts(&p).iter().any(|(id, _)| *id == 3));
    assert_eq!(
        reasons_for(&p, &contact_key(3)),
        [&Reason::ContactOfAnotherParty {
            contact_id: ContactId(40),
            party: PartyId(71)
        }]
    );
    assert_idempotent(&snapshot, &mut local, &s);
}
