//! Crash tests with the real `trestle` binary: a sync that dies at any point of a form upload
//! (the process aborts, as with a power cut or `kill -9`) and is simply run again leaves exactly
//! one document in Procore, with one version per revision, recorded once in the store, and
//! without waiting for the crashed run's outbox lease to run out.

use chrono::Utc;
use common::{text, Setup};
use domain::workforce::{
    Answer, FieldKind, FormField, FormSection, FormTemplate, Signature, Submission,
};
use procore_sim::{demo, Sim};
use std::collections::BTreeSet;
use store::{LinkKind, OutboxState, Store};

mod common;

const POINTS: [&str; 3] = ["before_upload", "after_upload", "after_link"];

fn template(name: &str) -> FormTemplate {
    let field = |key: &str, label: &str, kind: FieldKind, required: bool| FormField {
        key: key.into(),
        label: label.into(),
        kind,
        required,
    };
    FormTemplate {
        id: 0,
        name: name.into(),
        sections: vec![FormSection {
            title: "Check".into(),
            fields: vec![
                field("topic", "Topic", FieldKind::Text { multiline: false }, true),
                field("lead", "Lead", FieldKind::Signature, true),
                field("supervisor", "Supervisor", FieldKind::Signature, false),
            ],
        }],
    }
}

fn signature(key: &str, name: &str) -> Signature {
    Signature {
        field_key: key.into(),
        signer_name: name.into(),
        worker_id: None,
        signed_at: Utc::now(),
        drawing: None,
    }
}

/// A completed submission on an app project, saved straight into the store.
async fn seed_completed_form(store: &Store, project_id: i64, template_name: &str) -> i64 {
    let mut t = template(template_name);
    t.id = store.save_template(demo::COMPANY_ID, &t).await.unwrap();
    let mut s = Submission::draft(0, t.id, project_id, "2026-11-20".parse().unwrap());
    s.answer(&t, "topic", Answer::Text("Crash safety".into()))
        .unwrap();
    s.sign(&t, signature("lead", "Bea Okafor")).unwrap();
    s.complete(&t, Utc::now()).unwrap();
    store.save_submission(&s).await.unwrap()
}

async fn revise(store: &Store, submission: i64) {
    let mut s = store
        .submission(procore_sim::demo::COMPANY_ID, submission)
        .await
        .unwrap()
        .unwrap();
    let t = store
        .template(procore_sim::demo::COMPANY_ID, s.template_id)
        .await
        .unwrap()
        .unwrap();
    s.sign(&t, signature("supervisor", "Morgan Lee")).unwrap();
    store.save_submission(&s).await.unwrap();
}

/// The documents in the simulator that stand for a submission: by the description marker, or
/// by the name the submission's document gets. Returns their version counts.
fn documents_of(sim: &Sim, submission: i64, name: &str) -> Vec<usize> {
    let marker = sync::workforce::upload::marker(demo::COMPANY_ID, submission);
    sim.read(|w| {
        w.files
            .values()
            .filter(|f| {
                !f.is_deleted
                    && (f.description.as_deref().is_some_and(|d| {
                        d == marker || d.starts_with(&format!("{marker} revision "))
                    }) || f.name.starts_with(name))
            })
            .map(|f| f.versions.len())
            .collect()
    })
}

/// The revision of the form Procore holds in its one document: the one the document was created
/// with (named in its description) or a later one added as a noted version, whichever is
/// highest. A document may be created at revision 2 when revision 1 never reached Procore.
fn held_revision(sim: &Sim, submission: i64) -> u32 {
    let marker = sync::workforce::upload::marker(demo::COMPANY_ID, submission);
    sim.read(|w| {
        w.files
            .values()
            .filter(|f| !f.is_deleted)
            .filter_map(|f| {
                let d = f.description.as_deref()?;
                let created = if d == marker {
                    1
                } else {
                    d.strip_prefix(&format!("{marker} revision "))?
                        .parse()
                        .ok()?
                };
                let added = f
                    .versions
                    .iter()
                    .filter_map(|v| w.file_versions.get(v)?.notes.as_deref())
                    .filter_map(|n| n.strip_prefix("trestle revision ")?.parse::<u32>().ok())
                    .max()
                    .unwrap_or(0);
                Some(created.max(added))
            })
            .max()
            .unwrap_or(0)
    })
}

