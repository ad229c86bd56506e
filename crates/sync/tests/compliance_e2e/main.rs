//! The compliance integration end to end against the simulator's demo company: collect, plan,
//! apply, and the insurance write-back.
//!
//! `incremental`: later syncs read only what changed and still plan over every record.
//! `removal`: records trestle no longer reports are taken out of Procore.
//! `hostile`: arbitrary Procore text and numbers never stop a sync.
//! `nulls`: fields Procore may send as `null`, nulled at random, never reject a record.
//! `profile_field`: the profile field found by the label an administrator typed in Procore.
//! `targeted`: syncs of the records webhook deliveries named.

use chrono::NaiveDate;
use domain::compliance::{Certificate, Contact, Party, PartyId, ProfileId, WriteBackFormat};
use procore_sim::{demo, Sim, SimConfig};
use std::collections::BTreeMap;
use store::{ComplianceBatch, ComplianceChange, Store};
use sync::compliance::settings::{ContactSync, SyncLevel};
use sync::compliance::{load_settings, save_settings};
use sync::compliance::{
    sync_compliance, Action, ComplianceJob, ComplianceSettings, NewProjects, Reason, Report,
};
use testkit::{Backend, Database, Kit};

mod drift;
mod hostile;
mod incremental;
mod nulls;
mod oversized;
mod profile_field;
mod removal;
mod targeted;
mod writeback;

fn today() -> NaiveDate {
    "2026-11-22".parse().unwrap()
}

struct App {
    sim: procore_sim::Running,
    store: Store,
    client: procore::Client,
    company: i64,
    database: Database,
}

impl App {
    /// The demo company with a "Standard Subcontractor" profile, Acme (with a certificate
    /// meeting it) and Bolt (with none) as parties linked to their Procore companies, and
    /// projects and companies imported automatically.
    async fn new() -> App {
        Self::on(Backend::Sqlite).await
    }

    /// [`App::new`] with its store on `backend`.
    async fn on(backend: Backend) -> App {
        Self::on_with(backend, testkit::quiet()).await
    }

    /// [`App::on`] with its own simulator settings.
    async fn on_with(backend: Backend, config: SimConfig) -> App {
        let Kit {
            sim,
            store,
            client,
            company,
            database,
            ..
        } = Kit::spawn(demo::world(), config, backend, |_| {}).await;
        let app = App {
            sim,
            store,
            client,
            company,
            database,
        };
        app.seed().await;
        app.settings(|s| {
            s.new_projects = NewProjects::ImportAutomatically;
            s.import_companies_through_commitments = true;
        })
        .await;
        app
    }

    /// Drops the app's PostgreSQL schema (a SQLite folder goes with the value).
    async fn remove(self) {
        self.database.remove().await;
    }

    fn sim(&self) -> &Sim {
        self.sim.sim()
    }

    fn vendor(&self, name: &str) -> i64 {
        self.sim()
            .read(|w| w.vendors.values().find(|v| v.name == name).map(|v| v.id))
            .unwrap()
    }

    fn project(&self, name: &str) -> i64 {
        self.sim()
            .read(|w| w.projects.values().find(|p| p.name == name).map(|p| p.id))
            .unwrap()
    }

    async fn seed(&self) {
        testkit::compliance::seed(&self.store, self.company, |name| self.vendor(name)).await;
    }

    /// Gives a party a certificate meeting the standard profile.
    async fn certify(&self, party: PartyId) {
        testkit::compliance::certify(&self.store, self.company, party).await;
    }

    async fn settings(&self, f: impl FnOnce(&mut ComplianceSettings)) {
        let mut s = load_settings(&self.store, self.company).await.unwrap();
        f(&mut s);
        save_settings(&self.store, self.company, &s).await.unwrap();
    }

    /// The job as the CLI runs it.
    fn job(&self) -> ComplianceJob<'_> {
        ComplianceJob {
            client: &self.client,
            store: &self.store,
            company_id: self.company,
            today: today(),
            full_read: false,
            reclaim_leases: true,
            crash_at: None,
            progress: None,
        }
    }

    async fn sync(&self) -> Report {
        sync_compliance(&self.job(), false).await.unwrap()
    }

    async fn party_of(&self, vendor: i64) -> Party {
        self.store
            .parties(self.company)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.procore_vendor_id == Some(vendor))
            .unwrap()
    }

    /// trestle's insurance records in Procore: (vendor, project, origin id, type, status, notes).
    fn written(&self) -> Vec<procore_sim::world::Insurance> {
        self.sim().read(|w| {
            w.insurances
                .values()
                .filter(|i| {
                    i.origin_id
                        .as_deref()
                        .is_some_and(|o| o.starts_with("trestle:"))
                })
                .cloned()
                .collect()
        })
    }

    /// The trestle contacts of the party linked to a Procore company.
    async fn contacts_of(&self, vendor: i64) -> Vec<Contact> {
        let party = self.party_of(vendor).await.id;
        self.store
            .contacts(self.company)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.party_id == party)
            .collect()
    }

    /// Insurance writes and removals sent (a whole read also lists insurances, to compare).
    fn insurance_write_requests(&self) -> usize {
        self.sim()
            .request_log()
            .iter()
            .filter(|r| r.path.contains("insurances") && r.method != "GET")
            .count()
    }

    fn insurance_requests(&self) -> usize {
        self.sim()
            .request_log()
            .iter()
            .filter(|r| r.path.contains("insurances"))
            .count()
    }
}

