//! Incremental collection: after the first sync, Procore is asked only for what changed, and
//! the planner still sees every record through the mirror.

use super::*;
use domain::compliance::PartyProject;
use store::{MappingDecision, ProcoreRecordKind, SubjectKind};

impl App {
    /// Changes records in Procore as a user would: the change gets a later `updated_at`.
    pub(crate) fn change(
        &self,
        f: impl FnOnce(&mut procore_sim::world::World, chrono::DateTime<chrono::Utc>),
    ) {
        self.sim().advance_clock(std::time::Duration::from_secs(5));
        let now = self.sim().now();
        self.sim().write(|w| f(w, now));
    }

    /// Harbor Tower's commitments of one vendor, by id.
    pub(crate) fn commitments_of(&self, project: i64, vendor: i64) -> Vec<i64> {
        self.sim().read(|w| {
            w.commitments
                .values()
                .filter(|c| {
                    c.project_id == project && c.vendor_id == Some(vendor) && c.deleted_at.is_none()
                })
                .map(|c| c.id)
                .collect()
        })
    }

    pub(crate) async fn association(&self, vendor: i64, project: &str) -> Option<PartyProject> {
        let party = self.party_of(vendor).await.id;
        let project = self
            .store
            .compliance_projects(self.company)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.project.name == project)?
            .project
            .id;
        self.store
            .party_projects(self.company)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.party_id == party && a.project_id == project)
    }

    pub(crate) async fn full_sync(&self) -> Report {
        let mut job = self.job();
        job.full_read = true;
        sync_compliance(&job, false).await.unwrap()
    }

    /// The commitment list requests of a project in the request log: whether each asked only
    /// for changes.
    fn commitment_reads(&self, project: i64) -> Vec<bool> {
        let path = format!("/projects/{project}/commitment_contracts");
        self.sim()
            .request_log()
            .into_iter()
            .filter(|r| r.path.ends_with(&path))
            .map(|r| r.query.as_deref().unwrap_or("").contains("updated_at"))
            .collect()
    }
}

#[tokio::test]
async fn a_resync_asks_procore_only_for_changes_and_keeps_every_association() {
    let app = App::new().await;
    let first = app.sync().await;
    assert!(first.summary.full_read, "the first sync reads everything");
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.project("Harbor Tower");
    assert!(app.association(acme, "Harbor Tower").await.unwrap().active);
    // One record of each collection changes; what the next sync reads again is those (still
    // within a minute of Procore's clock, so their second may yet gain a record) and the
    // inactive vendors, a list Procore does not filter.
    let commitment = app.commitments_of(harbor, acme)[0];
    app.change(|w, now| {
        w.projects.get_mut(&harbor).unwrap().updated_at = now;
        w.vendors.get_mut(&acme).unwrap().updated_at = now;
        w.users
            .values_mut()
            .find(|u| u.vendor_id == Some(acme))
            .unwrap()
            .updated_at = now;
        w.commitments.get_mut(&commitment).unwrap().updated_at = now;
    });
    app.sync().await;

    app.sim().clear_request_log();
    let again = app.sync().await;

    assert!(!again.summary.full_read);
    let inactive_vendors = app
        .sim()
        .read(|w| w.vendors.values().filter(|v| !v.is_active).count());
    assert!(
        again.summary.records_read <= 4 + inactive_vendors,
        "read {} records again of {}",
        again.summary.records_read,
        first.summary.records_read
    );
    let harbor_reads = app.commitment_reads(harbor);
    assert!(!harbor_reads.is_empty());
    assert!(
        harbor_reads.iter().all(|incremental| *incremental),
        "a project's commitments are not read whole again"
    );
    for r in app.sim().request_log() {
        if r.path.ends_with("/projects")
            || r.path.ends_with("/users")
            || r.path.ends_with("/vendors")
        {
            assert!(
                r.query.as_deref().unwrap_or("").contains("updated_at"),
                "{} {:?} reads whole",
                r.path,
                r.query
            );
        }
    }
    assert_eq!(again.plan.changes().count(), 0, "{:#?}", again.plan);
    assert!(app.association(acme, "Harbor Tower").await.unwrap().active);
}

