//! The compliance commands with the real `trestle` binary: `compliance import` (a good file and
//! refused ones), `compliance map ... do-not-add` and `compliance settings --compliance-sync off`,
//! each checked by what a later sync does.

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

fn insurance_requests(sim: &Sim) -> usize {
    sim.request_log()
        .iter()
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
            "1 profiles, 2 parties, 0 projects, 0 associations, 0 contacts, 1 certificates, 0 waivers."
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
    assert_eq!(counts(&store).await[..3], [1, 2, 0]);
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
    assert!(out.contains("Now: not in the app."), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_compliance_sync_off_a_sync_writes_no_insurance() {
    let (running, setup) = connected().await;
    let sim = running.sim();
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
        out.contains("insurance records: 0 queued, 0 written, 0 failed"),
        "{out}"
    );
    setup.sync("compliance").await;
    assert_eq!(insurance_requests(sim), 0, "no insurance request at all");
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
