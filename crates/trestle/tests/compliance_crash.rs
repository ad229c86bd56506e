//! Crash tests of the compliance write-back with the real `trestle` binary: a compliance sync
//! that dies at any point of an insurance write (the process aborts, as with a power cut or
//! `kill -9`) and is simply run again leaves exactly one insurance record per subject and level
//! in Procore, recorded in the store, and a further sync writes nothing. One that dies at any
//! point of an insurance removal and its log entry, run again, leaves the record gone from
//! Procore and from the store, and the run log's last word on it is "removed".

use common::{spawn_demo_sim, trestle_insurances, Setup};
use procore_sim::{demo, Sim};
use std::collections::{BTreeMap, BTreeSet};
use store::Store;

mod common;

const POINTS: [&str; 3] = ["before_upload", "after_upload", "after_link"];
const SUBJECTS: [&str; 2] = ["general_liability", "automobile_liability"];

/// The origin ids trestle must have written for the party linked to `vendor`: one per subject
/// globally and on each of its active associations, with the Procore project of each (`None`
/// for the company level).
async fn expected_origins(store: &Store, vendor: i64) -> BTreeMap<String, Option<i64>> {
    let company = demo::COMPANY_ID;
    let party = store
        .parties(company)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.procore_vendor_id == Some(vendor))
        .expect("the imported party is linked to its Procore company");
    let projects: BTreeMap<_, _> = store
        .compliance_projects(company)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.project.id, p.project.procore_project_id))
        .collect();
    let mut levels = vec![(format!("trestle:party:{}", party.id), None)];
    for pp in store.party_projects(company).await.unwrap() {
        if pp.party_id == party.id && pp.active {
            levels.push((
                format!("trestle:party:{}:project:{}", party.id, pp.project_id),
                Some(projects[&pp.project_id].expect("an imported project is linked")),
            ));
        }
    }
    assert!(
        levels.len() > 1,
        "the party has a project-level association too: {levels:?}"
    );
    levels
        .into_iter()
        .flat_map(|(prefix, project)| {
            SUBJECTS
                .iter()
                .map(move |s| (format!("{prefix}:subject:{s}"), project))
        })
        .collect()
}

async fn assert_one_record_per_subject_and_level(
    sim: &Sim,
    store: &Store,
    vendor: i64,
    point: &str,
) {
    let in_procore = trestle_insurances(sim);
    for (origin, project) in expected_origins(store, vendor).await {
        let found: Vec<_> = in_procore
            .iter()
            .filter(|i| i.origin_id.as_deref() == Some(origin.as_str()))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{point}: exactly one record in Procore for {origin}: {found:?}"
        );
        assert_eq!(found[0].vendor_id, vendor, "{point}: {origin}");
        assert_eq!(found[0].project_id, project, "{point}: {origin}");
        let recorded = store
            .insurance_write(demo::COMPANY_ID, &origin)
            .await
            .unwrap();
        assert!(recorded.is_some(), "{point}: the store recorded {origin}");
    }
    // Nothing else for the vendor, and no origin id twice anywhere.
    let per_vendor: Vec<_> = in_procore
        .iter()
        .filter(|i| i.vendor_id == vendor)
        .collect();
    assert_eq!(
        per_vendor.len(),
        expected_origins(store, vendor).await.len(),
        "{point}: {per_vendor:?}"
    );
    let distinct: BTreeSet<_> = in_procore.iter().map(|i| i.origin_id.clone()).collect();
    assert_eq!(distinct.len(), in_procore.len(), "{point}: no duplicate");
}

