//! The insurance write-back over time and under refusal: expiry is a change, an item Procore
//! refuses inside a batched `sync` call holds up nothing else, and the contacts mode that syncs
//! every contact without setting a primary one.

use super::*;
use domain::compliance::ProcoreInsuranceStatus;
use store::{OutboxItem, OutboxState};
use sync::compliance::WRITE_INSURANCE;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// What a reader sees of an insurance record in Procore.
type Seen = (i64, Option<String>, Option<String>);

fn seen(records: &[procore_sim::world::Insurance]) -> Vec<Seen> {
    let mut v: Vec<Seen> = records
        .iter()
        .map(|i| (i.id, i.status.clone(), i.notes.clone()))
        .collect();
    v.sort();
    v
}

impl App {
    /// A sync evaluating on another day (Procore's data unchanged).
    async fn sync_on(&self, today: &str) -> Report {
        let mut job = self.job();
        job.today = day(today);
        sync_compliance(&job, false).await.unwrap()
    }

    /// trestle's records in Procore for one Procore company.
    fn written_for(&self, vendor: i64) -> Vec<procore_sim::world::Insurance> {
        self.written()
            .into_iter()
            .filter(|i| i.vendor_id == vendor)
            .collect()
    }

    /// Every insurance write in the outbox. The store lists outbox items by id only; ids are
    /// handed out in order from 1.
    async fn insurance_outbox(&self) -> Vec<OutboxItem> {
        let mut items = Vec::new();
        let (mut id, mut misses) = (1, 0);
        while misses < 50 {
            match self.store.outbox_item(self.company, id).await.unwrap() {
                Some(item) => {
                    misses = 0;
                    if item.kind == WRITE_INSURANCE {
                        items.push(item);
                    }
                }
                None => misses += 1,
            }
            id += 1;
        }
        items
    }

    /// The outbox items writing records whose origin id starts with `prefix`.
    async fn outbox_for(&self, prefix: &str) -> Vec<OutboxItem> {
        self.insurance_outbox()
            .await
            .into_iter()
            .filter(|i| {
                let payload: serde_json::Value = serde_json::from_str(&i.payload_json).unwrap();
                payload["record"]["origin_id"]
                    .as_str()
                    .is_some_and(|o| o.starts_with(prefix))
            })
            .collect()
    }

    /// How many records Procore holds per trestle origin id.
    fn records_per_origin(&self) -> BTreeMap<String, usize> {
        let mut n = BTreeMap::new();
        for i in self.written() {
            *n.entry(i.origin_id.unwrap()).or_insert(0) += 1;
        }
        n
    }
}