#[tokio::test]
async fn associations_come_from_active_commitments_only() {
    let app = App::new().await;
    app.sync().await;
    let harbor = app
        .store
        .compliance_projects(app.company)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.project.name == "Harbor Tower")
        .unwrap()
        .project;
    let on_harbor: Vec<_> = app
        .store
        .party_projects(app.company)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.project_id == harbor.id && a.active)
        .collect();
    // Active: SC Approved and Complete, PO Partially Received, Received and Approved, spread
    // over Acme, Bolt and Delta; drafts, bids, terminated, void and closed ones are not.
    assert_eq!(on_harbor.len(), 3, "{on_harbor:?}");
    let commitments: usize = on_harbor
        .iter()
        .map(|a| a.procore_commitment_ids.len())
        .sum();
    assert_eq!(commitments, 5);
    let delta = app.party_of(app.vendor("Delta Drywall")).await;
    assert!(on_harbor.iter().any(|a| a.party_id == delta.id));
    assert!(on_harbor
        .iter()
        .all(|a| a.profile_id.is_some_and(|p| p != ProfileId(0))));
}

#[tokio::test]
async fn the_misspelt_profile_is_reported_with_the_closest_names() {
    let app = App::new().await;
    let report = app.sync().await;
    let typo = report
        .plan
        .actions
        .iter()
        .find_map(|a| match a {
            Action::Skip {
                reason: Reason::UnknownProfile { value, closest, .. },
                ..
            } if value == demo::PROFILE_TYPO => Some(closest.clone()),
            _ => None,
        })
        .expect("the misspelt profile is reported");
    assert_eq!(
        typo.first().map(String::as_str),
        Some(demo::PROFILE_STANDARD)
    );
}

#[tokio::test]
async fn write_back_creates_one_record_per_subject_at_company_and_project_level() {
    let app = App::new().await;
    app.sync().await;
    app.sync().await;
    let written = app.written();
    let acme = app.vendor("Acme Electric");
    let bolt = app.vendor("Bolt Plumbing");
    let harbor = app.project("Harbor Tower");
    let of = |vendor: i64, project: Option<i64>| -> Vec<_> {
        written
            .iter()
            .filter(|i| i.vendor_id == vendor && i.project_id == project)
            .collect()
    };
    for vendor in [acme, bolt] {
        assert_eq!(of(vendor, None).len(), 2, "two subjects globally");
        assert_eq!(of(vendor, Some(harbor)).len(), 2, "two subjects on Harbor");
    }
    assert!(of(acme, None)
        .iter()
        .all(|i| i.status.as_deref() == Some("compliant")));
    assert!(of(bolt, None)
        .iter()
        .all(|i| i.status.as_deref() != Some("compliant")));
    let mut origins: Vec<_> = written.iter().map(|i| i.origin_id.clone()).collect();
    let all = origins.len();
    origins.sort();
    origins.dedup();
    assert_eq!(origins.len(), all, "one record per origin id");
}

#[tokio::test]
async fn a_second_sync_with_no_change_writes_nothing() {
    let app = App::new().await;
    app.sync().await;
    app.sync().await;
    app.sim().clear_request_log();
    let report = app.sync().await;
    assert_eq!(report.summary.insurance_written, 0);
    assert_eq!(app.insurance_requests(), 0);
}

#[tokio::test]
async fn a_manual_edit_in_procore_is_overwritten_on_the_next_change() {
    let app = App::new().await;
    app.sync().await;
    let bolt = app.vendor("Bolt Plumbing");
    let edited = app
        .written()
        .into_iter()
        .find(|i| i.vendor_id == bolt && i.project_id.is_none())
        .unwrap();
    app.sim().write(|w| {
        let i = w.insurances.get_mut(&edited.id).unwrap();
        i.status = Some("compliant".into());
        i.notes = Some("edited by hand".into());
    });
    app.certify(app.party_of(bolt).await.id).await;
    app.sync().await;
    let now = app
        .written()
        .into_iter()
        .find(|i| i.id == edited.id)
        .unwrap();
    assert_ne!(now.notes.as_deref(), Some("edited by hand"));
    assert_eq!(now.status.as_deref(), Some("compliant"));
    assert_eq!(
        app.written()
            .iter()
            .filter(|i| i.origin_id == edited.origin_id)
            .count(),
        1
    );
}

