//! Records trestle wrote and no longer reports are taken out of Procore.

use super::*;
use std::collections::BTreeSet;

fn origins(records: &[procore_sim::world::Insurance]) -> Vec<String> {
    records.iter().filter_map(|i| i.origin_id.clone()).collect()
}

#[tokio::test]
async fn switching_to_the_summary_format_takes_the_subject_records_out_of_procore() {
    let app = App::new().await;
    app.sync().await;
    app.sync().await;
    let subject_records = origins(&app.written())
        .into_iter()
        .filter(|o| o.contains(":subject:"))
        .count();
    assert!(subject_records > 0);

    app.settings(|s| s.format = WriteBackFormat::Summary).await;
    let report = app.sync().await;

    assert_eq!(
        report.summary.insurance_removed, subject_records,
        "{:?}",
        report.failures
    );
    let now = origins(&app.written());
    assert!(now.iter().all(|o| o.ends_with(":summary")), "{now:?}");
    let unique: BTreeSet<&String> = now.iter().collect();
    assert_eq!(unique.len(), now.len(), "one record per origin id");
    assert!(app
        .store
        .insurance_writes(app.company)
        .await
        .unwrap()
        .iter()
        .all(|w| w.origin_id.ends_with(":summary")));

    let again = app.sync().await;
    assert_eq!(again.summary.insurance_removed, 0);
    assert_eq!(again.summary.insurance_written, 0);
}

#[tokio::test]
async fn an_ended_association_takes_its_project_records_out_of_procore() {
    let app = App::new().await;
    app.sync().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.project("Harbor Tower");
    let on_harbor = |records: Vec<procore_sim::world::Insurance>| {
        records
            .into_iter()
            .filter(|i| i.vendor_id == acme && i.project_id == Some(harbor))
            .count()
    };
    let before = on_harbor(app.written());
    assert!(before > 0);
    let global_before = app
        .written()
        .into_iter()
        .filter(|i| i.vendor_id == acme && i.project_id.is_none())
        .count();

    let ids = app.commitments_of(harbor, acme);
    app.change(|w, now| {
        for id in &ids {
            let c = w.commitments.get_mut(id).unwrap();
            c.status = "Draft".into();
            c.executed = false;
            c.updated_at = now;
        }
    });
    let report = app.sync().await;

    assert!(!app.association(acme, "Harbor Tower").await.unwrap().active);
    assert_eq!(
        report.summary.insurance_removed, before,
        "{:?}",
        report.failures
    );
    assert_eq!(on_harbor(app.written()), 0);
    let global_after = app
        .written()
        .into_iter()
        .filter(|i| i.vendor_id == acme && i.project_id.is_none())
        .count();
    assert_eq!(global_after, global_before, "the party's own records stay");
}

#[tokio::test]
async fn a_record_already_deleted_in_procore_counts_as_removed() {
    let app = App::new().await;
    app.sync().await;
    app.sync().await;
    app.sim().write(|w| {
        w.insurances.retain(|_, i| {
            !i.origin_id
                .as_deref()
                .is_some_and(|o| o.contains(":subject:general_liability"))
        })
    });

    app.settings(|s| s.format = WriteBackFormat::Summary).await;
    let report = app.sync().await;

    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(report.summary.insurance_removed > 0);
    assert!(origins(&app.written())
        .iter()
        .all(|o| o.ends_with(":summary")));
}

