//! The compliance commands with the real `trestle` binary: `compliance import` (a good file,
//! refused ones, the same file twice), the record commands (`compliance profile|certificate|
//! waiver`), `compliance map ... do-not-add` and `compliance settings --compliance-sync off`,
//! each checked by what the store holds or what a later sync does.

use common::{compliance_dataset, spawn_demo_sim, text, trestle_insurances, vendor_id, Setup};
use procore_sim::{demo, Sim};
use store::{MappingDecision, ProcoreRecordKind, Store};

mod common;

/// A connected demo company (no initial workforce sync) and its simulator.
async fn connected() -> (procore_sim::Running, Setup) {
    let running = spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    (running, setup)
}

fn project_id(sim: &Sim, name: &str) -> i64 {
    sim.read(|w| w.projects.values().find(|p| p.name == name).map(|p| p.id))
        .unwrap()
}

/// Insurance writes (anything but a read) the simulator has answered.
fn insurance_writes(sim: &Sim) -> usize {
    sim.request_log()
        .iter()
        .filter(|r| r.path.contains("insurances") && r.method != "GET")
        .count()
}

/// Insurance requests since request `from` (`connect` sends one to check the permission).
fn insurance_requests(sim: &Sim, from: usize) -> usize {
    sim.request_log()
        .iter()
        .skip(from)
        .filter(|r| r.path.contains("insurances"))
        .count()
}

