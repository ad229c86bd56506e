use crate::COMPANY;
use chrono::{DateTime, NaiveDate, Utc};
use domain::compliance::{
    AppliesTo, ComplianceData, ComplianceProfile, Contact, ContactId, InsuranceRecord, LimitKind,
    OverallStatus, Party, PartyId, ProcoreInsuranceStatus, ProfileId, Project, ProjectId,
    RecordChange, WaiverScope, FORMAT_VERSION,
};
use std::collections::HashMap;
use store::{
    ComplianceBatch, ComplianceChange, CursorUpdate, CustomFields, InsuranceWrite, LinkKind,
    LinkOrigin, MappingDecision, MappingWrite, NewOutboxItem, ProcoreRecordKind, Ref, RunEntry,
    Store, StoreError, SubjectKind,
};

const IMPORT_DOC: &str = include_str!("../../../../docs/compliance-import.md");

/// The documented import example: parties, projects, associations, a contact, two profiles,
/// a certificate with three policies, waivers and overrides.
fn documented_data() -> ComplianceData {
    let start = IMPORT_DOC.find("```json\n").unwrap() + "```json\n".len();
    let len = IMPORT_DOC[start..].find("```").unwrap();
    serde_json::from_str(&IMPORT_DOC[start..start + len]).unwrap()
}

fn party(name: &str, vendor: Option<i64>) -> Party {
    Party {
        id: PartyId(0),
        name: name.into(),
        address: Some("1 Dock Rd".into()),
        website: None,
        active: true,
        procore_vendor_id: vendor,
        profile_id: None,
    }
}