fn insurance_requests(sim: &Sim) -> usize {
    sim.request_log()
        .iter()
        .filter(|r| r.path.contains("insurances"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compliance_sync_killed_at_any_point_of_an_insurance_write_and_run_again_writes_each_record_once(
) {
    killed_at_any_point_of_an_insurance_write(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_compliance_sync_killed_at_any_point_of_an_insurance_write_and_run_again_writes_each_record_once(
) {
    killed_at_any_point_of_an_insurance_write(true).await;
}

/// Connects the demo company and turns compliance on ([`Setup::with_compliance`]): the state
/// every case here starts from. Returns the Procore ids of Acme and Bolt.
async fn connected_with_compliance(setup: &Setup, sim: &Sim) -> (i64, i64) {
    setup.connect(&["--no-sync"]).await;
    setup.with_compliance(sim).await
}

/// A store for one case: a fresh PostgreSQL schema (dropped with the guard), or SQLite in the
/// setup's folder.
async fn setup_on(sim_url: &str, postgres: bool) -> (Setup, Option<common::PgSchema>) {
    let schema = match postgres {
        true => Some(common::PgSchema::create().await),
        false => None,
    };
    let url = schema.as_ref().map(common::PgSchema::url);
    (Setup::with_database(sim_url, url.as_deref()), schema)
}

async fn killed_at_any_point_of_an_insurance_write(postgres: bool) {
    for point in POINTS {
        let running = spawn_demo_sim().await;
        let sim = running.sim();
        let (setup, _schema) = setup_on(&running.url(), postgres).await;
        let (acme, bolt) = connected_with_compliance(&setup, sim).await;

        // The first sync brings the associations in and dies at the first insurance write (one
        // batch `sync` call: nothing reached Procore before it, the whole call after it).
        setup.sync_crashing_at("compliance", point).await;
        let reached_procore = trestle_insurances(sim).len();
        if point == "before_upload" {
            assert_eq!(
                reached_procore, 0,
                "{point}: the crash came before the first write"
            );
        } else {
            assert!(
                reached_procore > 0,
                "{point}: the crash came after the first write"
            );
        }
        let store = setup.store().await;
        setup.sync("compliance").await;
        assert_one_record_per_subject_and_level(sim, &store, acme, point).await;
        assert_one_record_per_subject_and_level(sim, &store, bolt, point).await;

        let before = insurance_requests(sim);
        let records = trestle_insurances(sim);
        let out = setup.sync("compliance").await;
        assert!(
            out.contains("insurance records: 0 queued, 0 written, 0 removed, 0 failed"),
            "{point}: a further sync writes nothing:\n{out}"
        );
        assert_eq!(insurance_requests(sim), before, "{point}");
        assert_eq!(
            format!("{:?}", trestle_insurances(sim)),
            format!("{records:?}"),
            "{point}"
        );
        store.close().await;
    }
}

const REMOVAL_POINTS: [&str; 4] = ["before_upload", "after_upload", "after_log", "after_link"];

/// The newest outcome the run log holds for the write-back of `origin` (a write or a removal
/// as drained; the plan's "queued" entries and skips aside).
async fn last_drain_outcome(store: &Store, vendor: i64, origin: &str) -> Option<String> {
    store
        .history(demo::COMPANY_ID, store::SubjectKind::Insurance, vendor)
        .await
        .unwrap()
        .into_iter()
        .find(|e| {
            matches!(
                e.entry.action.as_str(),
                "write_insurance" | "remove_insurance"
            ) && e.entry.outcome != "queued"
                && e.entry
                    .detail_json
                    .as_deref()
                    .is_some_and(|d| d.contains(&format!("\"{origin}\"")))
        })
        .map(|e| e.entry.outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compliance_sync_killed_at_any_point_of_an_insurance_removal_and_run_again_removes_it_and_logs_it_removed(
) {
    killed_at_any_point_of_an_insurance_removal(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_compliance_sync_killed_at_any_point_of_an_insurance_removal_and_run_again_removes_it_and_logs_it_removed(
) {
    killed_at_any_point_of_an_insurance_removal(true).await;
}

async fn killed_at_any_point_of_an_insurance_removal(postgres: bool) {
    for point in REMOVAL_POINTS {
        let running = spawn_demo_sim().await;
        let sim = running.sim();
        let (setup, _schema) = setup_on(&running.url(), postgres).await;
        connected_with_compliance(&setup, sim).await;
        setup.sync("compliance").await;
        let written = trestle_insurances(sim);
        let company_level: Vec<_> = written.iter().filter(|i| i.project_id.is_none()).collect();
        let removed: Vec<(i64, String)> = written
            .iter()
            .filter(|i| i.project_id.is_some())
            .map(|i| (i.vendor_id, i.origin_id.clone().unwrap()))
            .collect();
        assert!(!removed.is_empty(), "project-level records were written");

        // Project-level records are no longer sent: each is removed. The sync dies at `point`
        // of the first removal.
        setup
            .ok(&["compliance", "settings", "--level", "parties-only"])
            .await;
        setup.sync_crashing_at("compliance", point).await;
        let left = trestle_insurances(sim)
            .iter()
            .filter(|i| i.project_id.is_some())
            .count();
        if point == "before_upload" {
            assert_eq!(left, removed.len(), "{point}: nothing deleted yet");
        } else {
            assert_eq!(left, removed.len() - 1, "{point}: the first one is deleted");
        }

        setup.sync("compliance").await;
        let store = setup.store().await;
        let now = trestle_insurances(sim);
        assert!(
            now.iter().all(|i| i.project_id.is_none()),
            "{point}: every project-level record is gone: {now:?}"
        );
        assert_eq!(now.len(), company_level.len(), "{point}: the others stay");
        for (vendor, origin) in &removed {
            assert!(
                store
                    .insurance_write(demo::COMPANY_ID, origin)
                    .await
                    .unwrap()
                    .is_none(),
                "{point}: the store no longer holds {origin} as written"
            );
            assert_eq!(
                last_drain_outcome(&store, *vendor, origin).await.as_deref(),
                Some("removed"),
                "{point}: the run log's last word on {origin}"
            );
        }
        let out = setup.sync("compliance").await;
        assert!(
            out.contains("insurance records: 0 queued, 0 written, 0 removed, 0 failed"),
            "{point}: a further sync changes nothing:\n{out}"
        );
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_with_procore_failing_at_random_a_killed_compliance_sync_never_writes_a_record_twice(
) {
    let running = spawn_demo_sim().await;
    let sim = running.sim();
    let (setup, _schema) = setup_on(&running.url(), true).await;
    let (acme, bolt) = connected_with_compliance(&setup, sim).await;
    // 5xx before handling, 5xx after a write was applied, and answers lost after a write.
    sim.set_faults(procore_sim::Faults {
        error_rate: 0.1,
        error_after_write_rate: 0.2,
        drop_after_write_rate: 0.1,
        ..Default::default()
    });
    for point in POINTS {
        setup.trestle(&["sync", "compliance"], Some(point)).await;
        let mut succeeded = false;
        for _ in 0..20 {
            if setup
                .trestle(&["sync", "compliance"], None)
                .await
                .status
                .success()
            {
                succeeded = true;
                break;
            }
        }
        assert!(succeeded, "{point}: a sync succeeded in 20 tries");
    }
    sim.set_faults(procore_sim::Faults::default());
    setup.sync("compliance").await;

    // Never a record twice, and nothing recorded as written that Procore does not hold; a
    // write whose outcome was unknown waits for its retry rather than being guessed.
    let store = setup.store().await;
    let in_procore = trestle_insurances(sim);
    let distinct: BTreeSet<_> = in_procore.iter().map(|i| i.origin_id.clone()).collect();
    assert_eq!(
        distinct.len(),
        in_procore.len(),
        "no duplicate: {in_procore:?}"
    );
    for vendor in [acme, bolt] {
        for (origin, project) in expected_origins(&store, vendor).await {
            let found: Vec<_> = in_procore
                .iter()
                .filter(|i| i.origin_id.as_deref() == Some(origin.as_str()))
                .collect();
            assert!(found.len() <= 1, "{origin}: {found:?}");
            if let Some(record) = found.first() {
                assert_eq!(record.vendor_id, vendor, "{origin}");
                assert_eq!(record.project_id, project, "{origin}");
            } else {
                assert!(
                    store
                        .insurance_write(demo::COMPANY_ID, &origin)
                        .await
                        .unwrap()
                        .is_none(),
                    "{origin} is recorded as written but Procore lacks it"
                );
            }
        }
    }
    store.close().await;
}