/// How many records of each kind the store holds for the demo company.
async fn counts(store: &Store) -> [usize; 5] {
    let c = demo::COMPANY_ID;
    [
        store.profiles(c).await.unwrap().len(),
        store.parties(c).await.unwrap().len(),
        store.compliance_projects(c).await.unwrap().len(),
        store.party_projects(c).await.unwrap().len(),
        store.certificates(c).await.unwrap().len(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_loads_a_good_file_and_prints_its_counts() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    let file = setup.write_file("good.json", &data);
    let out = setup.ok(&["compliance", "import", &file]).await;
    assert!(
        out.contains(
            "1 profiles, 2 parties, 0 projects, 0 associations, 0 contacts, 1 certificates, 0 waivers;"
        ),
        "{out}"
    );
    let store = setup.store().await;
    assert_eq!(counts(&store).await, [1, 2, 0, 0, 1]);
    let parties = store.parties(demo::COMPANY_ID).await.unwrap();
    assert!(parties
        .iter()
        .all(|p| p.procore_vendor_id.is_some() && p.profile_id.is_some()));

    // The same file again updates the linked parties instead of adding new ones.
    setup.ok(&["compliance", "import", &file]).await;
    assert_eq!(counts(&store).await, [1, 2, 0, 0, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_importing_the_same_file_adds_no_second_certificate() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let mut data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    data["waivers"] = serde_json::json!([{"id": 1, "party_id": 2, "target": {"subject": "automobile_liability"},
        "kind": "waive", "reason": "No vehicles"}]);
    let file = setup.write_file("good.json", &data);
    let first = setup.ok(&["compliance", "import", &file]).await;
    assert!(first.contains("5 new, 0 already there"), "{first}");
    let again = setup.ok(&["compliance", "import", &file]).await;
    assert!(
        again.contains("0 new, 5 already there and updated"),
        "{again}"
    );
    let store = setup.store().await;
    assert_eq!(counts(&store).await, [1, 2, 0, 0, 1]);
    assert_eq!(store.waivers(demo::COMPANY_ID).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_one_bad_record_applies_nothing() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let mut data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    // Two Procore companies called the same: fine, they are told apart by their Procore ids.
    data["parties"] = serde_json::json!([
        data["parties"][0], data["parties"][1],
        {"id": 3, "name": "Cedar Cleaning", "procore_vendor_id": 990001},
        {"id": 4, "name": "Cedar Cleaning", "procore_vendor_id": 990002}
    ]);
    setup
        .ok(&[
            "compliance",
            "import",
            &setup.write_file("first.json", &data),
        ])
        .await;
    let store = setup.store().await;
    let before = store.compliance_dataset(demo::COMPANY_ID).await.unwrap();

    // A new profile, a changed certificate, then a party only a name can find, and two
    // stored parties have it: the store learns that half-way through the import.
    let mut bad = data.clone();
    bad["profiles"].as_array_mut().unwrap().push(
        serde_json::json!({"id": 2, "name": "Stricter", "requirements": [
        {"key": "gl.each_occurrence", "subject": "general_liability",
         "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": "5000000"}}]}),
    );
    bad["certificates"][0]["policies"][0]["limits"]["each_occurrence"] = "9000000".into();
    bad["parties"] = serde_json::json!([
        data["parties"][0], data["parties"][1], {"id": 3, "name": "Cedar Cleaning"}
    ]);
    let file = setup.write_file("bad.json", &bad);
    let out = setup.trestle(&["compliance", "import", &file], None).await;
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nothing was imported")
            && stderr.contains("several parties are named \"Cedar Cleaning\""),
        "{}",
        text(&out)
    );
    assert_eq!(
        store.compliance_dataset(demo::COMPANY_ID).await.unwrap(),
        before,
        "not the profile, not the certificate's new limit"
    );
}

/// Bolt Plumbing's company-level insurance records in the simulator: (type, status).
fn bolt_records(sim: &Sim) -> Vec<(String, String)> {
    let bolt = vendor_id(sim, "Bolt Plumbing");
    let mut records: Vec<(String, String)> = trestle_insurances(sim)
        .into_iter()
        .filter(|i| i.vendor_id == bolt && i.project_id.is_none())
        .map(|i| {
            (
                i.insurance_type.unwrap_or_default(),
                i.status.unwrap_or_default(),
            )
        })
        .collect();
    records.sort();
    records
}

/// The certificate id in "Added certificate N for ...".
fn added_id(out: &str) -> String {
    out.split_whitespace()
        .skip_while(|w| *w != "certificate")
        .nth(1)
        .unwrap_or_else(|| panic!("no certificate id in {out}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_entered_from_the_cli_makes_the_party_compliant_on_the_next_evaluation() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    setup
        .ok(&[
            "compliance",
            "import",
            &setup.write_file("good.json", &data),
        ])
        .await;
    setup.sync("compliance").await;
    let missing = bolt_records(sim);
    assert!(
        !missing.is_empty() && missing.iter().all(|(_, s)| s == "non_compliant"),
        "{missing:?}"
    );

    let out = setup
        .ok(&[
            "compliance",
            "certificate",
            "add",
            "--party",
            "bolt plumbing",
            "--subject",
            "gl",
            "--insurer",
            "Granite Mutual",
            "--policy-number",
            "GL-B1",
            "--effective",
            "2026-01-01",
            "--expires",
            "2030-12-31",
            "--limit",
            "each-occurrence=$2,000,000",
            "--received-on",
            "2026-01-05",
        ])
        .await;
    assert!(out.contains("Each Occurrence: $2,000,000"), "{out}");
    let id = added_id(&out);
    setup.sync("compliance").await;
    let half = bolt_records(sim);
    assert!(
        half.contains(&("General Liability".into(), "compliant".into()))
            && half.contains(&("Automobile Liability".into(), "non_compliant".into())),
        "{half:?}"
    );

    let out = setup
        .ok(&[
            "compliance",
            "certificate",
            "policy-set",
            &id,
            "--subject",
            "automobile-liability",
            "--insurer",
            "Granite Mutual",
            "--policy-number",
            "AU-B1",
            "--effective",
            "2026-01-01",
            "--expires",
            "2030-12-31",
            "--limit",
            "combined-single-limit=1000000",
        ])
        .await;
    assert!(out.contains("AU-B1"), "{out}");
    setup.sync("compliance").await;
    let all = bolt_records(sim);
    assert!(all.iter().all(|(_, s)| s == "compliant"), "{all:?}");

    // Lowering a limit below the minimum is a change the next evaluation sees too.
    setup
        .ok(&[
            "compliance",
            "certificate",
            "policy-set",
            &id,
            "--subject",
            "auto",
            "--limit",
            "combined-single-limit=$500,000",
        ])
        .await;
    setup.sync("compliance").await;
    assert!(
        bolt_records(sim).contains(&("Automobile Liability".into(), "non_compliant".into())),
        "{:?}",
        bolt_records(sim)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiver_entered_from_the_cli_counts_until_it_is_removed() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    setup
        .ok(&[
            "compliance",
            "import",
            &setup.write_file("good.json", &data),
        ])
        .await;
    for (what, value) in [
        ("--subject", "general-liability"),
        ("--requirement", "auto.csl"),
    ] {
        let out = setup
            .ok(&[
                "compliance",
                "waiver",
                "add",
                "--party",
                "Bolt Plumbing",
                what,
                value,
                "--kind",
                "override",
                "--reason",
                "Owner-supplied insurance program",
                "--until",
                "2099-12-31",
            ])
            .await;
        assert!(out.contains("Added waiver"), "{out}");
    }
    setup.sync("compliance").await;
    let waived = bolt_records(sim);
    assert!(
        !waived.is_empty() && waived.iter().all(|(_, s)| s == "compliant"),
        "{waived:?}"
    );

    let listed = setup
        .ok(&["compliance", "waiver", "list", "--party", "Bolt Plumbing"])
        .await;
    assert!(
        listed.contains("requirement auto.csl") && listed.contains("2099-12-31"),
        "{listed}"
    );
    let store = setup.store().await;
    let first = store.waivers(demo::COMPANY_ID).await.unwrap()[0]
        .id
        .to_string();
    setup.ok(&["compliance", "waiver", "remove", &first]).await;
    setup.sync("compliance").await;
    assert!(
        bolt_records(sim).contains(&("General Liability".into(), "non_compliant".into())),
        "{:?}",
        bolt_records(sim)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raised_minimum_from_profile_set_fails_a_party_on_the_next_evaluation() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let acme = vendor_id(sim, "Acme Electric");
    let data = compliance_dataset(acme, vendor_id(sim, "Bolt Plumbing"));
    setup
        .ok(&[
            "compliance",
            "import",
            &setup.write_file("good.json", &data),
        ])
        .await;
    let acme_gl = |sim: &Sim| {
        trestle_insurances(sim)
            .into_iter()
            .find(|i| {
                i.vendor_id == acme
                    && i.project_id.is_none()
                    && i.insurance_type.as_deref() == Some("General Liability")
            })
            .and_then(|i| i.status)
    };
    setup.sync("compliance").await;
    assert_eq!(acme_gl(sim).as_deref(), Some("compliant"));

    let out = setup
        .ok(&[
            "compliance",
            "profile",
            "set",
            demo::PROFILE_STANDARD,
            "--min",
            "each-occurrence=$5,000,000",
            "--endorsement",
            "gl=additional-insured",
        ])
        .await;
    assert!(
        out.contains("gl.each_occurrence") && out.contains("Each Occurrence at least $5,000,000"),
        "the key waivers point at is kept: {out}"
    );
    assert!(out.contains("Additional insured endorsement"), "{out}");
    assert!(
        out.contains("auto.csl"),
        "requirements not named stay: {out}"
    );
    setup.sync("compliance").await;
    assert_eq!(acme_gl(sim).as_deref(), Some("non_compliant"));

    // The same profile from a file (as `profile show --json` prints it) replaces them all.
    let shown = setup
        .ok(&[
            "compliance",
            "profile",
            "show",
            demo::PROFILE_STANDARD,
            "--json",
        ])
        .await;
    let mut profile: serde_json::Value = serde_json::from_str(&shown).unwrap();
    profile["requirements"] = serde_json::json!([{"key": "gl.each_occurrence",
        "subject": "general_liability",
        "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": "1000000"}}]);
    let file = setup.write_file("profile.json", &profile);
    setup
        .ok(&[
            "compliance",
            "profile",
            "set",
            demo::PROFILE_STANDARD,
            "--from",
            &file,
        ])
        .await;
    setup.sync("compliance").await;
    assert_eq!(acme_gl(sim).as_deref(), Some("compliant"));
    let listed = setup.ok(&["compliance", "profile", "list"]).await;
    assert!(listed.contains(demo::PROFILE_STANDARD), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_what_to_write_instead_and_changes_nothing() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    setup
        .ok(&[
            "compliance",
            "import",
            &setup.write_file("good.json", &data),
        ])
        .await;
    let add = |extra: &'static [&'static str]| {
        let mut args = vec![
            "compliance",
            "certificate",
            "add",
            "--party",
            "Bolt Plumbing",
            "--subject",
            "gl",
            "--insurer",
            "Granite",
            "--policy-number",
            "GL-X",
        ];
        args.extend_from_slice(extra);
        args
    };
    let cases: [(Vec<&str>, &str); 6] = [
        (
            add(&[
                "--effective",
                "2026-01-01",
                "--expires",
                "2027-01-01",
                "--limit",
                "each-occurrence=1,000,00",
            ]),
            "commas must separate groups of three digits",
        ),
        (
            add(&["--effective", "01/01/2026", "--expires", "2027-01-01"]),
            "write YYYY-MM-DD",
        ),
        (
            add(&["--effective", "2027-01-01", "--expires", "2026-01-01"]),
            "expires (2026-01-01) before it takes effect (2027-01-01)",
        ),
        (
            add(&["--expires", "2027-01-01"]),
            "a new policy needs --effective",
        ),
        (
            vec![
                "compliance",
                "certificate",
                "add",
                "--party",
                "Nobody Inc",
                "--subject",
                "gl",
            ],
            "no party \"Nobody Inc\"",
        ),
        (
            vec![
                "compliance",
                "waiver",
                "add",
                "--party",
                "Bolt Plumbing",
                "--requirement",
                "gl.nope",
                "--reason",
                "x",
            ],
            "no profile has a requirement \"gl.nope\"",
        ),
    ];
    let store = setup.store().await;
    let before = store.compliance_dataset(demo::COMPANY_ID).await.unwrap();
    for (args, said) in cases {
        let out = setup.trestle(&args, None).await;
        assert!(!out.status.success(), "{args:?}:\n{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(said),
            "{args:?} says {said}:\n{}",
            text(&out)
        );
    }
    let in_use = setup
        .trestle(
            &["compliance", "profile", "remove", demo::PROFILE_STANDARD],
            None,
        )
        .await;
    assert!(
        String::from_utf8_lossy(&in_use.stderr).contains("is used by 2 parties"),
        "{}",
        text(&in_use)
    );
    assert_eq!(
        store.compliance_dataset(demo::COMPANY_ID).await.unwrap(),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_listed_shown_and_removed_from_the_cli() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    setup
        .ok(&[
            "compliance",
            "import",
            &setup.write_file("good.json", &data),
        ])
        .await;
    let listed = setup.ok(&["compliance", "certificate", "list"]).await;
    assert!(
        listed.contains("GL-1") && listed.contains("AU-1"),
        "{listed}"
    );
    let store = setup.store().await;
    let id = store.certificates(demo::COMPANY_ID).await.unwrap()[0]
        .id
        .to_string();
    let shown = setup.ok(&["compliance", "certificate", "show", &id]).await;
    assert!(shown.contains("Each Occurrence: $2,000,000"), "{shown}");

    // The same paper again is refused; it is changed instead.
    let again = setup
        .trestle(
            &[
                "compliance",
                "certificate",
                "add",
                "--party",
                "Acme Electric",
                "--from",
                &setup.write_file("same.json", &data["certificates"][0]),
            ],
            None,
        )
        .await;
    assert!(
        String::from_utf8_lossy(&again.stderr).contains(&format!("already has certificate {id}")),
        "{}",
        text(&again)
    );
    setup
        .ok(&["compliance", "certificate", "remove", &id])
        .await;
    assert!(store
        .certificates(demo::COMPANY_ID)
        .await
        .unwrap()
        .is_empty());
    let gone = setup
        .trestle(&["compliance", "certificate", "remove", &id], None)
        .await;
    assert!(!gone.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_refuses_a_bad_file_whole_and_names_the_problem() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let good = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );

    // A certificate naming a party that is not in the file.
    let mut unknown_party = good.clone();
    unknown_party["certificates"][0]["party_id"] = serde_json::json!(9);
    // A limit as a JSON number (a float may already have rounded it).
    let mut number = good.clone();
    number["certificates"][0]["policies"][0]["limits"]["each_occurrence"] =
        serde_json::json!(2000000);

    for (name, data, named) in [
        (
            "unknown-party.json",
            unknown_party,
            "certificate 1 refers to party 9, which is not in the import",
        ),
        ("number.json", number, "amounts are strings"),
    ] {
        let file = setup.write_file(name, &data);
        let out = setup.trestle(&["compliance", "import", &file], None).await;
        assert!(!out.status.success(), "{name} was refused:\n{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(named) && stderr.contains("nothing was imported"),
            "{name}: the problem is named:\n{}",
            text(&out)
        );
        let store = setup.store().await;
        assert_eq!(counts(&store).await, [0; 5], "{name} wrote nothing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_mapped_do_not_add_is_ignored_by_later_syncs() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let harbor = project_id(sim, "Harbor Tower");
    let harbor_arg = harbor.to_string();
    // From here: `connect` reads one project's commitments to check the Commitments tool.
    let after_connect = sim.request_log().len();
    let out = setup
        .ok(&["compliance", "map", "project", &harbor_arg, "do-not-add"])
        .await;
    assert!(
        out.contains("is ignored by every sync from now on"),
        "{out}"
    );
    setup
        .ok(&[
            "compliance",
            "settings",
            "--new-projects",
            "import-automatically",
            "--import-companies",
            "on",
        ])
        .await;
    setup.sync("compliance").await;
    setup.sync("compliance").await;

    let store = setup.store().await;
    let projects = store.compliance_projects(demo::COMPANY_ID).await.unwrap();
    assert!(
        !projects.is_empty(),
        "automatic import brought the other projects in"
    );
    assert!(
        projects
            .iter()
            .all(|p| p.project.procore_project_id != Some(harbor)),
        "Harbor Tower was not imported: {projects:?}"
    );
    let mapping = store
        .mapping(demo::COMPANY_ID, ProcoreRecordKind::Project, harbor)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        mapping.decision,
        MappingDecision::DoNotAdd,
        "the syncs kept the decision"
    );
    // Its commitments were not read either; the other projects' were.
    let commitment_reads = |project: i64| {
        sim.request_log()
            .iter()
            .skip(after_connect)
            .filter(|r| {
                r.path
                    .contains(&format!("projects/{project}/commitment_contracts"))
            })
            .count()
    };
    assert_eq!(commitment_reads(harbor), 0);
    let other = projects[0].project.procore_project_id.unwrap();
    assert!(commitment_reads(other) > 0);

    let out = setup.ok(&["explain", "procore-project", &harbor_arg]).await;
    assert!(out.contains(&format!("Procore project {harbor}")), "{out}");
    assert!(out.contains("Now: not in the workforce app."), "{out}");
    assert!(
        out.contains("Now: not a trestle compliance project: it is marked Do not add"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_compliance_sync_off_a_sync_writes_no_insurance() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let after_connect = sim.request_log().len();
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    let file = setup.write_file("good.json", &data);
    setup.ok(&["compliance", "import", &file]).await;
    let out = setup
        .ok(&["compliance", "settings", "--compliance-sync", "off"])
        .await;
    assert!(
        out.lines()
            .any(|l| l.contains("compliance sync") && l.trim_end().ends_with("off")),
        "{out}"
    );
    let out = setup.sync("compliance").await;
    assert!(
        out.contains("insurance records: 0 queued, 0 written, 0 removed, 0 failed"),
        "{out}"
    );
    setup.sync("compliance").await;
    assert_eq!(
        insurance_requests(sim, after_connect),
        0,
        "no insurance request at all"
    );
    assert!(trestle_insurances(sim).is_empty());
    let store = setup.store().await;
    assert!(store
        .insurance_writes(demo::COMPANY_ID)
        .await
        .unwrap()
        .is_empty());

    // Turned back on, the next sync writes them.
    setup
        .ok(&["compliance", "settings", "--compliance-sync", "on"])
        .await;
    setup.sync("compliance").await;
    assert!(!trestle_insurances(sim).is_empty());
}

#[tokio::test]
async fn commitment_settings_are_set_from_the_command_line_and_kept() {
    let (_running, setup) = connected().await;
    let out = setup
        .ok(&[
            "compliance",
            "settings",
            "--executed-only",
            "--ignore-purchase-orders",
            "on",
            "--description",
            "on-import-only",
        ])
        .await;
    assert!(
        out.contains("executed (signed), whatever the status"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("ignore purchase orders") && l.trim_end().ends_with("on")),
        "{out}"
    );
    let out = setup
        .ok(&[
            "compliance",
            "settings",
            "--subcontract-statuses",
            "Approved, Complete",
            "--purchase-order-statuses",
            "Received",
        ])
        .await;
    assert!(
        out.contains("subcontracts: Approved, Complete; purchase orders: Received"),
        "{out}"
    );
    // Settings not given stay as they were.
    assert!(
        out.lines()
            .any(|l| l.contains("ignore purchase orders") && l.trim_end().ends_with("on")),
        "{out}"
    );
    let refused = setup
        .trestle(
            &[
                "compliance",
                "settings",
                "--subcontract-statuses",
                "Approved",
            ],
            None,
        )
        .await;
    assert!(
        !refused.status.success(),
        "one per-type list without the other is refused"
    );
}

#[tokio::test]
async fn a_sync_reads_only_changes_until_asked_for_a_whole_read_or_one_is_due() {
    let (_running, setup) = connected().await;
    let first = setup.sync("compliance").await;
    assert!(first.contains("(everything read whole)"), "{first}");
    let again = setup.sync("compliance").await;
    assert!(again.contains("(only changes read)"), "{again}");
    let full = setup.ok(&["sync", "compliance", "--full"]).await;
    assert!(full.contains("(everything read whole)"), "{full}");

    let out = setup
        .ok(&["compliance", "settings", "--full-read-days", "0"])
        .await;
    assert!(
        out.lines()
            .any(|l| l.contains("whole read every") && l.trim_end().ends_with("sync")),
        "{out}"
    );
    let due = setup.sync("compliance").await;
    assert!(due.contains("(everything read whole)"), "{due}");
}

/// Runs `sync compliance --every 1s`, sends `signal` after the second run, and returns how it
/// ended and what it printed.
async fn every_until(signal: &'static str) -> (std::process::ExitStatus, String) {
    use std::io::{BufRead, BufReader};
    let (_running, setup) = connected().await;
    let mut child = setup
        .command(&["sync", "compliance", "--every", "1s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let pid = child.id().to_string();

    let output = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        let mut runs = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if line.starts_with("Next sync in 1s") {
                runs += 1;
                if runs == 2 {
                    let killed = std::process::Command::new("kill")
                        .args([signal, &pid])
                        .status()
                        .unwrap();
                    assert!(killed.success());
                }
            }
            lines.push(line);
        }
        let status = child.wait().unwrap();
        (status, lines.join("\n"))
    })
    .await
    .unwrap();

    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_with_every_runs_again_on_schedule_and_stops_cleanly_on_sigterm() {
    let (status, out) = every_until("-TERM").await;
    assert!(status.success(), "{out}");
    assert!(out.ends_with("Stopped."), "{out}");
    // Two runs at least: a slow run can let the next tick come due before the signal lands.
    assert!(out.matches("Compliance sync, run").count() >= 2, "{out}");
    assert!(out.contains("(everything read whole)"), "{out}");
    assert!(
        out.contains("(only changes read)"),
        "the second run is incremental: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_with_every_stops_cleanly_on_ctrl_c() {
    let (status, out) = every_until("-INT").await;
    assert!(status.success(), "{out}");
    assert!(out.ends_with("Stopped."), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interval_under_a_second_is_refused_with_an_example() {
    let (_running, setup) = connected().await;
    let out = setup
        .trestle(&["sync", "compliance", "--every", "0s"], None)
        .await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("at least 1s, e.g. 1d"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mappings_list_what_waits_for_a_decision_and_link_takes_only_an_existing_record() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let harbor = project_id(sim, "Harbor Tower");
    let out = setup.ok(&["compliance", "mappings"]).await;
    assert!(out.contains("No Procore records seen yet"), "{out}");

    setup.sync("compliance").await;
    let waiting = setup.ok(&["compliance", "mappings", "--undecided"]).await;
    let harbor_line = waiting
        .lines()
        .find(|l| l.contains(&harbor.to_string()))
        .unwrap_or_else(|| panic!("{waiting}"));
    assert!(
        harbor_line.contains("Harbor Tower") && harbor_line.contains("undecided"),
        "{waiting}"
    );

    let refused = setup
        .trestle(
            &[
                "compliance",
                "map",
                "project",
                &harbor.to_string(),
                "link",
                "999",
            ],
            None,
        )
        .await;
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("no trestle compliance project 999")
            && text(&refused).contains("trestle compliance projects"),
        "{}",
        text(&refused)
    );

    setup
        .ok(&[
            "compliance",
            "map",
            "project",
            &harbor.to_string(),
            "import",
        ])
        .await;
    let waiting = setup.ok(&["compliance", "mappings", "--undecided"]).await;
    assert!(!waiting.contains(&harbor.to_string()), "{waiting}");
    setup.sync("compliance").await;
    let projects = setup.ok(&["compliance", "projects"]).await;
    assert!(
        projects
            .lines()
            .any(|l| l.contains("Harbor Tower") && l.contains(&harbor.to_string())),
        "{projects}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parties_lists_each_partys_compliance_today() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    let file = setup.write_file("good.json", &data);
    setup.ok(&["compliance", "import", &file]).await;

    let out = setup.ok(&["compliance", "parties"]).await;

    let line = |name: &str| {
        out.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{out}"))
            .to_string()
    };
    let acme = line("Acme Electric");
    let bolt = line("Bolt Plumbing");
    assert!(
        acme.contains("compliant") && !acme.contains("non_compliant"),
        "{out}"
    );
    assert!(bolt.contains("non_compliant"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_says_why_a_companys_compliance_is_or_is_not_in_procore() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let acme = vendor_id(sim, "Acme Electric");
    let data = compliance_dataset(acme, vendor_id(sim, "Bolt Plumbing"));
    let file = setup.write_file("good.json", &data);
    setup.ok(&["compliance", "import", &file]).await;
    let acme_arg = acme.to_string();

    setup.sync("compliance").await;
    let out = setup.ok(&["explain", "procore-company", &acme_arg]).await;
    assert!(out.contains("Insurance records"), "{out}");
    assert!(out.contains(":subject:general_liability (run"), "{out}");
    assert!(
        out.contains("(run 1, written): wrote General Liability"),
        "{out}"
    );

    setup.sync("compliance").await;
    let out = setup.ok(&["explain", "procore-company", &acme_arg]).await;
    assert!(out.contains("not written: nothing changed since"), "{out}");

    setup
        .ok(&["compliance", "settings", "--compliance-sync", "off"])
        .await;
    setup.sync("compliance").await;
    let out = setup.ok(&["explain", "procore-company", &acme_arg]).await;
    assert!(out.contains("compliance sync is off"), "{out}");
}

/// A commitment of the demo company on the Procore project `project`.
fn commitment_on(sim: &Sim, project: i64) -> i64 {
    sim.read(|w| {
        w.commitments
            .values()
            .find(|c| c.project_id == project && c.vendor_id.is_some())
            .map(|c| c.id)
    })
    .unwrap_or_else(|| panic!("no commitment on project {project}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_says_a_commitment_on_a_project_nobody_linked_waits_for_its_project() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let harbor = project_id(sim, "Harbor Tower");
    let commitment = commitment_on(sim, harbor).to_string();
    setup.sync("compliance").await;

    let out = setup
        .ok(&["explain", "procore-commitment", &commitment])
        .await;
    assert!(
        out.contains("so its project is not linked")
            && out.contains(&format!(
                "{harbor} \"Harbor Tower\" (waiting for a mapping decision)"
            ))
            && out.contains("trestle compliance map project PROCORE_ID import"),
        "{out}"
    );
    assert!(
        !out.contains("no compliance sync has decided anything"),
        "{out}"
    );
    let bolt = vendor_id(sim, "Bolt Plumbing").to_string();
    let out = setup.ok(&["explain", "procore-company", &bolt]).await;
    assert!(
        out.contains("Now: not a trestle party: it waits for a mapping decision")
            && out.contains(&format!("trestle compliance map company {bolt} import")),
        "{out}"
    );

    // Linked, its commitments are read and the association says why it exists.
    setup
        .ok(&[
            "compliance",
            "map",
            "project",
            &harbor.to_string(),
            "import",
        ])
        .await;
    setup.sync("compliance").await;
    let out = setup
        .ok(&["explain", "procore-commitment", &commitment])
        .await;
    assert!(!out.contains("not linked"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_says_what_the_compliance_side_holds_for_a_procore_project() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let harbor = project_id(sim, "Harbor Tower").to_string();
    setup
        .ok(&["compliance", "map", "project", &harbor, "import"])
        .await;
    setup.sync("compliance").await;

    let out = setup.ok(&["explain", "procore-project", &harbor]).await;
    let store = setup.store().await;
    let local = store
        .compliance_projects(demo::COMPANY_ID)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.project.procore_project_id.map(|i| i.to_string()) == Some(harbor.clone()))
        .unwrap();
    assert!(out.contains("Now: not in the workforce app."), "{out}");
    assert!(
        out.contains(&format!(
            "Now: compliance project {} \"Harbor Tower\" (active)",
            local.project.id
        )),
        "{out}"
    );
    assert!(!out.contains("Now: not in the app."), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mappings_undecided_leaves_out_records_imported_automatically() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let harbor = project_id(sim, "Harbor Tower").to_string();
    // Listed for mapping by a first sync, then imported once automatic import is on.
    setup.sync("compliance").await;
    setup
        .ok(&[
            "compliance",
            "settings",
            "--new-projects",
            "import-automatically",
        ])
        .await;
    setup.sync("compliance").await;
    let store = setup.store().await;
    let imported = store.compliance_projects(demo::COMPANY_ID).await.unwrap();
    let local = imported
        .iter()
        .find(|p| p.project.procore_project_id.map(|i| i.to_string()) == Some(harbor.clone()))
        .expect("Harbor Tower (active) was imported automatically");

    let waiting = setup.ok(&["compliance", "mappings", "--undecided"]).await;
    for p in &imported {
        let procore = p.project.procore_project_id.unwrap().to_string();
        assert!(
            !waiting
                .lines()
                .any(|l| l.starts_with("  project") && l.contains(&procore)),
            "{procore} was imported, not waiting:\n{waiting}"
        );
    }
    let all = setup.ok(&["compliance", "mappings"]).await;
    let line = all
        .lines()
        .find(|l| l.contains(&harbor))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(
        line.contains(&format!(
            "imported automatically (trestle project {})",
            local.project.id
        )),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_refuses_a_procore_id_that_does_not_exist() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    for kind in ["project", "company"] {
        let out = setup
            .trestle(&["compliance", "map", kind, "987654321", "import"], None)
            .await;
        assert!(!out.status.success(), "{}", text(&out));
        let said = text(&out);
        assert!(
            said.contains(&format!("Procore has no {kind} 987654321"))
                && said.contains("nothing was changed")
                && said.contains("run `trestle sync compliance`"),
            "{said}"
        );
    }
    let store = setup.store().await;
    for kind in [ProcoreRecordKind::Project, ProcoreRecordKind::Company] {
        assert!(store
            .mapping(demo::COMPANY_ID, kind, 987_654_321)
            .await
            .unwrap()
            .is_none());
    }

    // After a sync, the refusal points at the records trestle has read; a real one is taken.
    setup.sync("compliance").await;
    let out = setup
        .trestle(
            &["compliance", "map", "company", "987654321", "do-not-add"],
            None,
        )
        .await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("`trestle compliance mappings` lists the")
            && text(&out).contains("Procore companies trestle has read"),
        "{}",
        text(&out)
    );
    let bolt = vendor_id(sim, "Bolt Plumbing").to_string();
    setup
        .ok(&["compliance", "map", "company", &bolt, "import"])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_gets_its_profile_from_a_command_and_the_next_sync_writes_its_compliance() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let bolt = vendor_id(sim, "Bolt Plumbing");
    setup
        .ok(&["compliance", "map", "company", &bolt.to_string(), "import"])
        .await;
    setup.sync("compliance").await;
    assert!(bolt_records(sim).is_empty(), "no profile, nothing tracked");
    setup
        .ok(&[
            "compliance",
            "profile",
            "set",
            "Standard",
            "--min",
            "each-occurrence=1000000",
        ])
        .await;

    let refused = setup
        .trestle(
            &[
                "compliance",
                "party",
                "set-profile",
                "Bolt Plumbing",
                "Standrd",
            ],
            None,
        )
        .await;
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("no profile \"Standrd\"; the profiles are \"Standard\""),
        "{}",
        text(&refused)
    );

    let out = setup
        .ok(&[
            "compliance",
            "party",
            "set-profile",
            "bolt plumbing",
            "Standard",
        ])
        .await;
    assert!(out.contains("now has profile \"Standard\""), "{out}");
    setup.sync("compliance").await;
    let written = bolt_records(sim);
    assert!(
        !written.is_empty() && written.iter().all(|(_, s)| s == "non_compliant"),
        "{written:?}"
    );
    // The sync kept the profile (its party update writes only Procore's columns).
    let store = setup.store().await;
    let party = store
        .parties(demo::COMPANY_ID)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.procore_vendor_id == Some(bolt))
        .unwrap();
    assert!(party.profile_id.is_some());

    setup
        .ok(&[
            "compliance",
            "party",
            "set-profile",
            "Bolt Plumbing",
            "--none",
        ])
        .await;
    let party = store
        .party(demo::COMPANY_ID, party.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(party.profile_id, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_without_address_or_website_keeps_what_the_sync_wrote() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let acme = vendor_id(sim, "Acme Electric");
    setup
        .ok(&["compliance", "map", "company", &acme.to_string(), "import"])
        .await;
    setup.sync("compliance").await;
    let file = setup.write_file(
        "profile.json",
        &serde_json::json!({
            "version": 1,
            "profiles": [{"id": 1, "name": "Standard", "requirements": []}],
            "parties": [{"id": 1, "name": "Acme Electric", "procore_vendor_id": acme, "profile_id": 1}]
        }),
    );
    setup.ok(&["compliance", "import", &file]).await;

    let store = setup.store().await;
    let party = store
        .parties(demo::COMPANY_ID)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.procore_vendor_id == Some(acme))
        .unwrap();
    assert_eq!(
        party.address.as_deref(),
        Some("12 Spark Way, Denver, CO 80202, US")
    );
    assert_eq!(
        party.website.as_deref(),
        Some("https://acme-electric.example")
    );
    assert!(party.profile_id.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_of_without_dry_run_is_refused_and_syncs_nothing() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let before = sim.request_log().len();
    let out = setup
        .trestle(&["sync", "compliance", "--as-of", "2031-01-15"], None)
        .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("add --dry-run to preview")
            && text(&out).contains("trestle sync compliance --dry-run --as-of 2031-01-15")
            && text(&out).contains("nothing was synced"),
        "{}",
        text(&out)
    );
    assert_eq!(sim.request_log().len(), before, "Procore was not asked");
    let store = setup.store().await;
    assert!(store
        .mappings(demo::COMPANY_ID, ProcoreRecordKind::Project)
        .await
        .unwrap()
        .is_empty());

    let workforce = setup
        .trestle(
            &["sync", "workforce", "--dry-run", "--as-of", "2031-01-15"],
            None,
        )
        .await;
    assert!(!workforce.status.success());
    assert!(
        text(&workforce).contains("use it with `trestle sync compliance --dry-run`"),
        "{}",
        text(&workforce)
    );
    assert_eq!(sim.request_log().len(), before, "Procore was not asked");

    let bad = setup
        .trestle(&["compliance", "parties", "--as-of", "next month"], None)
        .await;
    assert!(!bad.status.success());
    assert!(text(&bad).contains("write YYYY-MM-DD"), "{}", text(&bad));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_as_of_a_later_date_shows_what_lapses_and_changes_nothing() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    setup
        .ok(&[
            "compliance",
            "import",
            &setup.write_file("good.json", &data),
        ])
        .await;
    setup.sync("compliance").await;
    let written = insurance_writes(sim);
    let acme_line = |out: &str| {
        out.lines()
            .find(|l| l.contains("Acme Electric"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string()
    };

    // Acme's policies end on 2030-12-31.
    let today = setup.ok(&["compliance", "parties"]).await;
    assert!(today.contains("compliance today"), "{today}");
    assert!(!acme_line(&today).contains("non_compliant"), "{today}");
    let soon = setup
        .ok(&["compliance", "parties", "--as-of", "2030-12-15"])
        .await;
    assert!(soon.contains("compliance on 2030-12-15"), "{soon}");
    assert!(acme_line(&soon).contains("expiring soon"), "{soon}");
    let lapsed = setup
        .ok(&["compliance", "parties", "--as-of", "2031-01-15"])
        .await;
    assert!(acme_line(&lapsed).contains("non_compliant"), "{lapsed}");

    let preview = setup
        .ok(&["sync", "compliance", "--dry-run", "--as-of", "2031-01-15"])
        .await;
    assert!(
        preview.contains("dry run with compliance as of 2031-01-15: nothing changed"),
        "{preview}"
    );
    let same_day = setup.ok(&["sync", "compliance", "--dry-run"]).await;
    let queued = |out: &str| {
        out.split("insurance records: ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("{out}"))
    };
    assert_eq!(queued(&same_day), 0, "{same_day}");
    assert!(
        queued(&preview) > 0,
        "Acme's lapse would be written:\n{preview}"
    );
    assert_eq!(insurance_writes(sim), written, "a preview writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_count_the_parties_not_compliant_on_a_date() {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let acme = vendor_id(sim, "Acme Electric");
    let mut data = compliance_dataset(acme, vendor_id(sim, "Bolt Plumbing"));
    data["projects"] = serde_json::json!([{"id": 10, "name": "Elm Street Clinic"}]);
    data["party_projects"] = serde_json::json!([{"party_id": 1, "project_id": 10}]);
    setup
        .ok(&[
            "compliance",
            "import",
            &setup.write_file("good.json", &data),
        ])
        .await;
    let line = |out: &str| {
        out.lines()
            .find(|l| l.contains("Elm Street Clinic"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string()
    };
    let today = setup.ok(&["compliance", "projects"]).await;
    assert!(today.contains("parties (not compliant today)"), "{today}");
    assert!(line(&today).ends_with("1 (0)"), "{today}");
    let later = setup
        .ok(&["compliance", "projects", "--as-of", "2031-01-15"])
        .await;
    assert!(
        later.contains("parties (not compliant on 2031-01-15)"),
        "{later}"
    );
    assert!(line(&later).ends_with("1 (1)"), "{later}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_field_works_by_its_label_and_a_label_no_field_has_is_named_with_those_there_are(
) {
    let (running, setup) = connected().await;
    let sim = running.sim();
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    let file = setup.write_file("good.json", &data);
    setup.ok(&["compliance", "import", &file]).await;
    setup
        .ok(&[
            "compliance",
            "settings",
            "--new-projects",
            "import-automatically",
            "--import-companies",
            "on",
            "--profile-field",
            "Compliance Tier",
        ])
        .await;
    let out = setup.sync("compliance").await;
    let definition = sim.read(|w| {
        w.custom_field_definitions
            .values()
            .find(|d| d.label == demo::COMPLIANCE_PROFILE_FIELD)
            .map(|d| d.id)
            .unwrap()
    });
    assert!(
        out.contains("setting \"profile field\": no profile applied from commitments")
            && out.contains(&format!(
                "\"Compliance Profile\" (custom_field_{definition})"
            )),
        "{out}"
    );

    // By the label the demo's administrator typed (the default), it is found: the commitment
    // naming a misspelt profile is reported, which only a field that was read can do.
    setup
        .ok(&[
            "compliance",
            "settings",
            "--profile-field",
            demo::COMPLIANCE_PROFILE_FIELD,
        ])
        .await;
    let out = setup.sync("compliance").await;
    assert!(
        !out.contains("no profile applied from commitments"),
        "{out}"
    );
    assert!(out.contains(demo::PROFILE_TYPO), "{out}");
}