fn project(name: &str, procore: Option<i64>) -> Project {
    Project {
        id: ProjectId(0),
        name: name.into(),
        description: Some("Phase 1".into()),
        start_date: Some(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
        completion_date: None,
        active: true,
        procore_project_id: procore,
    }
}

fn contact(email: &str, procore: Option<i64>) -> Contact {
    Contact {
        id: ContactId(0),
        party_id: PartyId(0),
        first_name: Some("Dana".into()),
        last_name: Some("Reyes".into()),
        email: Some(email.into()),
        phone: None,
        fax: None,
        primary: true,
        procore_contact_id: procore,
    }
}

fn fields(number: &str, total: &str) -> CustomFields {
    [
        ("project_number".to_string(), number.to_string()),
        ("total_value".to_string(), total.to_string()),
    ]
    .into()
}

fn record(origin_id: &str, status: ProcoreInsuranceStatus, notes: &str) -> InsuranceRecord {
    InsuranceRecord {
        origin_id: origin_id.into(),
        insurance_type: "General Liability".into(),
        status,
        effective_date: NaiveDate::from_ymd_opt(2026, 1, 1),
        expiration_date: NaiveDate::from_ymd_opt(2027, 1, 1),
        policy_number: Some("GL-1".into()),
        insurer: Some("Granite | Mutual".into()),
        notes: notes.into(),
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A Procore company, its project and commitment, and its contact, as one sync would plan them.
fn first_sync() -> Vec<ComplianceChange> {
    vec![
        ComplianceChange::CreateParty {
            party: party("Acme Framing", Some(5501)),
        },
        ComplianceChange::CreateProject {
            project: project("Harbor Tower", Some(9001)),
            custom_fields: fields("HT-1", "125000.50"),
        },
        ComplianceChange::SetPartyProject {
            party: Ref::Created(0),
            project: Ref::Created(1),
            profile_id: None,
            active: true,
            procore_commitment_ids: vec![77001, 77002],
        },
        ComplianceChange::CreateContact {
            party: Ref::Procore(5501),
            contact: contact("dana@acme.example", Some(300)),
        },
    ]
}

/// Loads a dataset through the store's API, as the JSON import does, and returns it with the
/// ids the store gave.
async fn import(s: &Store, company: i64, data: &ComplianceData) -> ComplianceData {
    let mut expected = data.clone();
    let mut profiles = HashMap::new();
    for p in &mut expected.profiles {
        let id = s.upsert_profile(company, p, None).await.unwrap();
        profiles.insert(p.id, id);
        p.id = id;
    }
    let mut changes = Vec::new();
    for p in &expected.parties {
        let mut p = p.clone();
        p.profile_id = p.profile_id.map(|id| profiles[&id]);
        changes.push(ComplianceChange::CreateParty { party: p });
    }
    for p in &expected.projects {
        changes.push(ComplianceChange::CreateProject {
            project: p.clone(),
            custom_fields: CustomFields::new(),
        });
    }
    let party_change = |id: PartyId| data.parties.iter().position(|p| p.id == id).unwrap();
    let project_change =
        |id: ProjectId| data.parties.len() + data.projects.iter().position(|p| p.id == id).unwrap();
    for pp in &expected.party_projects {
        changes.push(ComplianceChange::SetPartyProject {
            party: Ref::Created(party_change(pp.party_id)),
            project: Ref::Created(project_change(pp.project_id)),
            profile_id: pp.profile_id.map(|id| profiles[&id]),
            active: pp.active,
            procore_commitment_ids: pp.procore_commitment_ids.clone(),
        });
    }
    for c in &expected.contacts {
        changes.push(ComplianceChange::CreateContact {
            party: Ref::Created(party_change(c.party_id)),
            contact: c.clone(),
        });
    }
    let created: HashMap<usize, i64> = s
        .apply_compliance(&ComplianceBatch {
            company_id: company,
            changes: &changes,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .collect();
    let parties: HashMap<PartyId, PartyId> = data
        .parties
        .iter()
        .map(|p| (p.id, PartyId(created[&party_change(p.id)])))
        .collect();
    let projects: HashMap<ProjectId, ProjectId> = data
        .projects
        .iter()
        .map(|p| (p.id, ProjectId(created[&project_change(p.id)])))
        .collect();

    for p in &mut expected.parties {
        p.id = parties[&p.id];
        p.profile_id = p.profile_id.map(|id| profiles[&id]);
    }
    for p in &mut expected.projects {
        p.id = projects[&p.id];
    }
    for pp in &mut expected.party_projects {
        pp.party_id = parties[&pp.party_id];
        pp.project_id = projects[&pp.project_id];
        pp.profile_id = pp.profile_id.map(|id| profiles[&id]);
    }
    expected
        .party_projects
        .sort_by_key(|pp| (pp.party_id, pp.project_id));
    let first_contact = data.parties.len() + data.projects.len() + data.party_projects.len();
    for (i, c) in expected.contacts.iter_mut().enumerate() {
        c.id = ContactId(created[&(first_contact + i)]);
        c.party_id = parties[&c.party_id];
    }
    for c in &mut expected.certificates {
        c.party_id = parties[&c.party_id];
        if let AppliesTo::Projects(ids) = &mut c.applies_to {
            for id in ids {
                *id = projects[id];
            }
        }
        c.id = s.add_certificate(company, c).await.unwrap();
    }
    for w in &mut expected.waivers {
        w.party_id = parties[&w.party_id];
        if let WaiverScope::Project(p) = &mut w.scope {
            *p = projects[p];
        }
        w.id = s.add_waiver(company, w).await.unwrap();
    }
    expected
}

both!(a_do_not_add_mapping_is_remembered, |ctx| {
    let s = &ctx.store;
    s.set_mapping(
        COMPANY,
        ProcoreRecordKind::Company,
        5501,
        MappingDecision::DoNotAdd,
    )
    .await
    .unwrap();
    let decided = s
        .mapping(COMPANY, ProcoreRecordKind::Company, 5501)
        .await
        .unwrap()
        .unwrap();

    // A later sync sees the company again, and a new one, and records what it has not seen.
    let seen = [5501, 5502].map(|procore_id| MappingWrite {
        kind: ProcoreRecordKind::Company,
        procore_id,
        decision: MappingDecision::Undecided,
        keep_existing: true,
    });
    s.apply_compliance(&ComplianceBatch {
        company_id: COMPANY,
        mappings: &seen,
        ..Default::default()
    })
    .await
    .unwrap();
    ctx.store.close().await;
    let s = ctx.reopen(ctx.key()).await.unwrap();

    let kept = s
        .mapping(COMPANY, ProcoreRecordKind::Company, 5501)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept, decided, "the sync did not touch the decision");
    let mappings = s
        .mappings(COMPANY, ProcoreRecordKind::Company)
        .await
        .unwrap();
    assert_eq!(
        mappings
            .iter()
            .map(|m| (m.procore_id, m.decision))
            .collect::<Vec<_>>(),
        vec![
            (5501, MappingDecision::DoNotAdd),
            (5502, MappingDecision::Undecided)
        ]
    );
    assert_eq!(
        s.mapping(COMPANY, ProcoreRecordKind::Project, 5501)
            .await
            .unwrap(),
        None,
        "a project with the same Procore id is another record"
    );
    assert_eq!(
        s.mapping(COMPANY + 1, ProcoreRecordKind::Company, 5501)
            .await
            .unwrap(),
        None
    );

    // A person may change their mind; that replaces the decision and keeps when it was first made.
    s.set_mapping(
        COMPANY,
        ProcoreRecordKind::Company,
        5501,
        MappingDecision::LinkTo(42),
    )
    .await
    .unwrap();
    let linked = s
        .mapping(COMPANY, ProcoreRecordKind::Company, 5501)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.decision, MappingDecision::LinkTo(42));
    assert_eq!(linked.created_at, decided.created_at);
    assert!(linked.updated_at >= decided.updated_at);
    s.close().await;
});

both!(
    applying_the_same_party_create_twice_links_one_party,
    |ctx| {
        let s = &ctx.store;
        let changes = first_sync();
        let batch = ComplianceBatch {
            company_id: COMPANY,
            changes: &changes,
            ..Default::default()
        };
        let first = s.apply_compliance(&batch).await.unwrap();
        let second = s.apply_compliance(&batch).await.unwrap();
        assert_eq!(
            first, second,
            "the second apply returns what the first created"
        );
        assert_eq!(
            first.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            vec![0, 1, 3]
        );

        let parties = s.parties(COMPANY).await.unwrap();
        assert_eq!(parties.len(), 1);
        assert_eq!(parties[0].id.0, first[0].1);
        assert_eq!(s.compliance_projects(COMPANY).await.unwrap().len(), 1);
        let pps = s.party_projects(COMPANY).await.unwrap();
        assert_eq!(pps.len(), 1);
        assert_eq!(
            (pps[0].party_id.0, pps[0].project_id.0),
            (first[0].1, first[1].1)
        );
        assert_eq!(pps[0].procore_commitment_ids, vec![77001, 77002]);
        let contacts = s.contacts(COMPANY).await.unwrap();
        assert_eq!(contacts.len(), 1);
        assert_eq!(contacts[0].party_id.0, first[0].1);

        for (kind, procore_id, local_id) in [
            (LinkKind::Party, 5501, first[0].1),
            (LinkKind::ComplianceProject, 9001, first[1].1),
            (LinkKind::Contact, 300, first[2].1),
        ] {
            let link = s.link(COMPANY, kind, procore_id).await.unwrap().unwrap();
            assert_eq!(
                (link.local_id, link.origin),
                (local_id, LinkOrigin::CreatedFromProcore)
            );
        }
        assert!(
            s.links(COMPANY, LinkKind::Project)
                .await
                .unwrap()
                .is_empty(),
            "the workforce app's projects are not involved"
        );
    }
);

both!(
    applying_the_same_party_create_concurrently_links_one_party,
    |ctx| {
        let changes = first_sync();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let store = ctx.store.clone();
            let changes = changes.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .apply_compliance(&ComplianceBatch {
                        company_id: COMPANY,
                        changes: &changes,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        results.dedup();
        assert_eq!(
            results.len(),
            1,
            "every apply saw the same records: {results:?}"
        );
        assert_eq!(ctx.store.parties(COMPANY).await.unwrap().len(), 1);
        assert_eq!(ctx.store.contacts(COMPANY).await.unwrap().len(), 1);
        assert_eq!(ctx.store.party_projects(COMPANY).await.unwrap().len(), 1);
    }
);

both!(updates_replace_records_and_project_custom_fields, |ctx| {
    let s = &ctx.store;
    let changes = first_sync();
    let created = s
        .apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            changes: &changes,
            ..Default::default()
        })
        .await
        .unwrap();
    let (party_id, project_id, contact_id) = (
        PartyId(created[0].1),
        ProjectId(created[1].1),
        ContactId(created[2].1),
    );
    let stored = s
        .compliance_project(COMPANY, project_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.custom_fields, fields("HT-1", "125000.50"));
    assert_eq!(
        stored.project,
        Project {
            id: project_id,
            ..project("Harbor Tower", Some(9001))
        }
    );

    let profile = s
        .upsert_profile(
            COMPANY,
            &ComplianceProfile {
                id: ProfileId(0),
                name: "Standard".into(),
                currency: Default::default(),
                expiring_within_days: 30,
                requirements: vec![],
            },
            None,
        )
        .await
        .unwrap();
    let renamed = Party {
        id: party_id,
        name: "Acme Framing Ltd.".into(),
        active: false,
        profile_id: Some(profile),
        ..party("x", Some(5501))
    };
    let finished = Project {
        id: project_id,
        active: false,
        completion_date: NaiveDate::from_ymd_opt(2027, 5, 1),
        ..project("Harbor Tower", Some(9001))
    };
    let moved = Contact {
        id: contact_id,
        party_id,
        primary: false,
        ..contact("d.reyes@acme.example", Some(300))
    };
    let updates = [
        ComplianceChange::UpdateParty {
            party: renamed.clone(),
        },
        ComplianceChange::UpdateProject {
            project: finished.clone(),
            custom_fields: fields("HT-1", "130000"),
        },
        ComplianceChange::SetPartyProject {
            party: Ref::Id(party_id),
            project: Ref::Procore(9001),
            profile_id: Some(profile),
            active: false,
            procore_commitment_ids: vec![77001],
        },
        ComplianceChange::UpdateContact {
            contact: moved.clone(),
        },
    ];
    let none = s
        .apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            changes: &updates,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(none, vec![]);
    assert_eq!(
        s.party(COMPANY, party_id).await.unwrap(),
        Some(Party {
            profile_id: None,
            ..renamed.clone()
        }),
        "a sync's party update writes Procore's columns, not the profile"
    );
    assert_eq!(
        s.party(COMPANY + 1, party_id).await.unwrap(),
        None,
        "another company does not see it"
    );
    let stored = s
        .compliance_project(COMPANY, project_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.project, stored.custom_fields),
        (finished, fields("HT-1", "130000"))
    );
    let pps = s.party_projects(COMPANY).await.unwrap();
    assert_eq!(pps.len(), 1, "the pair is replaced, not added");
    assert_eq!(
        (
            pps[0].profile_id,
            pps[0].active,
            &pps[0].procore_commitment_ids
        ),
        (Some(profile), false, &vec![77001])
    );
    assert_eq!(s.contacts(COMPANY).await.unwrap(), vec![moved]);
});

both!(
    the_last_written_insurance_record_is_remembered_per_origin_id,
    |ctx| {
        let s = &ctx.store;
        let gl = record(
            "acme:global:subject:gl",
            ProcoreInsuranceStatus::Compliant,
            "ok",
        );
        let wc = record(
            "acme:global:subject:wc",
            ProcoreInsuranceStatus::Expired,
            "expired",
        );
        let writes = [
            InsuranceWrite {
                record: gl.clone(),
                procore_insurance_id: None,
                written_at: at("2026-06-01T10:00:00Z"),
                procore_vendor_id: Some(7),
                procore_project_id: None,
            },
            InsuranceWrite {
                record: wc.clone(),
                procore_insurance_id: Some(81),
                written_at: at("2026-06-01T10:00:00Z"),
                procore_vendor_id: Some(7),
                procore_project_id: Some(9),
            },
        ];
        let outbox = [NewOutboxItem::new(
            COMPANY,
            "write_insurance",
            "insurance:acme:global:subject:gl:v1",
            "{}",
        )];
        s.apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            outbox: &outbox,
            insurance_writes: &writes,
            ..Default::default()
        })
        .await
        .unwrap();
        assert_eq!(s.pending_count().await.unwrap(), 1);

        let stored = s
            .insurance_write(COMPANY, &gl.origin_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.record, gl);
        assert_eq!(stored.fingerprint, gl.status_fingerprint().to_string());
        assert_eq!(stored.procore_insurance_id, None);
        assert_eq!(stored.written_at, at("2026-06-01T10:00:00Z"));
        assert_eq!(
            (stored.procore_vendor_id, stored.procore_project_id),
            (Some(7), None)
        );
        assert_eq!(
            s.insurance_write(COMPANY + 1, &gl.origin_id).await.unwrap(),
            None
        );

        // The drain learns Procore's id; a later write without one keeps it.
        s.set_procore_insurance_id(COMPANY, &gl.origin_id, 80)
            .await
            .unwrap();
        let renewed = record(
            "acme:global:subject:gl",
            ProcoreInsuranceStatus::Compliant,
            "renewed",
        );
        assert_eq!(renewed.change_from(&stored.record), RecordChange::NotesOnly);
        s.record_insurance_write(
            COMPANY,
            &InsuranceWrite {
                record: renewed.clone(),
                procore_insurance_id: None,
                written_at: at("2026-07-01T09:30:00.123456789Z"),
                procore_vendor_id: Some(8),
                procore_project_id: None,
            },
        )
        .await
        .unwrap();
        let all = s.insurance_writes(COMPANY).await.unwrap();
        assert_eq!(
            all.iter()
                .map(|w| (
                    w.origin_id.as_str(),
                    w.record.notes.as_str(),
                    w.procore_insurance_id
                ))
                .collect::<Vec<_>>(),
            vec![
                ("acme:global:subject:gl", "renewed", Some(80)),
                ("acme:global:subject:wc", "expired", Some(81)),
            ]
        );
        assert_eq!(all[0].written_at, at("2026-07-01T09:30:00.123456789Z"));
        assert!(matches!(
            s.set_procore_insurance_id(COMPANY, "never-written", 1)
                .await,
            Err(StoreError::NotFound { .. })
        ));
    }
);