#[tokio::test]
async fn commitments_changed_since_the_last_sync_end_and_restore_an_association() {
    let app = App::new().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.project("Harbor Tower");
    let ids = app.commitments_of(harbor, acme);
    assert!(!ids.is_empty());

    app.change(|w, now| {
        for id in &ids {
            let c = w.commitments.get_mut(id).unwrap();
            c.status = "Draft".into();
            c.executed = false;
            c.updated_at = now;
        }
    });
    let ended = app.sync().await;
    assert!(!ended.summary.full_read);
    assert!(!app.association(acme, "Harbor Tower").await.unwrap().active);

    app.change(|w, now| {
        let c = w.commitments.get_mut(&ids[0]).unwrap();
        c.status = "Approved".into();
        c.executed = true;
        c.updated_at = now;
    });
    let restored = app.sync().await;
    assert!(!restored.summary.full_read);
    assert!(app.association(acme, "Harbor Tower").await.unwrap().active);
}

#[tokio::test]
async fn a_commitment_deleted_in_procore_is_seen_by_an_incremental_sync() {
    let app = App::new().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.project("Harbor Tower");
    let ids = app.commitments_of(harbor, acme);

    app.change(|w, now| {
        for id in &ids {
            let c = w.commitments.get_mut(id).unwrap();
            c.deleted_at = Some(now);
            c.updated_at = now;
        }
    });
    let report = app.sync().await;

    assert!(!report.summary.full_read);
    assert!(!app.association(acme, "Harbor Tower").await.unwrap().active);
    let mirrored = app.store.mirror(app.company).await.unwrap();
    for id in &ids {
        assert!(
            !mirrored
                .iter()
                .any(|r| r.kind == "commitment" && r.procore_id == *id),
            "deleted commitment {id} is still mirrored"
        );
    }
}

#[tokio::test]
async fn a_company_deactivated_in_procore_is_seen_by_an_incremental_sync() {
    let app = App::new().await;
    app.settings(|s| s.sync_active_status = true).await;
    app.sync().await;
    let bolt = app.vendor("Bolt Plumbing");
    assert!(app.party_of(bolt).await.active);

    app.change(|w, now| {
        let v = w.vendors.get_mut(&bolt).unwrap();
        v.is_active = false;
        v.updated_at = now;
    });
    let report = app.sync().await;

    assert!(!report.summary.full_read);
    assert!(!app.party_of(bolt).await.active);
}

#[tokio::test]
async fn a_project_followed_for_the_first_time_has_its_commitments_read_whole() {
    let app = App::new().await;
    let harbor = app.project("Harbor Tower");
    app.store
        .set_mapping(
            app.company,
            ProcoreRecordKind::Project,
            harbor,
            MappingDecision::DoNotAdd,
        )
        .await
        .unwrap();
    app.sync().await;
    app.sync().await;
    assert!(app
        .store
        .compliance_projects(app.company)
        .await
        .unwrap()
        .iter()
        .all(|p| p.project.name != "Harbor Tower"));

    app.store
        .set_mapping(
            app.company,
            ProcoreRecordKind::Project,
            harbor,
            MappingDecision::Import,
        )
        .await
        .unwrap();
    app.sim().clear_request_log();
    let report = app.sync().await;

    assert!(!report.summary.full_read);
    let harbor_reads = app.commitment_reads(harbor);
    assert!(!harbor_reads.is_empty());
    assert!(harbor_reads.iter().all(|incremental| !incremental));
    let acme = app.vendor("Acme Electric");
    assert!(app.association(acme, "Harbor Tower").await.unwrap().active);
}

#[tokio::test]
async fn a_full_read_forgets_what_procore_stopped_returning_without_a_change() {
    let app = App::new().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.project("Harbor Tower");
    let ids = app.commitments_of(harbor, acme);
    // Gone without a trace an incremental read could see (as a record hidden from the
    // integration user is).
    app.sim().write(|w| {
        for id in &ids {
            w.commitments.remove(id);
        }
    });

    app.sync().await;
    assert!(
        app.association(acme, "Harbor Tower").await.unwrap().active,
        "an incremental read cannot see a record vanish"
    );
    let full = app.full_sync().await;
    assert!(full.summary.full_read);
    assert!(!app.association(acme, "Harbor Tower").await.unwrap().active);
}

#[tokio::test]
async fn everything_is_read_whole_again_once_full_read_days_have_passed() {
    let app = App::new().await;
    app.settings(|s| s.full_read_days = 3).await;
    app.sync().await;
    let mut job = app.job();
    job.today = today() + chrono::Duration::days(2);
    assert!(
        !sync_compliance(&job, false)
            .await
            .unwrap()
            .summary
            .full_read
    );
    job.today = today() + chrono::Duration::days(3);
    assert!(
        sync_compliance(&job, false)
            .await
            .unwrap()
            .summary
            .full_read
    );
    job.today = today() + chrono::Duration::days(4);
    assert!(
        !sync_compliance(&job, false)
            .await
            .unwrap()
            .summary
            .full_read
    );
}

