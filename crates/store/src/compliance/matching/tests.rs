//! One test per "find this record again" rule of [`match_import`], and the file checks of
//! [`import_problems`]; plain records in, decisions out, no database.

use super::*;
use chrono::NaiveDate;
use domain::compliance::{
    AppliesTo, CertificateId, ContactId, Currency, Policy, ProfileId, Project, Subject, WaiverId,
    WaiverKind, WaiverTarget, FORMAT_VERSION,
};

fn party(id: i64, name: &str, vendor: Option<i64>) -> Party {
    Party {
        id: PartyId(id),
        name: name.into(),
        address: None,
        website: None,
        active: true,
        procore_vendor_id: vendor,
        profile_id: None,
    }
}

fn project(id: i64, name: &str, procore: Option<i64>) -> Project {
    Project {
        id: ProjectId(id),
        name: name.into(),
        description: None,
        start_date: None,
        completion_date: None,
        active: true,
        procore_project_id: procore,
    }
}

fn record(p: Project) -> ComplianceProjectRecord {
    ComplianceProjectRecord {
        project: p,
        custom_fields: CustomFields::new(),
    }
}

fn contact(id: i64, party: i64, email: Option<&str>, procore: Option<i64>) -> Contact {
    Contact {
        id: ContactId(id),
        party_id: PartyId(party),
        first_name: None,
        last_name: None,
        email: email.map(Into::into),
        phone: None,
        fax: None,
        primary: false,
        procore_contact_id: procore,
    }
}

fn named(mut c: Contact, first: &str, last: &str) -> Contact {
    c.first_name = Some(first.into());
    c.last_name = Some(last.into());
    c
}