both!(profiles_are_unique_by_name_per_company, |ctx| {
    let s = &ctx.store;
    let mut data = documented_data();
    let standard = data.profiles.remove(0);
    let first = s.upsert_profile(COMPANY, &standard, None).await.unwrap();
    let mut stricter = standard.clone();
    stricter.id = ProfileId(999);
    stricter.expiring_within_days = 45;
    stricter.requirements.truncate(2);
    let again = s.upsert_profile(COMPANY, &stricter, None).await.unwrap();
    assert_eq!(again, first, "the same name keeps its id");
    let elsewhere = s
        .upsert_profile(COMPANY + 1, &standard, None)
        .await
        .unwrap();
    assert_ne!(elsewhere, first, "another company has its own");

    let profiles = s.profiles(COMPANY).await.unwrap();
    assert_eq!(
        profiles,
        vec![ComplianceProfile {
            id: first,
            ..stricter.clone()
        }]
    );
    assert_eq!(
        s.profile_by_name(COMPANY, &standard.name).await.unwrap(),
        Some(profiles[0].clone())
    );
    assert_eq!(s.profile_by_name(COMPANY, "Other").await.unwrap(), None);
    assert_eq!(
        s.profiles(COMPANY + 1).await.unwrap()[0].requirements.len(),
        7
    );
});