#[tokio::test]
async fn compliance_sync_off_writes_nothing() {
    let app = App::new().await;
    app.settings(|s| s.compliance_sync = false).await;
    app.sync().await;
    let report = app.sync().await;
    assert!(app.written().is_empty());
    assert_eq!(app.insurance_requests(), 0);
    assert!(report.plan.actions.iter().any(|a| matches!(
        a,
        Action::Skip {
            reason: Reason::ComplianceSyncOff,
            ..
        }
    )));
}

#[tokio::test]
async fn the_summary_format_writes_one_record_per_party_and_party_project() {
    let app = App::new().await;
    app.settings(|s| s.format = WriteBackFormat::Summary).await;
    app.sync().await;
    app.sync().await;
    let written = app.written();
    assert!(
        written.iter().all(|i| i
            .origin_id
            .as_deref()
            .is_some_and(|o| o.ends_with(":summary"))),
        "only summary records: {written:?}"
    );
    let parties = app.store.parties(app.company).await.unwrap();
    let projects = app.store.compliance_projects(app.company).await.unwrap();
    let procore_project = |id| {
        projects
            .iter()
            .find(|p| p.project.id == id)
            .and_then(|p| p.project.procore_project_id)
    };
    let active: Vec<_> = app
        .store
        .party_projects(app.company)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.active)
        .collect();
    assert!(!active.is_empty());
    let of = |vendor: i64, project: Option<i64>| -> Vec<_> {
        written
            .iter()
            .filter(|i| i.vendor_id == vendor && i.project_id == project)
            .collect()
    };
    let mut expected = 0;
    for party in parties.iter().filter(|p| p.procore_vendor_id.is_some()) {
        let vendor = party.procore_vendor_id.unwrap();
        assert_eq!(
            of(vendor, None).len(),
            1,
            "one global record for {}",
            party.name
        );
        expected += 1;
        for a in active.iter().filter(|a| a.party_id == party.id) {
            let project = procore_project(a.project_id);
            assert!(project.is_some());
            assert_eq!(
                of(vendor, project).len(),
                1,
                "one record for {} on {project:?}",
                party.name
            );
            expected += 1;
        }
    }
    // Acme, Bolt and Delta globally, and each of them on Harbor Tower.
    assert_eq!(expected, 6);
    assert_eq!(written.len(), expected, "{written:?}");
    let harbor = app.project("Harbor Tower");
    let acme = app.vendor("Acme Electric");
    let bolt = app.vendor("Bolt Plumbing");
    for project in [None, Some(harbor)] {
        let a = of(acme, project)[0];
        assert_eq!(a.status.as_deref(), Some("compliant"), "{a:?}");
        let b = of(bolt, project)[0];
        assert_eq!(b.status.as_deref(), Some("non_compliant"), "{b:?}");
        let notes = b.notes.as_deref().unwrap_or_default();
        assert!(notes.contains("General Liability"), "{notes}");
        assert!(notes.contains("Automobile Liability"), "{notes}");
        let notes = a.notes.as_deref().unwrap_or_default();
        assert!(!notes.contains("Non-compliant subjects"), "{notes}");
    }
}

#[tokio::test]
async fn do_not_sync_contacts_brings_no_contacts() {
    let app = App::new().await;
    assert_eq!(
        load_settings(&app.store, app.company)
            .await
            .unwrap()
            .contacts,
        ContactSync::DoNotSync
    );
    let report = app.sync().await;
    assert!(app.store.contacts(app.company).await.unwrap().is_empty());
    assert_eq!(report.summary.contacts_created, 0);
    assert!(report.plan.actions.iter().any(|a| matches!(
        a,
        Action::Skip {
            reason: Reason::ContactSyncOff,
            ..
        }
    )));
}