fn profile(id: i64, name: &str) -> ComplianceProfile {
    ComplianceProfile {
        id: ProfileId(id),
        name: name.into(),
        currency: Currency::Usd,
        expiring_within_days: 30,
        requirements: Vec::new(),
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn certificate(id: i64, party: i64, numbers: &[&str]) -> Certificate {
    Certificate {
        id: CertificateId(id),
        party_id: PartyId(party),
        applies_to: AppliesTo::AllProjects,
        received_on: None,
        currency: Currency::Usd,
        producer: None,
        holder: None,
        policies: numbers
            .iter()
            .map(|n| Policy {
                subject: Subject::GeneralLiability,
                insurer: "Insurer".into(),
                naic: None,
                policy_number: (*n).into(),
                effective_date: day("2026-01-01"),
                expiration_date: day("2027-01-01"),
                limits: Default::default(),
                endorsements: Vec::new(),
                statutory: false,
            })
            .collect(),
    }
}

fn waiver(id: i64, party: i64, scope: WaiverScope) -> Waiver {
    Waiver {
        id: WaiverId(id),
        party_id: PartyId(party),
        scope,
        target: WaiverTarget::Subject(Subject::UmbrellaExcess),
        kind: WaiverKind::Waive,
        reason: "small job".into(),
        until: None,
    }
}

fn data() -> ComplianceData {
    ComplianceData {
        version: FORMAT_VERSION,
        ..ComplianceData::default()
    }
}

fn links(pairs: &[(i64, i64)]) -> BTreeMap<i64, i64> {
    pairs.iter().copied().collect()
}

fn found<T>(matches: &[Match<T>]) -> Vec<bool> {
    matches.iter().map(|m| m.found).collect()
}

#[test]
fn a_profile_is_found_again_by_its_name() {
    let stored = Stored {
        profiles: vec![profile(7, "Standard")],
        ..Stored::default()
    };
    let file = ComplianceData {
        profiles: vec![profile(1, "Standard"), profile(2, "Tower")],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(found(&m.profiles), [true, false]);
}

#[test]
fn a_party_with_a_procore_id_is_found_through_its_link_before_the_id_it_carries() {
    let stored = Stored {
        parties: vec![party(10, "Old name", None), party(11, "Other", Some(500))],
        party_links: links(&[(500, 10)]),
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", Some(500))],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert!(m.parties[0].found);
    assert_eq!(m.parties[0].record.id, PartyId(10));
}

#[test]
fn a_party_whose_procore_id_has_no_link_is_found_by_the_record_carrying_it() {
    let stored = Stored {
        parties: vec![party(10, "Acme", Some(500))],
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Renamed", Some(500))],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(m.parties[0].record.id, PartyId(10));
    assert_eq!(m.parties[0].record.name, "Renamed");
}

#[test]
fn a_party_with_a_procore_id_is_not_found_by_its_name() {
    let stored = Stored {
        parties: vec![party(10, "Acme", None)],
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", Some(500))],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(found(&m.parties), [false]);
}

#[test]
fn a_party_without_a_procore_id_is_found_by_its_name_and_keeps_the_stored_procore_id() {
    let stored = Stored {
        parties: vec![party(10, "Acme", Some(500))],
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None), party(2, "Beta", None)],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(found(&m.parties), [true, false]);
    assert_eq!(m.parties[0].record.procore_vendor_id, Some(500));
}

#[test]
fn a_name_that_finds_several_stored_parties_is_refused() {
    let stored = Stored {
        parties: vec![party(10, "Acme", None), party(11, "Acme", Some(5))],
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None)],
        ..data()
    };
    let err = match_import(&file, &stored).unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("several parties are named \"Acme\"")),
        "{err}"
    );
}

#[test]
fn a_linked_party_keeps_the_address_and_website_the_file_leaves_out() {
    let mut s = party(10, "Acme", Some(500));
    s.address = Some("1 Main St".into());
    s.website = Some("acme.example".into());
    let mut unlinked = party(11, "Beta", None);
    unlinked.address = Some("2 Side St".into());
    let stored = Stored {
        parties: vec![s, unlinked],
        ..Stored::default()
    };
    let mut given = party(1, "Acme", Some(500));
    given.website = Some("new.example".into());
    let file = ComplianceData {
        parties: vec![given, party(2, "Beta", None)],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(m.parties[0].record.address.as_deref(), Some("1 Main St"));
    assert_eq!(m.parties[0].record.website.as_deref(), Some("new.example"));
    // Without a Procore id the person's file says it all: no address is no address.
    assert_eq!(m.parties[1].record.address, None);
}

#[test]
fn a_linked_project_keeps_its_description_dates_and_custom_fields() {
    let mut s = project(20, "Tower", Some(900));
    s.description = Some("32 floors".into());
    s.start_date = Some(day("2026-02-01"));
    let mut stored_record = record(s);
    stored_record
        .custom_fields
        .insert("Project number".into(), "T-1".into());
    let stored = Stored {
        projects: vec![stored_record],
        project_links: links(&[(900, 20)]),
        ..Stored::default()
    };
    let mut given = project(2, "Tower", Some(900));
    given.completion_date = Some(day("2027-06-30"));
    let file = ComplianceData {
        projects: vec![given],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    let got = &m.projects[0].record;
    assert!(m.projects[0].found);
    assert_eq!(got.project.id, ProjectId(20));
    assert_eq!(got.project.description.as_deref(), Some("32 floors"));
    assert_eq!(got.project.start_date, Some(day("2026-02-01")));
    assert_eq!(got.project.completion_date, Some(day("2027-06-30")));
    assert_eq!(got.custom_fields["Project number"], "T-1");
}

#[test]
fn a_project_without_a_procore_id_is_found_by_its_name_and_several_are_refused() {
    let one = Stored {
        projects: vec![record(project(20, "Clinic", None))],
        ..Stored::default()
    };
    let file = ComplianceData {
        projects: vec![project(2, "Clinic", None)],
        ..data()
    };
    assert_eq!(found(&match_import(&file, &one).unwrap().projects), [true]);
    let two = Stored {
        projects: vec![
            record(project(20, "Clinic", None)),
            record(project(21, "Clinic", None)),
        ],
        ..Stored::default()
    };
    assert!(matches!(
        match_import(&file, &two),
        Err(StoreError::Conflict(_))
    ));
}

#[test]
fn a_link_an_earlier_record_moved_away_no_longer_finds_its_old_record() {
    // Party 10 carries Procore id 600 but an old link still names it for 500; the first file
    // party takes it by 600, which moves the link, so 500 then finds the party carrying it.
    let stored = Stored {
        parties: vec![party(10, "Acme", Some(600)), party(11, "Beta", Some(500))],
        party_links: links(&[(500, 10)]),
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", Some(600)), party(2, "Beta", Some(500))],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(m.parties[0].record.id, PartyId(10));
    assert_eq!(m.parties[1].record.id, PartyId(11));
}

#[test]
fn an_association_is_found_by_its_pair_and_keeps_the_commitments_the_file_leaves_out() {
    let stored = Stored {
        parties: vec![party(10, "Acme", None)],
        projects: vec![record(project(20, "Tower", None))],
        party_projects: vec![PartyProject {
            party_id: PartyId(10),
            project_id: ProjectId(20),
            profile_id: None,
            active: true,
            procore_commitment_ids: vec![77],
        }],
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None), party(2, "New", None)],
        projects: vec![project(3, "Tower", None)],
        party_projects: [1, 2]
            .map(|p| PartyProject {
                party_id: PartyId(p),
                project_id: ProjectId(3),
                profile_id: None,
                active: false,
                procore_commitment_ids: Vec::new(),
            })
            .to_vec(),
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(found(&m.party_projects), [true, false]);
    let kept = &m.party_projects[0].record;
    assert_eq!(kept.procore_commitment_ids, [77]);
    assert!(!kept.active);
    // Its references stay the file's ids; the writes turn them into stored ones.
    assert_eq!((kept.party_id, kept.project_id), (PartyId(1), ProjectId(3)));
}

#[test]
fn a_contact_with_a_procore_id_is_found_only_through_its_link() {
    let stored = Stored {
        parties: vec![party(10, "Acme", None)],
        contacts: vec![
            contact(30, 10, Some("a@acme.example"), Some(800)),
            contact(31, 10, Some("b@acme.example"), None),
        ],
        contact_links: links(&[(801, 31)]),
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None)],
        contacts: vec![
            contact(1, 1, Some("b@acme.example"), Some(801)),
            // Carried by contact 30, but not linked: not found, whatever the email says.
            contact(2, 1, Some("a@acme.example"), Some(800)),
        ],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(found(&m.contacts), [true, false]);
    assert_eq!(m.contacts[0].record.id, ContactId(31));
}

#[test]
fn a_contact_is_found_within_its_party_by_email_ignoring_case_and_spaces() {
    let stored = Stored {
        parties: vec![party(10, "Acme", None), party(11, "Beta", None)],
        contacts: vec![
            contact(30, 10, Some("Ann@Acme.example"), Some(800)),
            contact(31, 11, Some("bo@beta.example"), None),
        ],
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None), party(2, "Beta", None)],
        contacts: vec![
            contact(1, 1, Some(" ann@acme.EXAMPLE "), None),
            contact(2, 1, Some("bo@beta.example"), None),
        ],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(found(&m.contacts), [true, false]);
    assert_eq!(m.contacts[0].record.procore_contact_id, Some(800));
}

#[test]
fn a_contact_without_an_email_is_found_by_its_names_among_its_partys_contacts_without_one() {
    let stored = Stored {
        parties: vec![party(10, "Acme", None)],
        contacts: vec![
            named(
                contact(30, 10, Some("ann@acme.example"), None),
                "Ann",
                "Lee",
            ),
            named(contact(31, 10, None, None), "Bo", "Ray"),
            contact(32, 10, None, None),
        ],
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None)],
        contacts: vec![
            named(contact(1, 1, None, None), "Ann", "Lee"),
            named(contact(2, 1, None, None), "Bo", "Ray"),
            // No email and no name: nothing to find it by.
            contact(3, 1, None, None),
        ],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(found(&m.contacts), [false, true, false]);
    assert_eq!(m.contacts[1].record.id, ContactId(31));
}