both!(
    the_compliance_dataset_round_trips_everything_evaluate_needs,
    |ctx| {
        let s = &ctx.store;
        let data = documented_data();
        let expected = import(s, COMPANY, &data).await;
        // Another company's records stay out of it.
        import(s, COMPANY + 1, &data).await;
        let stored = s.compliance_dataset(COMPANY).await.unwrap();
        assert_eq!(stored.problems(), vec![]);
        assert_eq!(stored, expected);
        assert_eq!(
            (stored.certificates.len(), stored.waivers.len()),
            (data.certificates.len(), data.waivers.len())
        );

        let today = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
        let statuses = |d: &ComplianceData| -> Vec<(String, OverallStatus, Vec<OverallStatus>)> {
            d.evaluate_all(today)
                .iter()
                .map(|e| {
                    (
                        e.party.name.clone(),
                        e.global.status,
                        e.projects.iter().map(|p| p.status).collect(),
                    )
                })
                .collect()
        };
        assert_eq!(statuses(&stored), statuses(&data));

        // A certificate is replaced whole, and removed.
        let mut certificate = stored.certificates[0].clone();
        certificate.policies.truncate(1);
        s.replace_certificate(COMPANY, &certificate, None)
            .await
            .unwrap();
        assert_eq!(
            s.certificates(COMPANY).await.unwrap()[0],
            certificate,
            "the other certificates are untouched"
        );
        assert_eq!(
            s.certificates(COMPANY).await.unwrap()[1..],
            stored.certificates[1..]
        );
        assert!(s
            .remove_certificate(COMPANY, certificate.id, None)
            .await
            .unwrap());
        assert!(!s
            .remove_certificate(COMPANY, certificate.id, None)
            .await
            .unwrap());
        assert!(matches!(
            s.replace_certificate(COMPANY, &certificate, None).await,
            Err(StoreError::NotFound { .. })
        ));
        let waiver = stored.waivers[0].id;
        assert!(s.remove_waiver(COMPANY, waiver).await.unwrap());
        assert_eq!(
            s.waivers(COMPANY).await.unwrap().len(),
            stored.waivers.len() - 1
        );
    }
);

both!(
    a_certificate_or_waiver_scoped_to_another_companys_project_is_refused,
    |ctx| {
        let s = &ctx.store;
        // The first sync makes parties and projects for COMPANY; the other company gets a party.
        s.apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            changes: &first_sync(),
            ..Default::default()
        })
        .await
        .unwrap();
        let theirs = s.compliance_projects(COMPANY).await.unwrap()[0].project.id;
        let other = COMPANY + 1;
        let created = s
            .apply_compliance(&ComplianceBatch {
                company_id: other,
                changes: &[first_sync().remove(0)],
                ..Default::default()
            })
            .await
            .unwrap();
        let ours = PartyId(created[0].1);

        let mut certificate = documented_data().certificates.remove(0);
        certificate.party_id = ours;
        certificate.applies_to = AppliesTo::Projects(vec![theirs]);
        assert!(matches!(
            s.add_certificate(other, &certificate).await,
            Err(StoreError::NotFound {
                what: "compliance project",
                ..
            })
        ));
        let mut waiver = documented_data().waivers.remove(0);
        waiver.party_id = ours;
        waiver.scope = WaiverScope::Project(theirs);
        assert!(matches!(
            s.add_waiver(other, &waiver).await,
            Err(StoreError::NotFound {
                what: "compliance project",
                ..
            })
        ));
        assert!(s.certificates(other).await.unwrap().is_empty());
        assert!(s.waivers(other).await.unwrap().is_empty());

        // The same scope within the project's own company is accepted.
        let mine = s.parties(COMPANY).await.unwrap()[0].id;
        certificate.party_id = mine;
        s.add_certificate(COMPANY, &certificate).await.unwrap();
    }
);

both!(
    certificates_and_references_to_another_companys_party_are_refused,
    |ctx| {
        let s = &ctx.store;
        let changes = first_sync();
        let created = s
            .apply_compliance(&ComplianceBatch {
                company_id: COMPANY,
                changes: &changes,
                ..Default::default()
            })
            .await
            .unwrap();
        let theirs = PartyId(created[0].1);
        let mut certificate = documented_data().certificates.remove(0);
        certificate.party_id = theirs;
        certificate.applies_to = AppliesTo::AllProjects;
        assert!(matches!(
            s.add_certificate(COMPANY + 1, &certificate).await,
            Err(StoreError::NotFound { what: "party", .. })
        ));
        let mut waiver = documented_data().waivers.remove(0);
        waiver.party_id = theirs;
        waiver.scope = WaiverScope::Global;
        assert!(matches!(
            s.add_waiver(COMPANY + 1, &waiver).await,
            Err(StoreError::NotFound { what: "party", .. })
        ));
        let steal = [ComplianceChange::CreateContact {
            party: Ref::Id(theirs),
            contact: contact("x@example.com", None),
        }];
        let err = s
            .apply_compliance(&ComplianceBatch {
                company_id: COMPANY + 1,
                changes: &steal,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound { what: "party", .. }),
            "{err:?}"
        );
        let wrong_kind = [ComplianceChange::SetPartyProject {
            party: Ref::Created(1),
            project: Ref::Created(1),
            profile_id: None,
            active: true,
            procore_commitment_ids: vec![],
        }];
        let mut batch = first_sync();
        batch.truncate(2);
        batch.extend(wrong_kind);
        assert!(matches!(
            s.apply_compliance(&ComplianceBatch {
                company_id: COMPANY,
                changes: &batch,
                ..Default::default()
            })
            .await,
            Err(StoreError::NotFound { what: "party", .. })
        ));
        assert_eq!(s.certificates(COMPANY + 1).await.unwrap(), vec![]);
        assert_eq!(s.contacts(COMPANY + 1).await.unwrap(), vec![]);
    }
);