#[tokio::test]
async fn a_dry_run_leaves_the_mirror_and_its_cursors_as_they_were() {
    let app = App::new().await;
    app.sync().await;
    let mirror = app.store.mirror(app.company).await.unwrap();
    let cursors = app
        .store
        .cursors_with_prefix(app.company, "compliance.")
        .await
        .unwrap();
    let acme = app.vendor("Acme Electric");
    let harbor = app.project("Harbor Tower");
    let ids = app.commitments_of(harbor, acme);
    app.change(|w, now| {
        let c = w.commitments.get_mut(&ids[0]).unwrap();
        c.status = "Void".into();
        c.updated_at = now;
    });

    let dry = sync_compliance(&app.job(), true).await.unwrap();

    assert!(dry.summary.records_read > 0);
    assert_eq!(app.store.mirror(app.company).await.unwrap(), mirror);
    assert_eq!(
        app.store
            .cursors_with_prefix(app.company, "compliance.")
            .await
            .unwrap(),
        cursors
    );
}

#[tokio::test]
async fn an_unreadable_mirror_row_makes_the_next_sync_read_everything_whole() {
    let app = App::new().await;
    app.sync().await;
    app.sync().await;
    app.store
        .save_mirror(&store::MirrorUpdate {
            company_id: app.company,
            changes: &[store::MirrorChange::Put(store::MirrorRow {
                kind: "vendor".into(),
                procore_id: app.vendor("Acme Electric"),
                scope: None,
                body: "{not json".into(),
            })],
            cursors: &[],
            forget_cursors: &[],
        })
        .await
        .unwrap();

    let report = app.sync().await;

    assert!(report.summary.full_read);
    assert_eq!(report.plan.changes().count(), 0, "{:#?}", report.plan);
    let next = app.sync().await;
    assert!(
        !next.summary.full_read,
        "the whole read put a good row back"
    );
}

#[tokio::test]
async fn a_company_reactivated_without_a_new_change_stamp_is_seen_by_an_incremental_sync() {
    let app = App::new().await;
    app.settings(|s| s.sync_active_status = true).await;
    app.sync().await;
    let bolt = app.vendor("Bolt Plumbing");
    app.change(|w, now| {
        let v = w.vendors.get_mut(&bolt).unwrap();
        v.is_active = false;
        v.updated_at = now;
    });
    app.sync().await;
    assert!(!app.party_of(bolt).await.active);

    // Back on the active list, its updated_at as it was.
    app.sim()
        .write(|w| w.vendors.get_mut(&bolt).unwrap().is_active = true);
    let report = app.sync().await;

    assert!(!report.summary.full_read);
    assert!(app.party_of(bolt).await.active);
}

#[tokio::test]
async fn a_record_procore_sends_unusable_is_reported_every_sync_until_fixed_and_the_rest_syncs() {
    let app = App::new().await;
    let acme = app.vendor("Acme Electric");
    let bolt = app.vendor("Bolt Plumbing");
    app.sim()
        .write(|w| w.vendors.get_mut(&bolt).unwrap().name = "  ".into());
    let rejected_bolt = |r: &Report| {
        r.rejected.iter().any(|(kind, id, problem)| {
            *kind == SubjectKind::ProcoreCompany && *id == Some(bolt) && problem.contains("no name")
        })
    };

    let first = app.sync().await;
    assert!(rejected_bolt(&first), "{:?}", first.rejected);
    assert!(
        app.association(acme, "Harbor Tower").await.unwrap().active,
        "the rest synced"
    );

    let again = app.sync().await;
    assert!(!again.summary.full_read);
    assert!(
        rejected_bolt(&again),
        "still reported though Procore did not send it again: {:?}",
        again.rejected
    );
    assert_eq!(again.summary.rejected, again.rejected.len());

    app.change(|w, now| {
        let v = w.vendors.get_mut(&bolt).unwrap();
        v.name = "Bolt Plumbing & Heating".into();
        v.updated_at = now;
    });
    let fixed = app.sync().await;
    assert!(!rejected_bolt(&fixed), "{:?}", fixed.rejected);
    assert_eq!(app.party_of(bolt).await.name, "Bolt Plumbing & Heating");
}