#[test]
fn a_certificate_is_found_by_its_party_and_policy_numbers_ignoring_case_and_spaces() {
    let stored = Stored {
        parties: vec![party(10, "Acme", None)],
        certificates: vec![certificate(40, 10, &["GL-1", "AU-2"])],
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None), party(2, "New", None)],
        certificates: vec![
            certificate(1, 1, &["au-2 ", " gl-1"]),
            certificate(2, 1, &["GL-1"]),
            certificate(3, 2, &["GL-1", "AU-2"]),
        ],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(found(&m.certificates), [true, false, false]);
    assert_eq!(m.certificates[0].record.id, CertificateId(40));
}

#[test]
fn a_waiver_is_found_by_its_party_scope_and_target() {
    let stored = Stored {
        parties: vec![party(10, "Acme", None)],
        projects: vec![record(project(20, "Tower", None))],
        waivers: vec![
            waiver(50, 10, WaiverScope::Project(ProjectId(20))),
            waiver(51, 10, WaiverScope::Global),
        ],
        ..Stored::default()
    };
    let mut other_target = waiver(3, 1, WaiverScope::Global);
    other_target.target = WaiverTarget::Requirement("gl-each".into());
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None)],
        projects: vec![project(2, "Tower", None), project(4, "New", None)],
        waivers: vec![
            waiver(1, 1, WaiverScope::Project(ProjectId(2))),
            waiver(2, 1, WaiverScope::Everywhere),
            other_target,
            waiver(5, 1, WaiverScope::Project(ProjectId(4))),
        ],
        ..data()
    };
    let m = match_import(&file, &stored).unwrap();
    assert_eq!(found(&m.waivers), [true, false, false, false]);
    assert_eq!(m.waivers[0].record.id, WaiverId(50));
}