#[tokio::test]
async fn a_policy_that_expires_overnight_is_written_as_expired_on_the_next_days_sync() {
    let app = App::new().await;
    app.sync().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let bolt = app.vendor("Bolt Plumbing");
    // Acme's certificate (both policies expire 2027-12-31) meets the profile: one record per
    // subject globally and on Harbor Tower.
    let start = app.written_for(acme);
    assert_eq!(start.len(), 4, "{start:?}");
    for i in &start {
        assert_eq!(i.status.as_deref(), Some("compliant"), "{i:?}");
        assert_eq!(i.expiration_date, Some(day("2027-12-31")));
        let notes = i.notes.as_deref().unwrap_or_default();
        assert!(notes.contains("expires 2027-12-31"), "{notes}");
        assert!(!notes.contains("expiring soon"), "{notes}");
    }
    let bolt_before = seen(&app.written_for(bolt));

    // A day on which nothing moves (the day before the 30-day window opens): nothing rewritten.
    let before = seen(&app.written());
    app.sim().clear_request_log();
    let quiet = app.sync_on("2027-11-30").await;
    assert_eq!(quiet.summary.insurance_written, 0, "{:#?}", quiet.written);
    assert_eq!(app.insurance_write_requests(), 0);
    assert_eq!(seen(&app.written()), before);

    // Inside the 30-day window: still compliant, and the notes say it expires soon.
    let entering = app.sync_on("2027-12-15").await;
    assert_eq!(
        entering.summary.insurance_written, 4,
        "{:#?}",
        entering.written
    );
    // Every later day of the window says the same, so nothing is rewritten.
    app.sim().clear_request_log();
    let quiet = app.sync_on("2027-12-30").await;
    assert_eq!(quiet.summary.insurance_written, 0, "{:#?}", quiet.written);
    assert_eq!(app.insurance_write_requests(), 0);

    // The last day in force: still compliant, expiring soon.
    let last_day = app.sync_on("2027-12-31").await;
    assert_eq!(
        last_day.summary.insurance_failures, 0,
        "{:?}",
        last_day.failures
    );
    assert_eq!(
        last_day.summary.insurance_written, 0,
        "{:#?}",
        last_day.written
    );
    for i in app.written_for(acme) {
        assert_eq!(i.status.as_deref(), Some("compliant"), "{i:?}");
        let notes = i.notes.as_deref().unwrap_or_default();
        assert!(
            notes.contains("expiring soon: expires 2027-12-31"),
            "{notes}"
        );
    }
    // Synced again the same day: nothing to write.
    app.sim().clear_request_log();
    let again = app.sync_on("2027-12-31").await;
    assert_eq!(again.summary.insurance_written, 0, "{:#?}", again.written);
    assert_eq!(app.insurance_write_requests(), 0);

    // Overnight the policies expire: the next day's sync writes every record of Acme as expired.
    let next_day = app.sync_on("2028-01-01").await;
    assert_eq!(
        next_day.summary.insurance_failures, 0,
        "{:?}",
        next_day.failures
    );
    assert_eq!(
        next_day.summary.insurance_written, 4,
        "{:#?}",
        next_day.written
    );
    let status_changes = next_day
        .plan
        .actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::WriteInsurance {
                    reason: Reason::StatusChanged {
                        from: ProcoreInsuranceStatus::Compliant,
                        to: ProcoreInsuranceStatus::Expired,
                        ..
                    },
                    ..
                }
            )
        })
        .count();
    assert_eq!(status_changes, 4, "{:#?}", next_day.plan);
    let expired = app.written_for(acme);
    assert_eq!(
        expired.len(),
        4,
        "updated by origin id, not added: {expired:?}"
    );
    let ids = |v: &[procore_sim::world::Insurance]| {
        let mut ids: Vec<i64> = v.iter().map(|i| i.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&expired), ids(&start));
    for i in &expired {
        assert_eq!(i.status.as_deref(), Some("expired"), "{i:?}");
        assert_eq!(i.expiration_date, Some(day("2027-12-31")));
        let notes = i.notes.as_deref().unwrap_or_default();
        assert!(notes.contains("policy expired 2027-12-31"), "{notes}");
    }
    assert_eq!(
        seen(&app.written_for(bolt)),
        bolt_before,
        "Bolt has no paper: nothing about it changed"
    );
}