both!(a_failed_compliance_apply_writes_nothing, |ctx| {
    let s = &ctx.store;
    let run = s.start_run(COMPANY, "compliance", false).await.unwrap();
    let mut changes = first_sync();
    changes.push(ComplianceChange::UpdateParty {
        party: Party {
            id: PartyId(999_999),
            ..party("Nobody", None)
        },
    });
    let mappings = [MappingWrite {
        kind: ProcoreRecordKind::Project,
        procore_id: 9001,
        decision: MappingDecision::Import,
        keep_existing: false,
    }];
    let outbox = [NewOutboxItem::new(COMPANY, "write_insurance", "k", "{}")];
    let writes = [InsuranceWrite {
        record: record("o", ProcoreInsuranceStatus::Compliant, ""),
        procore_insurance_id: None,
        written_at: at("2026-06-01T10:00:00Z"),
        procore_vendor_id: None,
        procore_project_id: None,
    }];
    let cursors = [CursorUpdate {
        collection: "compliance.vendors".into(),
        value: "x".into(),
    }];
    let log = [RunEntry {
        kind: SubjectKind::ProcoreCompany,
        procore_id: Some(5501),
        local_id: None,
        change: Some(0),
        action: "create_party".into(),
        reason: String::new(),
        detail_json: None,
        outcome: "applied".into(),
    }];
    let err = s
        .apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            run: Some(run),
            changes: &changes,
            mappings: &mappings,
            outbox: &outbox,
            insurance_writes: &writes,
            cursors: &cursors,
            log: &log,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "party", .. }),
        "{err:?}"
    );
    assert_eq!(
        s.compliance_dataset(COMPANY).await.unwrap(),
        ComplianceData {
            version: FORMAT_VERSION,
            ..Default::default()
        }
    );
    assert!(s.links(COMPANY, LinkKind::Party).await.unwrap().is_empty());
    assert!(s
        .links(COMPANY, LinkKind::Contact)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.mappings(COMPANY, ProcoreRecordKind::Project)
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(s.pending_count().await.unwrap(), 0);
    assert_eq!(s.insurance_writes(COMPANY).await.unwrap(), vec![]);
    assert_eq!(s.cursor(COMPANY, "compliance.vendors").await.unwrap(), None);
    assert!(s
        .history(COMPANY, SubjectKind::ProcoreCompany, 5501)
        .await
        .unwrap()
        .is_empty());

    // The same batch without the bad update goes through, log and all.
    changes.pop();
    let created = s
        .apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            run: Some(run),
            changes: &changes,
            mappings: &mappings,
            outbox: &outbox,
            insurance_writes: &writes,
            cursors: &cursors,
            log: &log,
        })
        .await
        .unwrap();
    let history = s
        .history(COMPANY, SubjectKind::ProcoreCompany, 5501)
        .await
        .unwrap();
    assert_eq!(history[0].entry.local_id, Some(created[0].1));
    assert_eq!(s.insurance_writes(COMPANY).await.unwrap().len(), 1);
});

both!(compliance_settings_are_kept_per_company, |ctx| {
    let s = &ctx.store;
    assert_eq!(s.compliance_settings(COMPANY).await.unwrap(), None);
    let settings = serde_json::json!({
        "enabled": true,
        "level": "project",
        "format": "subjects",
        "ignore_purchase_orders": false,
        "active_statuses": ["Approved", "Complete"],
        "profile_custom_field": "Compliance profile",
    });
    s.save_compliance_settings(COMPANY, &settings, None)
        .await
        .unwrap();
    assert_eq!(
        s.compliance_settings(COMPANY).await.unwrap(),
        Some(settings.clone())
    );
    let off = serde_json::json!({"enabled": false});
    s.save_compliance_settings(COMPANY, &off, None)
        .await
        .unwrap();
    assert_eq!(s.compliance_settings(COMPANY).await.unwrap(), Some(off));
    assert_eq!(s.compliance_settings(COMPANY + 1).await.unwrap(), None);
});

/// Every record of the company, ids included, for "nothing changed" comparisons.
async fn everything(s: &Store, company: i64) -> ComplianceData {
    s.compliance_dataset(company).await.unwrap()
}

both!(
    re_importing_the_same_file_adds_no_second_certificate,
    |ctx| {
        let s = &ctx.store;
        let data = documented_data();
        let first = s.import_compliance(COMPANY, &data).await.unwrap();
        assert_eq!(first.updated(), 0);
        assert_eq!(first.certificates.added, 2);
        let stored = everything(s, COMPANY).await;
        assert_eq!(
            (
                stored.parties.len(),
                stored.projects.len(),
                stored.contacts.len()
            ),
            (3, 2, 1)
        );
        assert_eq!((stored.certificates.len(), stored.waivers.len()), (2, 2));

        let again = s.import_compliance(COMPANY, &data).await.unwrap();
        assert_eq!(again.added(), 0, "{again:?}");
        assert_eq!(again.certificates.updated, 2);
        assert_eq!(again.waivers.updated, 2);
        assert_eq!(
            everything(s, COMPANY).await,
            stored,
            "same records, same ids"
        );

        // A corrected limit and reason in the file change the stored records in place.
        let mut corrected = data.clone();
        corrected.certificates[0].policies[1]
            .limits
            .insert(LimitKind::CombinedSingleLimit, "1000000".parse().unwrap());
        corrected.waivers[0].reason = "Risk manager accepted, see memo 12".into();
        let changed = s.import_compliance(COMPANY, &corrected).await.unwrap();
        assert_eq!(changed.added(), 0);
        let now = everything(s, COMPANY).await;
        assert_eq!(now.certificates.len(), 2);
        assert_eq!(now.certificates[0].id, stored.certificates[0].id);
        assert_eq!(
            now.certificates[0].policies[1].limits[&LimitKind::CombinedSingleLimit],
            "1000000".parse().unwrap()
        );
        assert_eq!(now.waivers.len(), 2);
        assert_eq!(now.waivers[0].reason, "Risk manager accepted, see memo 12");
    }
);

both!(
    records_without_procore_ids_are_found_again_by_name_on_re_import,
    |ctx| {
        let s = &ctx.store;
        let mut data = documented_data();
        for p in &mut data.parties {
            p.procore_vendor_id = None;
        }
        for p in &mut data.projects {
            p.procore_project_id = None;
        }
        s.import_compliance(COMPANY, &data).await.unwrap();
        let stored = everything(s, COMPANY).await;
        let again = s.import_compliance(COMPANY, &data).await.unwrap();
        assert_eq!(again.added(), 0, "{again:?}");
        assert_eq!(everything(s, COMPANY).await, stored);
    }
);

both!(an_import_that_fails_half_way_writes_nothing, |ctx| {
    let s = &ctx.store;
    // Two stored parties share a name, so a file party found by that name is ambiguous;
    // the store only learns it after the profiles and earlier parties were written.
    let twins = [
        ComplianceChange::CreateParty {
            party: party("Cedar Cleaning", Some(7001)),
        },
        ComplianceChange::CreateParty {
            party: party("Cedar Cleaning", Some(7002)),
        },
    ];
    s.apply_compliance(&ComplianceBatch {
        company_id: COMPANY,
        changes: &twins,
        ..Default::default()
    })
    .await
    .unwrap();
    let before = everything(s, COMPANY).await;
    let mut data = documented_data();
    data.parties[2].procore_vendor_id = None; // Cedar Cleaning, last of the parties
    let err = s.import_compliance(COMPANY, &data).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("Cedar Cleaning")),
        "{err:?}"
    );
    assert_eq!(
        everything(s, COMPANY).await,
        before,
        "no profile, party or certificate"
    );
    assert!(s.links(COMPANY, LinkKind::Party).await.unwrap().len() == 2);
});

