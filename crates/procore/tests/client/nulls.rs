//! Procore may send any property its schemas do not mark required as `null`. The simulator
//! nulls every one of them (`null_probability` 1.0; ids are spared), and every model the
//! client reads must still decode: no error, no malformed record.

use std::fmt::Debug;

use procore::api::commitments::CommitmentKind;
use procore::api::webhooks::NewHook;
use procore::models::InsuranceWrite;
use procore::{Collected, FileId, FolderId, ProjectId, VendorId};
use procore_sim::{demo, Running, Sim, SimConfig};

use crate::cc_client;

async fn all_null_sim() -> Running {
    procore_sim::spawn(Sim::new(
        demo::world(),
        SimConfig {
            rate_limits: None,
            null_probability: 1.0,
            ..SimConfig::default()
        },
    ))
    .await
}

fn clean<T: Debug>(what: &str, c: &Collected<T>) -> usize {
    assert!(c.malformed.is_empty(), "{what}: {:?}", c.malformed);
    c.items.len()
}

#[tokio::test]
async fn every_model_decodes_when_every_optional_field_is_null() {
    let app = all_null_sim().await;
    let client = cc_client(&app.url());
    // A project with documents if the demo has any, an active vendor.
    let (project, vendor, folder, file) = app.sim().read(|w| {
        let file = w.files.values().find(|f| !f.is_deleted);
        let p = file
            .map(|f| f.project_id)
            .or_else(|| w.projects.values().find(|p| p.active).map(|p| p.id));
        let folder = w
            .folders
            .values()
            .find(|f| Some(f.project_id) == p && f.parent_id.is_some())
            .map(|f| f.id);
        let v = w.vendors.values().find(|v| v.is_active).map(|v| v.id);
        (p.unwrap(), v.unwrap(), folder, file.map(|f| f.id))
    });
    let (project, vendor) = (ProjectId(project), VendorId(vendor));

    // Identity and projects.
    let me = client.me().await.unwrap();
    assert!(me.id.get() > 0);
    assert!(clean("companies", &client.companies().collect().await.unwrap()) > 0);
    assert!(
        clean(
            "projects",
            &client.projects().list().collect().await.unwrap()
        ) > 0
    );
    clean(
        "projects v1.1",
        &client.projects().list_v11().collect().await.unwrap(),
    );
    let shown = client.projects().get(project).await.unwrap();
    assert_eq!(shown.id, project);
    assert_eq!(shown.name, None, "the simulator nulled it");

    // Directory.
    let users = client.users().list().collect().await.unwrap();
    assert!(clean("users", &users) > 0);
    clean(
        "inactive users",
        &client.users().list_inactive().collect().await.unwrap(),
    );
    clean(
        "users v1.3",
        &client.users().list_v13().collect().await.unwrap(),
    );
    let user = users.items[0].id;
    assert_eq!(client.users().get(user).await.unwrap().id, user);
    assert_eq!(client.users().get_v13(user).await.unwrap().id, user);
    assert!(clean("vendors", &client.vendors().list().collect().await.unwrap()) > 0);
    clean(
        "inactive vendors",
        &client.vendors().list_inactive().collect().await.unwrap(),
    );
    assert_eq!(client.vendors().get(vendor).await.unwrap().id, vendor);
    clean(
        "contacts",
        &client.vendors().contacts(vendor).collect().await.unwrap(),
    );
    clean("people", &client.people().list().collect().await.unwrap());

    // Commitments, v1.0 and v2.0, and custom field definitions.
    let mut commitments = 0;
    for p in client.projects().list().collect().await.unwrap().items {
        let h = client.commitments(p.id);
        let woc = h.work_order_contracts().collect().await.unwrap();
        commitments += clean("work orders", &woc);
        commitments += clean(
            "purchase orders",
            &h.purchase_order_contracts().collect().await.unwrap(),
        );
        clean("v2 contracts", &h.contracts().collect().await.unwrap());
        if let Some(c) = woc.items.first() {
            assert_eq!(
                h.get(CommitmentKind::WorkOrder, c.id).await.unwrap().id,
                c.id
            );
        }
    }
    assert!(commitments > 0);
    clean(
        "custom field definitions",
        &client.custom_field_definitions().collect().await.unwrap(),
    );

    // Insurances at every scope, read and written.
    let ins = client.insurances();
    clean(
        "company insurances",
        &ins.company().list().collect().await.unwrap(),
    );
    clean(
        "project insurances",
        &ins.project(project).list().collect().await.unwrap(),
    );
    clean(
        "project vendor insurances",
        &ins.project_vendor(project, vendor)
            .list()
            .collect()
            .await
            .unwrap(),
    );
    let scope = ins.company_vendor(vendor);
    let created = scope
        .create(&InsuranceWrite {
            insurance_type: Some("General Liability".into()),
            ..InsuranceWrite::default()
        })
        .await
        .unwrap();
    assert_eq!(scope.get(created.id).await.unwrap().id, created.id);
    assert!(clean("vendor insurances", &scope.list().collect().await.unwrap()) > 0);

    // Documents: the root, a folder, a file and its versions, a new folder.
    let docs = client.documents(project);
    let root = docs.root().await.unwrap();
    if let Some(id) = folder {
        docs.folder(FolderId(id)).await.unwrap();
    }
    if let Some(id) = file {
        assert_eq!(docs.file(FileId(id)).await.unwrap().id, FileId(id));
    }
    let made = docs.create_folder(Some(root.id), "Nulls").await.unwrap();
    assert!(made.id.get() > 0);

    // Webhooks: a hook, its triggers.
    let hooks = client.webhooks();
    let hook = hooks
        .create_hook(&NewHook {
            api_version: "v2".into(),
            namespace: "nulls".into(),
            destination_url: "https://example.invalid/hook".into(),
            authorization: None,
        })
        .await
        .unwrap();
    hooks
        .create_trigger(hook.id, "Projects", "create")
        .await
        .unwrap();
    assert!(!hooks.list_hooks(None).await.unwrap().is_empty());
    assert!(!hooks.list_triggers(hook.id).await.unwrap().is_empty());
}