#[tokio::test]
async fn an_expiring_soon_summary_stays_compliant_and_its_notes_are_rewritten_once() {
    let app = App::new().await;
    app.settings(|s| s.format = WriteBackFormat::Summary).await;
    app.sync().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let start = app.written_for(acme);
    assert_eq!(start.len(), 2, "globally and on Harbor Tower: {start:?}");
    for i in &start {
        assert_eq!(i.status.as_deref(), Some("compliant"), "{i:?}");
        let notes = i.notes.as_deref().unwrap_or_default();
        assert!(notes.contains("Next expiration: 2027-12-31."), "{notes}");
    }

    // 31 days left: outside the profile's 30-day window.
    let outside = app.sync_on("2027-11-30").await;
    assert_eq!(
        outside.summary.insurance_written, 0,
        "{:#?}",
        outside.written
    );

    // 30 days left: expiring soon, which Procore's status cannot say; the notes do.
    let entering = app.sync_on("2027-12-01").await;
    assert_eq!(
        entering.summary.insurance_written, 2,
        "{:#?}",
        entering.written
    );
    assert!(entering.written.iter().all(|w| w.procore_vendor_id == acme));
    assert!(entering.plan.actions.iter().all(|a| !matches!(
        a,
        Action::WriteInsurance {
            reason: Reason::StatusChanged { .. },
            ..
        }
    )));
    let notes_only = entering
        .plan
        .actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::WriteInsurance {
                    reason: Reason::NotesOnly { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(notes_only, 2, "{:#?}", entering.plan);
    let soon = app.written_for(acme);
    assert_eq!(soon.len(), 2);
    for i in &soon {
        assert_eq!(i.status.as_deref(), Some("compliant"), "{i:?}");
        let notes = i.notes.as_deref().unwrap_or_default();
        assert!(
            notes.contains("Next expiration: 2027-12-31 (expiring soon)."),
            "{notes}"
        );
    }

    // The next day it is still expiring soon: nothing new to say, nothing rewritten.
    app.sim().clear_request_log();
    let next = app.sync_on("2027-12-02").await;
    assert_eq!(next.summary.insurance_written, 0, "{:#?}", next.written);
    assert_eq!(app.insurance_requests(), 0);
    assert_eq!(seen(&app.written_for(acme)), seen(&soon));
}

#[tokio::test]
async fn an_item_procore_refuses_in_a_batch_is_retried_later_and_holds_up_nothing_else() {
    let app = App::new().await;
    // One record per party and party-project, so the refused vendor has one item in the call.
    // Company level only at first: the party-project records are all first written together,
    // in one call for Harbor Tower, once the level includes projects.
    app.settings(|s| {
        s.format = WriteBackFormat::Summary;
        s.level = SyncLevel::PartiesOnly;
    })
    .await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let bolt = app.vendor("Bolt Plumbing");
    let delta = app.vendor("Delta Drywall");
    let harbor = app.project("Harbor Tower");
    let delta_party = app.party_of(delta).await.id;
    let delta_on_projects = format!("trestle:party:{delta_party}:project:");
    assert_eq!(app.written().len(), 3, "Acme, Bolt and Delta globally");

    // Delta leaves Procore's directory without a trace an incremental read can see: trestle
    // still reports on it, and Procore refuses a new record for it (the vendor is not found).
    let gone = app.sim().write(|w| w.vendors.remove(&delta)).unwrap();
    app.settings(|s| s.level = SyncLevel::All).await;
    app.sim().clear_request_log();
    let report = app.sync().await;

    // One call for Harbor Tower carried Acme's, Bolt's and Delta's records; Procore answered it
    // with two entities and one error.
    let harbor_calls: Vec<_> = app
        .sim()
        .request_log()
        .into_iter()
        .filter(|r| {
            r.method == "PATCH"
                && r.path
                    .ends_with(&format!("/projects/{harbor}/insurances/sync"))
        })
        .collect();
    assert_eq!(harbor_calls.len(), 1, "{harbor_calls:?}");
    assert_eq!(harbor_calls[0].status, 200);
    assert_eq!(app.insurance_requests(), 1, "nothing else to write");
    let mut written: Vec<(i64, Option<i64>)> = report
        .written
        .iter()
        .map(|w| (w.procore_vendor_id, w.procore_project_id))
        .collect();
    written.sort();
    let mut expected = vec![(acme, Some(harbor)), (bolt, Some(harbor))];
    expected.sort();
    assert_eq!(written, expected, "{:?}", report.failures);
    assert_eq!(
        report.summary.insurance_failures, 1,
        "{:?}",
        report.failures
    );
    assert_eq!(report.failures.len(), 1);
    let failure = &report.failures[0];
    assert!(failure.starts_with(&delta_on_projects), "{failure}");
    assert!(
        failure.contains("Vendor"),
        "Procore's reason is kept: {failure}"
    );
    let on_harbor = |v: i64| {
        app.written_for(v)
            .into_iter()
            .filter(|i| i.project_id == Some(harbor))
            .count()
    };
    assert_eq!(on_harbor(acme), 1);
    assert_eq!(on_harbor(bolt), 1);
    assert_eq!(on_harbor(delta), 0);
    let recorded: Vec<String> = app
        .store
        .insurance_writes(app.company)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.origin_id)
        .collect();
    assert_eq!(
        recorded.len(),
        5,
        "three globally, Acme and Bolt on Harbor: {recorded:?}"
    );
    assert!(recorded.iter().all(|o| !o.starts_with(&delta_on_projects)));
    let waiting = app.outbox_for(&delta_on_projects).await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    let first_delay = chrono::Utc::now() + chrono::Duration::seconds(45);
    for item in &waiting {
        assert_eq!(item.state, OutboxState::Pending, "{item:?}");
        assert_eq!(item.attempts, 1);
        assert!(item
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("Vendor"));
        assert!(
            item.available_at > first_delay,
            "retried after a delay: {item:?}"
        );
    }
    assert!(app
        .insurance_outbox()
        .await
        .iter()
        .filter(|i| !waiting.iter().any(|w| w.id == i.id))
        .all(|i| i.state == OutboxState::Done));

    // A sync before the delay is out plans Delta's record again and sends nothing for it.
    app.sim().clear_request_log();
    let early = app.sync().await;
    assert_eq!(early.summary.insurance_written, 0, "{:#?}", early.written);
    assert_eq!(early.summary.insurance_failures, 0);
    assert_eq!(app.insurance_requests(), 0);
    assert_eq!(
        app.outbox_for(&delta_on_projects).await.len(),
        1,
        "not queued twice"
    );

    // The delay passes; Procore still refuses, and the next delay is longer.
    let make_due = || async {
        for item in app.outbox_for(&delta_on_projects).await {
            app.store
                .fail(
                    item.id,
                    item.last_error.as_deref().unwrap_or_default(),
                    Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
                )
                .await
                .unwrap();
        }
    };
    make_due().await;
    let refused_again = app.sync().await;
    assert_eq!(
        refused_again.summary.insurance_failures, 1,
        "{:?}",
        refused_again.failures
    );
    assert_eq!(refused_again.summary.insurance_written, 0);
    let second_delay = chrono::Utc::now() + chrono::Duration::seconds(100);
    for item in app.outbox_for(&delta_on_projects).await {
        assert_eq!(item.attempts, 2, "{item:?}");
        assert!(
            item.available_at > second_delay,
            "a growing delay: {item:?}"
        );
    }

    // Delta is back in the directory; once the delay is out, its record is written once.
    app.sim().write(|w| w.vendors.insert(delta, gone));
    make_due().await;
    let fixed = app.sync().await;
    assert_eq!(fixed.summary.insurance_failures, 0, "{:?}", fixed.failures);
    assert_eq!(fixed.summary.insurance_written, 1, "{:#?}", fixed.written);
    assert_eq!(fixed.written[0].procore_vendor_id, delta);
    assert_eq!(fixed.written[0].procore_project_id, Some(harbor));
    assert_eq!(on_harbor(delta), 1);
    for item in app.outbox_for(&delta_on_projects).await {
        assert_eq!(item.state, OutboxState::Done, "{item:?}");
    }
    let recorded = app.store.insurance_writes(app.company).await.unwrap();
    assert_eq!(recorded.len(), 6);
    let per_origin = app.records_per_origin();
    assert_eq!(per_origin.len(), 6, "{per_origin:?}");
    assert!(per_origin.values().all(|n| *n == 1), "{per_origin:?}");

    // And nothing is written again.
    app.sim().clear_request_log();
    let settled = app.sync().await;
    assert_eq!(settled.summary.insurance_written, 0);
    assert_eq!(app.insurance_requests(), 0);
    assert_eq!(app.records_per_origin(), per_origin);
}

#[tokio::test]
async fn all_contacts_with_an_email_sync_without_marking_any_primary() {
    let app = App::new().await;
    app.settings(|s| s.contacts = ContactSync::AllWithoutPrimary)
        .await;
    let report = app.sync().await;
    let acme = app.vendor("Acme Electric");
    let delta = app.vendor("Delta Drywall");
    let names = |cs: &[Contact]| -> Vec<(String, bool)> {
        let mut v: Vec<_> = cs
            .iter()
            .map(|c| (c.first_name.clone().unwrap_or_default(), c.primary))
            .collect();
        v.sort();
        v
    };
    // Alice is Acme's primary contact in Procore, Dev is Delta's.
    let acme_contacts = app.contacts_of(acme).await;
    assert_eq!(
        names(&acme_contacts),
        [("Alice".to_owned(), false), ("Ben".to_owned(), false)]
    );
    let primary_in_procore = app.sim().read(|w| w.vendors[&acme].primary_contact_id);
    let alice = acme_contacts
        .iter()
        .find(|c| c.first_name.as_deref() == Some("Alice"))
        .unwrap();
    assert!(primary_in_procore.is_some());
    assert_eq!(alice.procore_contact_id, primary_in_procore);
    assert!(!alice.primary);
    assert_eq!(
        names(&app.contacts_of(delta).await),
        [("Dev".to_owned(), false)],
        "Dora has no email"
    );
    assert!(
        app.contacts_of(app.vendor("Bolt Plumbing"))
            .await
            .is_empty(),
        "Bolt's only contact has no email"
    );
    let all = app.store.contacts(app.company).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all
        .iter()
        .all(|c| !c.primary && c.email.is_some() && c.procore_contact_id.is_some()));
    assert_eq!(report.summary.contacts_created, 3);
    let skips = |reason: fn(&Reason) -> bool| {
        report
            .plan
            .actions
            .iter()
            .filter(|a| matches!(a, Action::Skip { reason: r, .. } if reason(r)))
            .count()
    };
    assert_eq!(
        skips(|r| matches!(r, Reason::ContactHasNoEmail)),
        2,
        "Dora and Bo"
    );
    assert_eq!(
        skips(|r| matches!(r, Reason::NotThePrimaryContact | Reason::NoPrimaryContact)),
        0,
        "every contact with an email syncs, primary or not"
    );
    let again = app.sync().await;
    assert_eq!(again.summary.contacts_created, 0);
    assert_eq!(again.summary.contacts_updated, 0);
    assert!(app
        .store
        .contacts(app.company)
        .await
        .unwrap()
        .iter()
        .all(|c| !c.primary));
}