/// How often the run log says a submission's upload happened.
async fn recorded_uploads(store: &Store, submission: i64) -> usize {
    store
        .history(demo::COMPANY_ID, store::SubjectKind::Form, submission)
        .await
        .unwrap()
        .iter()
        .filter(|e| matches!(e.entry.outcome.as_str(), "uploaded" | "already_uploaded"))
        .count()
}

async fn assert_uploaded_once(
    sim: &Sim,
    store: &Store,
    submission: i64,
    name: &str,
    revision: u32,
    point: &str,
) {
    let docs = documents_of(sim, submission, name);
    assert_eq!(
        docs,
        vec![revision as usize],
        "exactly one document with {revision} version(s) after a crash at {point}"
    );
    assert_eq!(
        store
            .uploaded_revision(demo::COMPANY_ID, submission)
            .await
            .unwrap(),
        Some(revision),
        "{point}"
    );
    let key = format!("form:{}:{submission}:r{revision}", demo::COMPANY_ID);
    let item = store
        .outbox_item_by_key(demo::COMPANY_ID, &key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.state, OutboxState::Done, "{point}: {item:?}");
    assert_eq!(
        item.attempts, 2,
        "claimed by the crashed run and once more by the next: {point}"
    );
    assert_eq!(
        recorded_uploads(store, submission).await,
        revision as usize,
        "the run log records each revision's upload once ({point})"
    );
    let links: Vec<_> = store
        .link_records(demo::COMPANY_ID, LinkKind::FormDocument)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.local_id == submission)
        .collect();
    assert_eq!(links.len(), 1, "{point}: {links:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_any_point_of_an_upload_and_run_again_leaves_exactly_one_document() {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    killed_at_any_point_of_an_upload(&setup, running.sim()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_sync_killed_at_any_point_of_an_upload_and_run_again_leaves_exactly_one_document(
) {
    let schema = common::PgSchema::create().await;
    let running = common::spawn_demo_sim().await;
    let setup = Setup::with_database(&running.url(), Some(&schema.url()));
    killed_at_any_point_of_an_upload(&setup, running.sim()).await;
}