both!(an_import_with_one_bad_record_applies_nothing, |ctx| {
    let s = &ctx.store;
    let mut data = documented_data();
    let mut copy = data.certificates[0].clone();
    copy.id = domain::compliance::CertificateId(502);
    data.certificates.push(copy);
    data.waivers.push(domain::compliance::Waiver {
        id: domain::compliance::WaiverId(902),
        reason: " ".into(),
        ..data.waivers[0].clone()
    });
    let err = s.import_compliance(COMPANY, &data).await.unwrap_err();
    let StoreError::InvalidImport(problems) = &err else {
        panic!("{err:?}")
    };
    let message = err.to_string();
    for (section, named) in [
        (
            "certificates",
            "certificates 500 and 502 of party 1 list the same policies",
        ),
        ("waivers", "waiver 902 has no reason"),
        (
            "waivers",
            "waivers 900 and 902 of party 1 have the same target and scope",
        ),
    ] {
        assert!(message.contains(named), "{named}: {message}");
        assert!(
            problems
                .iter()
                .any(|p| p.section == section && p.message.starts_with(named)),
            "{named} under {section}: {problems:?}"
        );
    }
    assert_eq!(
        everything(s, COMPANY).await,
        ComplianceData {
            version: FORMAT_VERSION,
            ..Default::default()
        }
    );
});

both!(a_certificate_or_waiver_entered_twice_is_refused, |ctx| {
    let s = &ctx.store;
    s.import_compliance(COMPANY, &documented_data())
        .await
        .unwrap();
    let stored = everything(s, COMPANY).await;
    let mut same = stored.certificates[0].clone();
    // Other dates, the same paper: policy numbers compare without case or spaces.
    same.policies[0].policy_number = format!(" {} ", same.policies[0].policy_number.to_lowercase());
    let err = s.add_certificate(COMPANY, &same).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains(&format!("certificate {}", same.id))),
        "{err:?}"
    );
    let mut other = stored.certificates[1].clone();
    other.policies = stored.certificates[0].policies.clone();
    assert!(matches!(
        s.replace_certificate(COMPANY, &other, None).await,
        Err(StoreError::Conflict(_))
    ));
    let err = s.add_waiver(COMPANY, &stored.waivers[0]).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(everything(s, COMPANY).await, stored);

    // A new policy number is another certificate.
    same.policies[0].policy_number = "GL-2027-001".into();
    s.add_certificate(COMPANY, &same).await.unwrap();
    assert_eq!(s.certificates(COMPANY).await.unwrap().len(), 3);
});

both!(a_profile_in_use_cannot_be_removed, |ctx| {
    let s = &ctx.store;
    s.import_compliance(COMPANY, &documented_data())
        .await
        .unwrap();
    let err = s
        .remove_profile(COMPANY, "Standard subcontractor", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("2 parties")),
        "{err:?}"
    );
    let mut unused = documented_data().profiles.remove(1);
    unused.name = "Unused".into();
    s.upsert_profile(COMPANY, &unused, None).await.unwrap();
    assert!(s.remove_profile(COMPANY, "Unused", None).await.unwrap());
    assert!(!s.remove_profile(COMPANY, "Unused", None).await.unwrap());
    assert_eq!(s.profiles(COMPANY).await.unwrap().len(), 2);
});

both!(
    linking_a_party_to_another_procore_company_moves_its_link,
    |ctx| {
        let s = &ctx.store;
        let apply = |changes: Vec<ComplianceChange>| async move {
            s.apply_compliance(&ComplianceBatch {
                company_id: COMPANY,
                changes: &changes,
                ..Default::default()
            })
            .await
        };
        let created = apply(vec![
            ComplianceChange::CreateParty {
                party: party("Acme", Some(10)),
            },
            ComplianceChange::CreateParty {
                party: party("Bolt", None),
            },
        ])
        .await
        .unwrap();
        let (acme, bolt) = (PartyId(created[0].1), PartyId(created[1].1));

        // Acme now stands for Procore company 20.
        apply(vec![ComplianceChange::UpdateParty {
            party: Party {
                id: acme,
                ..party("Acme", Some(20))
            },
        }])
        .await
        .unwrap();
        let links = s.links(COMPANY, LinkKind::Party).await.unwrap();
        assert_eq!(links.get(&20), Some(&acme.0));
        assert_eq!(links.get(&10), None, "the old link went with the move");

        // Company 10 imported now is a new party, not Acme.
        let again = apply(vec![ComplianceChange::CreateParty {
            party: party("Ten", Some(10)),
        }])
        .await
        .unwrap();
        assert_ne!(again[0].1, acme.0);

        // Linking Bolt to company 20 while Acme holds it is refused, and nothing changes.
        let refused = apply(vec![ComplianceChange::UpdateParty {
            party: Party {
                id: bolt,
                ..party("Bolt", Some(20))
            },
        }])
        .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        assert_eq!(
            s.party(COMPANY, bolt)
                .await
                .unwrap()
                .unwrap()
                .procore_vendor_id,
            None
        );

        // Unlinked, Acme's link is gone.
        apply(vec![ComplianceChange::UpdateParty {
            party: Party {
                id: acme,
                ..party("Acme", None)
            },
        }])
        .await
        .unwrap();
        assert_eq!(
            s.links(COMPANY, LinkKind::Party).await.unwrap().get(&20),
            None
        );
    }
);

both!(
    an_import_without_commitment_ids_keeps_those_the_sync_recorded,
    |ctx| {
        let s = &ctx.store;
        let data = documented_data();
        s.import_compliance(COMPANY, &data).await.unwrap();
        let pp = s.party_projects(COMPANY).await.unwrap()[0].clone();
        s.apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            changes: &[ComplianceChange::SetPartyProject {
                party: Ref::Id(pp.party_id),
                project: Ref::Id(pp.project_id),
                profile_id: pp.profile_id,
                active: true,
                procore_commitment_ids: vec![501, 502],
            }],
            ..Default::default()
        })
        .await
        .unwrap();
        let mut without = data.clone();
        for a in &mut without.party_projects {
            a.procore_commitment_ids.clear();
        }

        s.import_compliance(COMPANY, &without).await.unwrap();

        let after = s.party_projects(COMPANY).await.unwrap();
        let same = after
            .iter()
            .find(|a| (a.party_id, a.project_id) == (pp.party_id, pp.project_id))
            .unwrap();
        assert_eq!(same.procore_commitment_ids, vec![501, 502]);
    }
);

