//! The profile field is found by the label an administrator typed in Procore: commitments carry
//! custom fields as `custom_field_<id>` only, so the sync reads Procore's custom field
//! definitions (when it needs them) to know which is "Compliance Profile".

use super::*;
use sync::compliance::CarriedField;

impl App {
    fn definition_requests(&self) -> usize {
        self.sim()
            .request_log()
            .iter()
            .filter(|r| r.path.ends_with("/custom_field_definitions"))
            .count()
    }

    fn definition_id(&self, label: &str) -> i64 {
        self.sim()
            .read(|w| {
                w.custom_field_definitions
                    .values()
                    .find(|d| d.label == label)
                    .map(|d| d.id)
            })
            .unwrap()
    }
}

fn field_not_found(report: &Report) -> Option<(String, Vec<CarriedField>, String)> {
    report.plan.actions.iter().find_map(|a| match a {
        Action::Skip {
            reason: reason @ Reason::ProfileFieldNotFound { field, carried, .. },
            ..
        } => Some((field.clone(), carried.clone(), reason.to_string())),
        _ => None,
    })
}

#[tokio::test]
async fn the_profile_field_is_found_by_its_label_with_one_request_for_the_definitions() {
    let app = App::new().await;
    assert_eq!(
        load_settings(&app.store, app.company)
            .await
            .unwrap()
            .profile_field,
        demo::COMPLIANCE_PROFILE_FIELD,
        "the default setting names the field by its label"
    );
    app.sim().clear_request_log();
    let report = app.sync().await;
    assert_eq!(app.definition_requests(), 1);
    assert_eq!(field_not_found(&report), None);
    // Harbor Tower's commitments name the standard profile, so its associations take it.
    let standard = app
        .store
        .profile_by_name(app.company, demo::PROFILE_STANDARD)
        .await
        .unwrap()
        .unwrap()
        .id;
    let acme = app.vendor("Acme Electric");
    let harbor = app.association(acme, "Harbor Tower").await.unwrap();
    assert_eq!(harbor.profile_id, Some(standard));

    // The label is known now: later syncs read no definitions until the next whole read.
    app.sim().clear_request_log();
    app.sync().await;
    assert_eq!(app.definition_requests(), 0);
}

#[tokio::test]
async fn a_profile_field_no_commitment_carries_is_reported_with_the_fields_they_do_carry() {
    let app = App::new().await;
    app.settings(|s| s.profile_field = "Compliance Tier".into())
        .await;
    let report = app.sync().await;
    let (field, carried, text) = field_not_found(&report).expect("the sync says why");
    assert_eq!(field, "Compliance Tier");
    let key = format!(
        "custom_field_{}",
        app.definition_id(demo::COMPLIANCE_PROFILE_FIELD)
    );
    assert_eq!(
        carried,
        [CarriedField {
            key: key.clone(),
            label: Some(demo::COMPLIANCE_PROFILE_FIELD.into()),
        }]
    );
    assert!(
        text.contains(&format!("\"Compliance Profile\" ({key})")),
        "{text}"
    );
    assert!(
        text.contains("the compliance setting \"profile field\""),
        "{text}"
    );
    let acme = app.vendor("Acme Electric");
    let harbor = app.association(acme, "Harbor Tower").await.unwrap();
    assert_eq!(harbor.profile_id, None, "no profile applied");
}

#[tokio::test]
async fn a_label_no_field_has_is_looked_up_once_per_whole_read_not_at_every_sync() {
    let app = App::new().await;
    app.settings(|s| s.profile_field = "Compliance Tier".into())
        .await;
    app.sim().clear_request_log();
    for sync in 0..4 {
        let report = app.sync().await;
        assert_eq!(report.summary.full_read, sync == 0);
        assert!(
            field_not_found(&report).is_some(),
            "sync {sync} still says the field is not found"
        );
    }
    assert_eq!(
        app.definition_requests(),
        1,
        "only the first (whole) read asks for the definitions"
    );

    // The setting names a label not looked up yet: one request, then none again.
    app.settings(|s| s.profile_field = "Compliance Grade".into())
        .await;
    app.sim().clear_request_log();
    for _ in 0..3 {
        assert!(field_not_found(&app.sync().await).is_some());
    }
    assert_eq!(app.definition_requests(), 1);

    // A whole read asks again (a field may have been created or renamed).
    app.sim().clear_request_log();
    let mut job = app.job();
    job.full_read = true;
    let report = sync_compliance(&job, false).await.unwrap();
    assert!(report.summary.full_read);
    assert_eq!(app.definition_requests(), 1);
    app.sync().await;
    assert_eq!(app.definition_requests(), 1);
}

#[tokio::test]
async fn custom_field_definitions_are_not_counted_as_procore_records_read() {
    let reads_definitions = App::new().await;
    let reads_none = App::new().await;
    reads_none
        .settings(|s| s.profile_field = String::new())
        .await;
    reads_definitions.sim().clear_request_log();
    reads_none.sim().clear_request_log();
    let with = reads_definitions.sync().await;
    let without = reads_none.sync().await;
    assert_eq!(reads_definitions.definition_requests(), 1);
    assert_eq!(reads_none.definition_requests(), 0);
    assert_eq!(with.summary.records_read, without.summary.records_read);
    assert_eq!(with.summary.requests, without.summary.requests + 1);
}

#[tokio::test]
async fn a_field_created_in_procore_after_a_sync_is_found_by_its_label_at_the_next_sync() {
    let app = App::new().await;
    app.settings(|s| s.profile_field = "Compliance Tier".into())
        .await;
    assert!(field_not_found(&app.sync().await).is_some());

    // An administrator creates the field on Commitments and fills it on Acme's subcontract.
    let acme = app.vendor("Acme Electric");
    let harbor = app.project("Harbor Tower");
    let commitment = app.commitments_of(harbor, acme)[0];
    app.change(|w, now| {
        let id = w.alloc_id();
        w.custom_field_definitions.insert(
            id,
            procore_sim::world::CustomFieldDefinition {
                id,
                company_id: demo::COMPANY_ID,
                label: "Compliance Tier".into(),
                data_type: "string".into(),
            },
        );
        for c in w
            .commitments
            .values_mut()
            .filter(|c| c.project_id == harbor && c.vendor_id == Some(acme))
        {
            c.custom_fields.insert(id, demo::PROFILE_STANDARD.into());
            c.updated_at = now;
        }
    });
    app.sim().clear_request_log();
    let report = app.sync().await;
    assert!(!report.summary.full_read, "an incremental sync");
    assert_eq!(
        app.definition_requests(),
        1,
        "a commitment carries a field without a label: the definitions are read again"
    );
    assert_eq!(field_not_found(&report), None);
    let standard = app
        .store
        .profile_by_name(app.company, demo::PROFILE_STANDARD)
        .await
        .unwrap()
        .unwrap()
        .id;
    let association = app.association(acme, "Harbor Tower").await.unwrap();
    assert_eq!(association.profile_id, Some(standard), "{commitment}");
}

#[tokio::test]
async fn an_empty_profile_field_takes_no_profile_from_commitments_and_says_nothing_about_it() {
    let app = App::new().await;
    app.settings(|s| s.profile_field = String::new()).await;
    app.sim().clear_request_log();
    let report = app.sync().await;
    assert_eq!(field_not_found(&report), None);
    assert_eq!(app.definition_requests(), 0, "no label to look up");
    let acme = app.vendor("Acme Electric");
    let harbor = app.association(acme, "Harbor Tower").await.unwrap();
    assert_eq!(harbor.profile_id, None);
}