/// Kills the binary at each point of a form upload, then of its revision, running it again each
/// time: one document, one version per revision, recorded once.
async fn killed_at_any_point_of_an_upload(setup: &Setup, sim: &Sim) {
    setup.connect(&["--sync-forms"]).await;

    let store = setup.store().await;
    let harbor = sim.read(|w| {
        w.projects
            .values()
            .find(|p| p.name == "Harbor Tower")
            .map(|p| p.id)
            .unwrap()
    });
    let project = *store
        .links(demo::COMPANY_ID, LinkKind::Project)
        .await
        .unwrap()
        .get(&harbor)
        .expect("the initial sync linked Harbor Tower");

    for point in POINTS {
        let name = format!("Crash {point}");
        let submission = seed_completed_form(&store, project, &name).await;

        setup.sync_crashing_at("workforce", point).await;
        setup.sync("workforce").await;
        assert_uploaded_once(sim, &store, submission, &name, 1, point).await;

        // A second revision, crashing at the same point: one file, two versions.
        revise(&store, submission).await;
        setup.sync_crashing_at("workforce", point).await;
        setup.sync("workforce").await;
        assert_uploaded_once(sim, &store, submission, &name, 2, point).await;
    }

    // Every run re-read Procore; the app still holds each worker once.
    let workers = store.workers(demo::COMPANY_ID).await.unwrap();
    let linked = store
        .links(demo::COMPANY_ID, LinkKind::Worker)
        .await
        .unwrap();
    let distinct: BTreeSet<i64> = linked.values().copied().collect();
    assert_eq!(workers.len(), linked.len());
    assert_eq!(distinct.len(), linked.len(), "no worker linked twice");
    let own_service_account =
        sim.read(|w| w.apps[demo::CLIENT_ID].installations[&demo::COMPANY_ID].service_user_id);
    let active: BTreeSet<i64> = sim.read(|w| {
        w.users
            .values()
            .filter(|u| u.company_id == demo::COMPANY_ID && u.is_active)
            // No app's service account becomes a worker.
            .filter(|u| u.service_account_of.is_none())
            .map(|u| u.id)
            .filter(|id| *id != own_service_account)
            .collect()
    });
    assert_eq!(
        linked.keys().copied().collect::<BTreeSet<_>>(),
        active,
        "one worker per active Procore user"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_after_a_crash_leaves_the_interrupted_upload_to_the_next_real_run() {
    let running = common::spawn_demo_sim().await;
    let sim = running.sim();
    let setup = Setup::new(&running.url());
    setup.connect(&["--sync-forms"]).await;
    let store = setup.store().await;
    let project = *store
        .links(demo::COMPANY_ID, LinkKind::Project)
        .await
        .unwrap()
        .values()
        .next()
        .unwrap();
    let name = "Crash then dry run";
    let submission = seed_completed_form(&store, project, name).await;

    setup.sync_crashing_at("workforce", "after_upload").await;
    let out = setup
        .trestle(&["sync", "workforce", "--dry-run"], None)
        .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        store
            .uploaded_revision(demo::COMPANY_ID, submission)
            .await
            .unwrap(),
        None,
        "a dry run finishes nothing"
    );
    setup.sync("workforce").await;
    assert_eq!(documents_of(sim, submission, name), vec![1]);
    assert_eq!(
        store
            .uploaded_revision(demo::COMPANY_ID, submission)
            .await
            .unwrap(),
        Some(1)
    );
}

/// The versions of the one document that stands for a submission: each version's notes and
/// the bytes it holds.
fn versions_of(sim: &Sim, submission: i64, name: &str) -> Vec<(Option<String>, Vec<u8>)> {
    let marker = sync::workforce::upload::marker(demo::COMPANY_ID, submission);
    sim.read(|w| {
        let files: Vec<_> = w
            .files
            .values()
            .filter(|f| {
                !f.is_deleted
                    && (f
                        .description
                        .as_deref()
                        .is_some_and(|d| d.starts_with(&marker))
                        || f.name.starts_with(name))
            })
            .collect();
        assert_eq!(files.len(), 1, "one document");
        files[0]
            .versions
            .iter()
            .map(|v| {
                let v = &w.file_versions[v];
                (v.notes.clone(), w.blobs[&v.blob].bytes.clone())
            })
            .collect()
    })
}

/// A crash after Procore created a form's document but before trestle recorded it, then a
/// revision: the next sync adopts the document, sees it holds revision 1 only, and adds
/// revision 2 as a version (today it records revision 2 with only revision 1's PDF in Procore).
async fn a_revision_after_a_crash_before_recording_the_document_is_uploaded(
    setup: &Setup,
    sim: &Sim,
) {
    setup.connect(&["--sync-forms"]).await;
    let store = setup.store().await;
    let project = *store
        .links(demo::COMPANY_ID, LinkKind::Project)
        .await
        .unwrap()
        .values()
        .next()
        .unwrap();
    // The revision's sync runs through, or is itself killed at each point and run again.
    for second_crash in [
        None,
        Some("before_upload"),
        Some("after_upload"),
        Some("after_link"),
    ] {
        let name = format!("Crash then revise {}", second_crash.unwrap_or("cleanly"));
        let name = name.as_str();
        let submission = seed_completed_form(&store, project, name).await;
        setup.sync_crashing_at("workforce", "after_upload").await;
        assert_eq!(
            documents_of(sim, submission, name),
            vec![1],
            "Procore holds revision 1"
        );
        assert_eq!(
            store
                .uploaded_revision(demo::COMPANY_ID, submission)
                .await
                .unwrap(),
            None,
            "trestle did not record it"
        );

        revise(&store, submission).await;
        if let Some(point) = second_crash {
            setup.sync_crashing_at("workforce", point).await;
        }
        let out = setup.sync("workforce").await;
        if second_crash.is_none() {
            assert!(out.contains("revision 2"), "{out}");
        }
        let versions = versions_of(sim, submission, name);
        assert_eq!(
            versions.len(),
            2,
            "revision 2 was added to the adopted document once ({second_crash:?})"
        );
        assert_eq!(versions[1].0.as_deref(), Some("trestle revision 2"));
        assert_ne!(
            versions[0].1, versions[1].1,
            "the new version holds the revised PDF"
        );
        assert_eq!(
            store
                .uploaded_revision(demo::COMPANY_ID, submission)
                .await
                .unwrap(),
            Some(2),
            "{second_crash:?}"
        );

        // Nothing is left to do, and nothing is uploaded twice.
        setup.sync("workforce").await;
        assert_eq!(documents_of(sim, submission, name), vec![2]);
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_revised_after_a_crash_that_left_its_document_unrecorded_gets_its_new_revision_uploaded(
) {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    a_revision_after_a_crash_before_recording_the_document_is_uploaded(&setup, running.sim()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_form_revised_after_a_crash_that_left_its_document_unrecorded_gets_its_new_revision_uploaded(
) {
    let schema = common::PgSchema::create().await;
    let running = common::spawn_demo_sim().await;
    let setup = Setup::with_database(&running.url(), Some(&schema.url()));
    a_revision_after_a_crash_before_recording_the_document_is_uploaded(&setup, running.sim()).await;
}

/// Runs `trestle sync workforce` until one run succeeds: with Procore failing at random a run
/// may stop early, and the next one goes on from there. Panics after `tries` failed runs.
async fn sync_until_it_succeeds(setup: &Setup, tries: usize) {
    for _ in 0..tries {
        if setup
            .trestle(&["sync", "workforce"], None)
            .await
            .status
            .success()
        {
            return;
        }
    }
    panic!("no sync succeeded in {tries} tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_procore_failing_at_random_a_sync_killed_at_any_point_of_an_upload_still_leaves_one_document(
) {
    let running = common::spawn_demo_sim().await;
    let sim = running.sim();
    let setup = Setup::new(&running.url());
    setup.connect(&["--sync-forms"]).await;
    let store = setup.store().await;
    let project = *store
        .links(demo::COMPANY_ID, LinkKind::Project)
        .await
        .unwrap()
        .values()
        .next()
        .unwrap();
    // 5xx before handling, 5xx after a write was applied, and answers lost after a write:
    // what makes a retried write dangerous.
    sim.set_faults(procore_sim::Faults {
        error_rate: 0.1,
        error_after_write_rate: 0.2,
        drop_after_write_rate: 0.1,
        ..Default::default()
    });
    let mut forms = Vec::new();
    for point in POINTS {
        let name = format!("Faulty {point}");
        let submission = seed_completed_form(&store, project, &name).await;
        // Killed at the point (or failed before it by a fault), then run until a run succeeds;
        // the same for the revision.
        setup.trestle(&["sync", "workforce"], Some(point)).await;
        sync_until_it_succeeds(&setup, 20).await;
        revise(&store, submission).await;
        setup.trestle(&["sync", "workforce"], Some(point)).await;
        sync_until_it_succeeds(&setup, 20).await;
        forms.push((submission, name));
    }
    sim.set_faults(procore_sim::Faults::default());
    setup.sync("workforce").await;
    for (submission, name) in &forms {
        // Exactly one document, holding the revisions trestle recorded; a revision whose write
        // had an unknown outcome waits for its retry (after a delay, so not in this test's
        // runs) and is never recorded before Procore holds it.
        let docs = documents_of(sim, *submission, name);
        assert_eq!(docs.len(), 1, "{name}: one document, not {docs:?}");
        let held = held_revision(sim, *submission);
        let recorded = store
            .uploaded_revision(demo::COMPANY_ID, *submission)
            .await
            .unwrap();
        assert_eq!(
            recorded,
            Some(held),
            "{name}: the recorded revision is the one Procore holds"
        );
        if held == 1 {
            let key = format!("form:{}:{submission}:r2", demo::COMPANY_ID);
            let item = store
                .outbox_item_by_key(demo::COMPANY_ID, &key)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                item.state,
                OutboxState::Pending,
                "{name}: revision 2 waits for its retry"
            );
        }
    }
    store.close().await;
}