#[test]
fn the_summary_counts_found_records_as_updated_and_the_rest_as_added() {
    let stored = Stored {
        parties: vec![party(10, "Acme", None)],
        ..Stored::default()
    };
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None), party(2, "Beta", None)],
        ..data()
    };
    let summary = match_import(&file, &stored).unwrap().summary();
    assert_eq!((summary.parties.added, summary.parties.updated), (1, 1));
    assert_eq!((summary.added(), summary.updated()), (1, 1));
}

#[test]
fn names_a_file_gives_twice_are_problems_only_where_the_name_finds_the_record() {
    let file = ComplianceData {
        profiles: vec![profile(1, "Standard"), profile(2, "Standard")],
        parties: vec![
            party(1, "Acme", None),
            party(2, "Acme", None),
            party(3, "Beta", Some(5)),
            party(4, "Beta", Some(6)),
        ],
        projects: vec![project(1, "Tower", None), project(2, "Tower", None)],
        ..data()
    };
    let problems = import_problems(&file);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0]
        .message
        .starts_with("profiles 1 and 2 are both named \"Standard\""));
    assert!(problems[1]
        .message
        .starts_with("parties 1 and 2 are both named \"Acme\""));
    assert!(problems[2]
        .message
        .starts_with("projects 1 and 2 are both named \"Tower\""));
}

#[test]
fn a_third_record_of_one_name_is_reported_with_the_one_before_it() {
    let file = ComplianceData {
        profiles: vec![profile(1, "A"), profile(2, "A"), profile(3, "A")],
        ..data()
    };
    let problems = import_problems(&file);
    assert!(
        problems[0].message.starts_with("profiles 1 and 2"),
        "{problems:?}"
    );
    assert!(
        problems[1].message.starts_with("profiles 2 and 3"),
        "{problems:?}"
    );
}

#[test]
fn certificates_and_waivers_a_file_gives_twice_are_problems() {
    let file = ComplianceData {
        parties: vec![party(1, "Acme", None)],
        certificates: vec![certificate(1, 1, &["GL-1"]), certificate(2, 1, &["gl-1 "])],
        waivers: vec![
            waiver(1, 1, WaiverScope::Global),
            waiver(2, 1, WaiverScope::Global),
        ],
        ..data()
    };
    let problems = import_problems(&file);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0]
        .message
        .starts_with("certificates 1 and 2 of party 1 list the same policies (GL-1)"));
    assert!(problems[1]
        .message
        .starts_with("waivers 1 and 2 of party 1 have the same target and scope"));
}