#[tokio::test]
async fn a_removal_queued_for_a_record_trestle_reports_again_is_dropped() {
    let app = App::new().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let record = app
        .written()
        .into_iter()
        .find(|i| i.vendor_id == acme && i.project_id.is_none())
        .unwrap();
    let origin = record.origin_id.clone().unwrap();
    // Queued while the record was not reported (say its association had ended), and left
    // waiting; by now trestle reports it again.
    let payload = serde_json::json!({
        "level": "company_vendor",
        "procore_vendor_id": acme,
        "procore_project_id": null,
        "origin_id": origin,
        "procore_insurance_id": record.id,
    });
    app.store
        .apply_compliance(&ComplianceBatch {
            company_id: app.company,
            outbox: &[store::NewOutboxItem::new(
                app.company,
                sync::compliance::REMOVE_INSURANCE,
                "stale-removal",
                &payload.to_string(),
            )],
            ..Default::default()
        })
        .await
        .unwrap();

    let report = app.sync().await;

    assert_eq!(report.summary.insurance_removed, 0);
    assert!(
        app.written().iter().any(|i| i.id == record.id),
        "the record stays in Procore"
    );
    assert!(app
        .store
        .insurance_write(app.company, &origin)
        .await
        .unwrap()
        .is_some());
    let item = app
        .store
        .outbox_item_by_key(app.company, "stale-removal")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.state, store::OutboxState::Done);
}

#[tokio::test]
async fn when_a_companys_link_moves_to_another_party_the_old_partys_records_leave_it() {
    let app = App::new().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let old = app.party_of(acme).await.id;
    // A party entered in trestle without a Procore company, then chosen for Acme's link.
    let created = app
        .store
        .apply_compliance(&ComplianceBatch {
            company_id: app.company,
            changes: &[ComplianceChange::CreateParty {
                party: Party {
                    id: PartyId(0),
                    name: "Acme Electric Inc.".into(),
                    address: None,
                    website: None,
                    active: true,
                    procore_vendor_id: None,
                    profile_id: app.party_of(acme).await.profile_id,
                },
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let new = PartyId(created[0].1);
    app.store
        .set_mapping(
            app.company,
            store::ProcoreRecordKind::Company,
            acme,
            store::MappingDecision::LinkTo(new.0),
        )
        .await
        .unwrap();

    let report = app.sync().await;

    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let under_acme: Vec<String> = app
        .written()
        .into_iter()
        .filter(|i| i.vendor_id == acme && i.project_id.is_none())
        .filter_map(|i| i.origin_id)
        .collect();
    assert!(!under_acme.is_empty());
    assert!(
        under_acme
            .iter()
            .all(|o| o.starts_with(&format!("trestle:party:{new}:"))),
        "only the newly linked party reports under Acme: {under_acme:?}"
    );
    assert!(report.summary.insurance_removed > 0);
    assert!(app
        .store
        .insurance_writes(app.company)
        .await
        .unwrap()
        .iter()
        .all(|w| !w.origin_id.starts_with(&format!("trestle:party:{old}:"))));
    let again = app.sync().await;
    assert_eq!(
        again.summary.insurance_written + again.summary.insurance_removed,
        0
    );
}

#[tokio::test]
async fn a_partys_records_move_when_the_party_stands_for_another_procore_company() {
    let app = App::new().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let party = app.party_of(acme).await;
    let prefix = format!("trestle:party:{}:", party.id);
    let linked: BTreeSet<i64> = app
        .store
        .parties(app.company)
        .await
        .unwrap()
        .iter()
        .filter_map(|p| p.procore_vendor_id)
        .collect();
    let other = app.sim().read(|w| {
        w.vendors
            .values()
            .find(|v| !linked.contains(&v.id))
            .map(|v| v.id)
            .unwrap()
    });
    // As an import naming another Procore company for the party would.
    app.store
        .apply_compliance(&ComplianceBatch {
            company_id: app.company,
            changes: &[ComplianceChange::UpdateParty {
                party: Party {
                    procore_vendor_id: Some(other),
                    ..party.clone()
                },
            }],
            ..Default::default()
        })
        .await
        .unwrap();

    let report = app.sync().await;

    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let global: Vec<_> = app
        .written()
        .into_iter()
        .filter(|i| {
            i.project_id.is_none()
                && i.origin_id
                    .as_deref()
                    .is_some_and(|o| o.starts_with(&prefix))
        })
        .collect();
    assert!(!global.is_empty());
    assert!(global.iter().all(|i| i.vendor_id == other), "{global:?}");
    let all = origins(&app.written());
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "one record per origin id");
}