both!(
    a_link_left_by_a_record_that_no_longer_names_it_is_taken_over,
    |ctx| {
        let s = &ctx.store;
        let created = s
            .apply_compliance(&ComplianceBatch {
                company_id: COMPANY,
                changes: &[
                    ComplianceChange::CreateParty {
                        party: party("Old", Some(30)),
                    },
                    ComplianceChange::CreateParty {
                        party: party("New", None),
                    },
                ],
                ..Default::default()
            })
            .await
            .unwrap();
        let (old, new) = (created[0].1, created[1].1);
        // An older trestle moved the Procore id without its link.
        ctx.raw_execute(
            "UPDATE compliance_parties SET procore_vendor_id = NULL WHERE name = 'Old'",
        )
        .await;

        s.apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            changes: &[ComplianceChange::UpdateParty {
                party: Party {
                    id: PartyId(new),
                    ..party("New", Some(30))
                },
            }],
            ..Default::default()
        })
        .await
        .unwrap();

        let links = s.links(COMPANY, LinkKind::Party).await.unwrap();
        assert_eq!(links.get(&30), Some(&new));
        assert_ne!(links.get(&30), Some(&old));
    }
);

fn standard_profile(name: &str) -> ComplianceProfile {
    ComplianceProfile {
        id: ProfileId(0),
        name: name.into(),
        currency: Default::default(),
        expiring_within_days: 30,
        requirements: vec![],
    }
}

