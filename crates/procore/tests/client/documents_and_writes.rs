use bytes::Bytes;
use futures::TryStreamExt;
use procore::api::webhooks::NewHook;
use procore::models::{InsuranceStatus, InsuranceWrite};
use secrecy::SecretString;

use crate::{cc_client, count, demo_sim};

#[tokio::test]
async fn folders_files_uploads_and_new_versions() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let project = client
        .projects()
        .list()
        .stream()
        .try_next()
        .await
        .unwrap()
        .unwrap();
    let docs = client.documents(project.id);
    let root = docs.root().await.unwrap();
    let folder = docs
        .create_folder(Some(root.id), "Safety Forms")
        .await
        .unwrap();
    assert_eq!(folder.name.as_deref(), Some("Safety Forms"));
    let file = docs
        .upload_file(
            Some(folder.id),
            "form-1.pdf",
            Bytes::from_static(b"%PDF-1.4 first"),
            "application/pdf",
        )
        .await
        .unwrap();
    assert_eq!(file.parent_id, Some(folder.id));
    let v2 = docs
        .add_version(
            file.id,
            "form-1.pdf",
            Bytes::from_static(b"%PDF-1.4 second"),
            "application/pdf",
        )
        .await
        .unwrap();
    let shown = docs.file(v2.id).await.unwrap();
    assert!(shown.file_versions.len() >= 2, "{shown:?}");
    let listed = docs.folder(folder.id).await.unwrap();
    assert!(listed.files.iter().any(|f| f.id == file.id));
    // The storage POST carried no bearer token and was not counted as an API call.
    assert!(app
        .sim()
        .request_log()
        .iter()
        .filter(|e| e.path.starts_with("/_sim/s3"))
        .all(|e| e.client_id.is_none()));
}

#[tokio::test]
async fn insurances_create_update_list_and_sync_by_origin_id() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let vendor = client
        .vendors()
        .list()
        .stream()
        .try_next()
        .await
        .unwrap()
        .unwrap();
    let scope = client.insurances().company_vendor(vendor.id);
    let before = scope.list().collect().await.unwrap().items.len();
    let created = scope
        .create(&InsuranceWrite {
            provider: Some("GL Insurance Inc.".into()),
            insurance_type: Some("General Liability".into()),
            limit: Some("1000000.00".parse().unwrap()),
            expiration_date: chrono::NaiveDate::from_ymd_opt(2030, 1, 31),
            status: Some(InsuranceStatus::Compliant),
            ..InsuranceWrite::default()
        })
        .await
        .unwrap();
    assert_eq!(
        created.insurance_provider.as_deref(),
        Some("GL Insurance Inc.")
    );
    assert_eq!(created.limit, Some("1000000.00".parse().unwrap()));
    let updated = scope
        .update(
            created.id,
            &InsuranceWrite {
                status: Some(InsuranceStatus::Expired),
                ..InsuranceWrite::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.status, Some(InsuranceStatus::Expired));

    let item = InsuranceWrite {
        origin_id: Some("trestle-cert-1".into()),
        provider: Some("Umbrella Co".into()),
        insurance_type: Some("Umbrella".into()),
        status: Some(InsuranceStatus::NonCompliant),
        ..InsuranceWrite::default()
    };
    let first = scope.sync(std::slice::from_ref(&item)).await.unwrap();
    let second = scope.sync(&[item]).await.unwrap();
    assert_eq!(first.entities.len(), 1);
    assert_eq!(
        first.entities[0].id, second.entities[0].id,
        "origin_id makes sync an upsert"
    );
    let all = scope.list().collect().await.unwrap();
    assert_eq!(
        all.items.len(),
        before + 2,
        "one create and one upserted sync item"
    );

    let project = client
        .projects()
        .list()
        .stream()
        .try_next()
        .await
        .unwrap()
        .unwrap();
    let pv = client.insurances().project_vendor(project.id, vendor.id);
    let synced = pv
        .sync(&[InsuranceWrite {
            origin_id: Some("pv-1".into()),
            provider: Some("P".into()),
            ..InsuranceWrite::default()
        }])
        .await
        .unwrap();
    assert_eq!(synced.entities.len() + synced.errors.len(), 1);
}

#[tokio::test]
async fn webhook_hooks_and_triggers_are_created_listed_and_deleted() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let hooks = client.webhooks();
    let hook = hooks
        .create_hook(&NewHook {
            api_version: "v2".into(),
            namespace: "trestle-test".into(),
            destination_url: "https://example.invalid/webhooks/procore".into(),
            authorization: Some(SecretString::from("Bearer hook-secret".to_string())),
        })
        .await
        .unwrap();
    let trigger = hooks
        .create_trigger(hook.id, "Company Users", "update")
        .await
        .unwrap();
    assert_eq!(hooks.list_triggers(hook.id).await.unwrap().len(), 1);
    assert!(hooks
        .list_hooks(Some("trestle-test"))
        .await
        .unwrap()
        .iter()
        .any(|h| h.id == hook.id));
    hooks.delete_trigger(hook.id, trigger.id).await.unwrap();
    assert!(hooks.list_triggers(hook.id).await.unwrap().is_empty());
    hooks.delete_hook(hook.id).await.unwrap();
    assert!(!hooks
        .list_hooks(None)
        .await
        .unwrap()
        .iter()
        .any(|h| h.id == hook.id));
    assert_eq!(count(app.sim(), "DELETE", "/rest/v1.0/webhooks/hooks"), 2);
}