#[tokio::test]
async fn all_contacts_with_an_email_are_synced_and_the_primary_is_marked() {
    let app = App::new().await;
    app.settings(|s| s.contacts = ContactSync::AllSetPrimary)
        .await;
    let report = app.sync().await;
    let names = |cs: &[Contact]| -> Vec<(String, bool)> {
        let mut v: Vec<_> = cs
            .iter()
            .map(|c| (c.first_name.clone().unwrap_or_default(), c.primary))
            .collect();
        v.sort();
        v
    };
    let acme = app.contacts_of(app.vendor("Acme Electric")).await;
    assert_eq!(
        names(&acme),
        [("Alice".to_owned(), true), ("Ben".to_owned(), false)]
    );
    let delta = app.contacts_of(app.vendor("Delta Drywall")).await;
    assert_eq!(
        names(&delta),
        [("Dev".to_owned(), true)],
        "Dora has no email"
    );
    assert!(
        app.contacts_of(app.vendor("Bolt Plumbing"))
            .await
            .is_empty(),
        "Bolt's only contact has no email"
    );
    let all = app.store.contacts(app.company).await.unwrap();
    assert!(all
        .iter()
        .all(|c| c.email.is_some() && c.procore_contact_id.is_some()));
    assert_eq!(report.summary.contacts_created, all.len());
    assert!(report.plan.actions.iter().any(|a| matches!(
        a,
        Action::Skip {
            reason: Reason::ContactHasNoEmail,
            ..
        }
    )));
    let again = app.sync().await;
    assert_eq!(again.summary.contacts_created, 0);
    assert_eq!(again.summary.contacts_updated, 0);
    assert_eq!(
        app.store.contacts(app.company).await.unwrap().len(),
        all.len()
    );
}

#[tokio::test]
async fn only_the_primary_contact_syncs_and_a_company_without_one_gets_none_and_says_so() {
    let app = App::new().await;
    app.settings(|s| s.contacts = ContactSync::PrimaryOnly)
        .await;
    let report = app.sync().await;
    let acme = app.contacts_of(app.vendor("Acme Electric")).await;
    assert_eq!(acme.len(), 1, "{acme:?}");
    assert_eq!(acme[0].first_name.as_deref(), Some("Alice"));
    assert!(acme[0].primary);
    let delta = app.contacts_of(app.vendor("Delta Drywall")).await;
    assert_eq!(delta.len(), 1, "{delta:?}");
    assert_eq!(delta[0].first_name.as_deref(), Some("Dev"));
    assert!(delta[0].primary);
    assert!(app
        .contacts_of(app.vendor("Bolt Plumbing"))
        .await
        .is_empty());
    assert!(report.plan.actions.iter().any(|a| matches!(
        a,
        Action::Skip {
            reason: Reason::NotThePrimaryContact,
            ..
        }
    )));
    let no_primary: Vec<String> = report
        .plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Skip {
                reason: reason @ Reason::NoPrimaryContact,
                ..
            } => Some(reason.to_string()),
            _ => None,
        })
        .collect();
    assert!(!no_primary.is_empty(), "Bolt's skip is reported");
    assert!(
        no_primary.iter().all(|r| r.contains("no primary contact")),
        "{no_primary:?}"
    );
}

#[tokio::test]
async fn the_level_setting_limits_which_records_are_written() {
    let app = App::new().await;
    app.settings(|s| s.level = SyncLevel::ProjectsOnly).await;
    app.sync().await;
    let report = app.sync().await;
    let written = app.written();
    assert!(!written.is_empty());
    assert!(
        written.iter().all(|i| i.project_id.is_some()),
        "{written:?}"
    );
    assert!(report.plan.actions.iter().any(|a| matches!(
        a,
        Action::Skip {
            reason: Reason::LevelExcludes { .. },
            ..
        }
    )));

    let app = App::new().await;
    app.settings(|s| s.level = SyncLevel::PartiesOnly).await;
    app.sync().await;
    app.sync().await;
    let written = app.written();
    assert!(!written.is_empty());
    assert!(
        written.iter().all(|i| i.project_id.is_none()),
        "{written:?}"
    );
}

#[tokio::test]
async fn a_contact_with_a_fax_in_procore_arrives_with_it() {
    let app = App::new().await;
    app.settings(|s| s.contacts = ContactSync::AllSetPrimary)
        .await;
    app.sync().await;
    let acme = app.contacts_of(app.vendor("Acme Electric")).await;
    let fax_of = |contacts: &[Contact], name: &str| {
        contacts
            .iter()
            .find(|c| c.first_name.as_deref() == Some(name))
            .unwrap()
            .fax
            .clone()
    };
    assert_eq!(fax_of(&acme, "Alice").as_deref(), Some("+1 555 0202"));
    assert_eq!(fax_of(&acme, "Ben"), None);

    // A fax given later in Procore arrives with the next sync, which reads only the change.
    app.change(|w, now| {
        let ben = w
            .users
            .values_mut()
            .find(|u| u.first_name.as_deref() == Some("Ben"))
            .unwrap();
        ben.fax_number = Some("+1 555 0204".into());
        ben.updated_at = now;
    });
    let report = app.sync().await;
    assert!(!report.summary.full_read);
    assert_eq!(report.summary.contacts_updated, 1);
    let acme = app.contacts_of(app.vendor("Acme Electric")).await;
    assert_eq!(fax_of(&acme, "Ben").as_deref(), Some("+1 555 0204"));
}