#[tokio::test]
async fn a_write_left_waiting_is_dropped_once_a_newer_version_of_its_record_went_out() {
    let app = App::new().await;
    app.settings(|s| s.format = WriteBackFormat::Summary).await;
    app.sync().await;
    let bolt = app.vendor("Bolt Plumbing");
    let bolt_party = app.party_of(bolt).await.id;
    let origin = format!("trestle:party:{bolt_party}:summary");
    let before = app
        .written_for(bolt)
        .into_iter()
        .find(|i| i.origin_id.as_deref() == Some(origin.as_str()))
        .unwrap();
    assert_eq!(before.status.as_deref(), Some("non_compliant"));

    // An old version of Bolt's record, queued and waiting out a retry delay.
    let mut stale = app
        .store
        .insurance_write(app.company, &origin)
        .await
        .unwrap()
        .unwrap()
        .record;
    stale.notes = "an old version".into();
    let payload = serde_json::json!({
        "level": "company_vendor",
        "procore_vendor_id": bolt,
        "procore_project_id": null,
        "record": stale,
    });
    app.store
        .apply_compliance(&ComplianceBatch {
            company_id: app.company,
            outbox: &[store::NewOutboxItem::new(
                app.company,
                WRITE_INSURANCE,
                "stale-bolt",
                &payload.to_string(),
            )],
            ..Default::default()
        })
        .await
        .unwrap();
    let item = app
        .store
        .outbox_item_by_key(app.company, "stale-bolt")
        .await
        .unwrap()
        .unwrap();
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    app.store
        .fail(item.id, "refused", Some(later))
        .await
        .unwrap();

    // Meanwhile Bolt gets a certificate and its compliant record is written.
    app.certify(bolt_party).await;
    app.sync().await;
    let now_compliant = app
        .written_for(bolt)
        .into_iter()
        .find(|i| i.origin_id.as_deref() == Some(origin.as_str()))
        .unwrap();
    assert_eq!(now_compliant.status.as_deref(), Some("compliant"));

    // The old version comes due: it is dropped, not sent over the newer one.
    app.store
        .fail(item.id, "refused", Some(chrono::Utc::now()))
        .await
        .unwrap();
    app.sim().clear_request_log();
    app.sync().await;

    assert_eq!(app.insurance_requests(), 0);
    let after = app
        .written_for(bolt)
        .into_iter()
        .find(|i| i.origin_id.as_deref() == Some(origin.as_str()))
        .unwrap();
    assert_eq!(seen(&[after]), seen(&[now_compliant]));
    let done = app
        .store
        .outbox_item(app.company, item.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.state, OutboxState::Done);
    assert!(done.result_json.unwrap_or_default().contains("superseded"));
}