both!(
    a_sync_updating_a_party_keeps_the_profile_a_person_set_since_it_read_the_party,
    |ctx| {
        let s = &ctx.store;
        let created = s
            .apply_compliance(&ComplianceBatch {
                company_id: COMPANY,
                changes: &[ComplianceChange::CreateParty {
                    party: party("Acme", Some(40)),
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        let id = PartyId(created[0].1);
        // The sync reads the party (no profile) ...
        let read = s.party(COMPANY, id).await.unwrap().unwrap();
        // ... a person gives it a profile while the sync runs ...
        let standard = s
            .upsert_profile(COMPANY, &standard_profile("Standard"), None)
            .await
            .unwrap();
        s.set_party_profile(COMPANY, id, Some(standard), None)
            .await
            .unwrap();
        // ... and the sync applies Procore's new website onto what it read.
        s.apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            changes: &[ComplianceChange::UpdateParty {
                party: Party {
                    website: Some("https://acme.example".into()),
                    ..read
                },
            }],
            ..Default::default()
        })
        .await
        .unwrap();

        let after = s.party(COMPANY, id).await.unwrap().unwrap();
        assert_eq!(
            after.profile_id,
            Some(standard),
            "the person's profile is kept"
        );
        assert_eq!(after.website.as_deref(), Some("https://acme.example"));
    }
);

both!(
    setting_a_partys_profile_writes_only_the_profile_and_refuses_what_does_not_exist,
    |ctx| {
        let s = &ctx.store;
        let created = s
            .apply_compliance(&ComplianceBatch {
                company_id: COMPANY,
                changes: &[ComplianceChange::CreateParty {
                    party: party("Acme", Some(41)),
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        let id = PartyId(created[0].1);
        let before = s.party(COMPANY, id).await.unwrap().unwrap();
        let standard = s
            .upsert_profile(COMPANY, &standard_profile("Standard"), None)
            .await
            .unwrap();

        s.set_party_profile(COMPANY, id, Some(standard), None)
            .await
            .unwrap();
        assert_eq!(
            s.party(COMPANY, id).await.unwrap().unwrap(),
            Party {
                profile_id: Some(standard),
                ..before.clone()
            }
        );
        s.set_party_profile(COMPANY, id, None, None).await.unwrap();
        assert_eq!(s.party(COMPANY, id).await.unwrap().unwrap(), before);

        let no_profile = s
            .set_party_profile(COMPANY, id, Some(ProfileId(999_999)), None)
            .await;
        assert!(
            matches!(
                no_profile,
                Err(StoreError::NotFound {
                    what: "profile",
                    ..
                })
            ),
            "{no_profile:?}"
        );
        let other_company = s
            .set_party_profile(COMPANY + 1, id, Some(standard), None)
            .await;
        assert!(
            matches!(other_company, Err(StoreError::NotFound { .. })),
            "{other_company:?}"
        );
        assert_eq!(s.party(COMPANY, id).await.unwrap().unwrap(), before);
    }
);

both!(
    an_import_that_leaves_out_procore_owned_fields_keeps_what_the_sync_wrote,
    |ctx| {
        let s = &ctx.store;
        s.apply_compliance(&ComplianceBatch {
            company_id: COMPANY,
            changes: &[
                ComplianceChange::CreateParty {
                    party: Party {
                        website: Some("https://acme.example".into()),
                        ..party("Acme", Some(50))
                    },
                },
                ComplianceChange::CreateProject {
                    project: project("Harbor Tower", Some(9050)),
                    custom_fields: CustomFields::new(),
                },
            ],
            ..Default::default()
        })
        .await
        .unwrap();
        let data: ComplianceData = serde_json::from_value(serde_json::json!({
            "version": FORMAT_VERSION,
            "profiles": [{"id": 1, "name": "Standard", "requirements": []}],
            "parties": [{"id": 1, "name": "Acme", "procore_vendor_id": 50, "profile_id": 1}],
            "projects": [{"id": 1, "name": "Harbor Tower", "procore_project_id": 9050}]
        }))
        .unwrap();

        s.import_compliance(COMPANY, &data).await.unwrap();

        let acme = s.parties(COMPANY).await.unwrap().remove(0);
        assert_eq!(acme.address.as_deref(), Some("1 Dock Rd"));
        assert_eq!(acme.website.as_deref(), Some("https://acme.example"));
        assert!(acme.profile_id.is_some(), "the file's profile is applied");
        let harbor = s
            .compliance_projects(COMPANY)
            .await
            .unwrap()
            .remove(0)
            .project;
        assert_eq!(harbor.description.as_deref(), Some("Phase 1"));
        assert_eq!(harbor.start_date, NaiveDate::from_ymd_opt(2026, 3, 1));
    }
);

both!(
    a_sync_setting_an_association_keeps_the_profile_a_person_gave_it_meanwhile,
    |ctx| {
        let s = &ctx.store;
        let data = documented_data();
        s.import_compliance(COMPANY, &data).await.unwrap();
        // The association with a profile of its own in the documented file.
        let pp = s
            .party_projects(COMPANY)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.profile_id.is_some())
            .unwrap();

        // A sync's commitment names no profile: the association's is kept, ended or not.
        for active in [true, false] {
            s.apply_compliance(&ComplianceBatch {
                company_id: COMPANY,
                changes: &[ComplianceChange::SetPartyProject {
                    party: Ref::Id(pp.party_id),
                    project: Ref::Id(pp.project_id),
                    profile_id: None,
                    active,
                    procore_commitment_ids: vec![88001],
                }],
                ..Default::default()
            })
            .await
            .unwrap();
            let after = s
                .party_projects(COMPANY)
                .await
                .unwrap()
                .into_iter()
                .find(|a| (a.party_id, a.project_id) == (pp.party_id, pp.project_id))
                .unwrap();
            assert_eq!(after.profile_id, pp.profile_id);
            assert_eq!(after.active, active);
        }
    }
);

both!(
    an_import_finds_a_later_party_by_the_procore_id_an_earlier_one_moved_its_link_from,
    |ctx| {
        let s = &ctx.store;
        let created = s
            .apply_compliance(&ComplianceBatch {
                company_id: COMPANY,
                changes: &[
                    ComplianceChange::CreateParty {
                        party: party("Acme", Some(30)),
                    },
                    ComplianceChange::CreateParty {
                        party: party("Beta", None),
                    },
                ],
                ..Default::default()
            })
            .await
            .unwrap();
        let (acme, beta) = (created[0].1, created[1].1);
        // An older trestle moved the Procore ids without their links: Acme now carries 31,
        // Beta carries 30, and 30 is still linked to Acme.
        ctx.raw_execute("UPDATE compliance_parties SET procore_vendor_id = 31 WHERE name = 'Acme'")
            .await;
        ctx.raw_execute("UPDATE compliance_parties SET procore_vendor_id = 30 WHERE name = 'Beta'")
            .await;
        let file = ComplianceData {
            version: FORMAT_VERSION,
            parties: vec![
                Party {
                    id: PartyId(1),
                    ..party("Acme", Some(31))
                },
                Party {
                    id: PartyId(2),
                    ..party("Beta", Some(30))
                },
            ],
            ..Default::default()
        };

        let summary = s.import_compliance(COMPANY, &file).await.unwrap();

        // Acme's update moved its link from 30 to 31, so 30 finds the party carrying it.
        assert_eq!((summary.parties.added, summary.parties.updated), (0, 2));
        let links = s.links(COMPANY, LinkKind::Party).await.unwrap();
        assert_eq!(links.get(&31), Some(&acme));
        assert_eq!(links.get(&30), Some(&beta));
        let names: Vec<_> = s
            .parties(COMPANY)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.id.0, p.name, p.procore_vendor_id))
            .collect();
        assert_eq!(
            names,
            [
                (acme, "Acme".to_string(), Some(31)),
                (beta, "Beta".to_string(), Some(30))
            ]
        );
    }
);

both!(
    a_write_made_from_a_read_is_refused_when_the_record_changed_since_and_writes_nothing,
    |ctx| {
        let s = &ctx.store;
        s.import_compliance(COMPANY, &documented_data())
            .await
            .unwrap();
        fn changed<T: std::fmt::Debug>(r: Result<T, StoreError>) {
            assert!(matches!(r, Err(StoreError::Changed { .. })), "{r:?}");
        }

        // A certificate: read, then another writer saves first.
        let read = s.certificates(COMPANY).await.unwrap().remove(0);
        let mut theirs = read.clone();
        theirs.policies.truncate(2);
        s.replace_certificate(COMPANY, &theirs, Some(&read))
            .await
            .unwrap();
        let mut mine = read.clone();
        mine.policies.truncate(1);
        changed(s.replace_certificate(COMPANY, &mine, Some(&read)).await);
        changed(s.remove_certificate(COMPANY, read.id, Some(&read)).await);
        assert_eq!(s.certificates(COMPANY).await.unwrap()[0], theirs);
        // Read again, the same write goes ahead; once gone, a guarded write says so.
        s.remove_certificate(COMPANY, read.id, Some(&theirs))
            .await
            .unwrap();
        let gone = s.replace_certificate(COMPANY, &mine, Some(&theirs)).await;
        assert!(matches!(gone, Err(StoreError::NotFound { .. })), "{gone:?}");

        // A profile.
        let read = s.profiles(COMPANY).await.unwrap().remove(0);
        let mut theirs = read.clone();
        theirs.expiring_within_days += 10;
        s.upsert_profile(COMPANY, &theirs, Some(&read))
            .await
            .unwrap();
        let mut mine = read.clone();
        mine.requirements.truncate(1);
        changed(s.upsert_profile(COMPANY, &mine, Some(&read)).await);
        changed(s.remove_profile(COMPANY, &read.name, Some(&read)).await);
        assert_eq!(s.profiles(COMPANY).await.unwrap()[0], theirs);

        // A party's profile: only the profile is compared, the sync's fields may change.
        let parties = s.parties(COMPANY).await.unwrap();
        let party = parties.iter().find(|p| p.profile_id.is_some()).unwrap();
        s.set_party_profile(COMPANY, party.id, None, Some(party))
            .await
            .unwrap();
        changed(
            s.set_party_profile(COMPANY, party.id, Some(theirs.id), Some(party))
                .await,
        );
        let now = s.parties(COMPANY).await.unwrap();
        assert_eq!(
            now.iter().find(|p| p.id == party.id).unwrap().profile_id,
            None
        );

        // The settings, none saved yet read as null.
        let first = serde_json::json!({"enabled": true});
        s.save_compliance_settings(COMPANY, &first, Some(&serde_json::Value::Null))
            .await
            .unwrap();
        changed(
            s.save_compliance_settings(
                COMPANY,
                &serde_json::json!({"enabled": false}),
                Some(&serde_json::Value::Null),
            )
            .await,
        );
        assert_eq!(s.compliance_settings(COMPANY).await.unwrap(), Some(first));
    }
);

both!(
    of_writes_made_at_once_from_one_read_exactly_one_goes_in,
    |ctx| {
        let s = &ctx.store;
        s.import_compliance(COMPANY, &documented_data())
            .await
            .unwrap();
        let read = s.certificates(COMPANY).await.unwrap().remove(0);
        let mut writers = tokio::task::JoinSet::new();
        for n in 0..8 {
            let (s, read) = (s.clone(), read.clone());
            writers.spawn(async move {
                let mut mine = read.clone();
                mine.policies[0].policy_number = format!("RACE-{n}");
                s.replace_certificate(COMPANY, &mine, Some(&read)).await
            });
        }
        let mut went_in = 0;
        while let Some(done) = writers.join_next().await {
            match done.unwrap() {
                Ok(()) => went_in += 1,
                Err(StoreError::Changed { .. }) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(went_in, 1, "the others read what the first one replaced");
    }
);
