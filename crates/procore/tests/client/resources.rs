use futures::TryStreamExt;
use procore::api::commitments::CommitmentKind;
use procore::api::projects::ProjectStatus;
use procore::CompanyId;
use procore_sim::demo;

use crate::{cc_client, demo_sim};

#[tokio::test]
async fn projects_list_show_and_v11_agree() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let active: Vec<_> = client
        .projects()
        .list()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let all = client
        .projects()
        .list()
        .status(ProjectStatus::All)
        .collect()
        .await
        .unwrap();
    assert!(
        all.items.len() > active.len(),
        "inactive projects only with by_status=All"
    );
    let harbor = active
        .iter()
        .find(|p| p.name.as_deref() == Some("Harbor Tower"))
        .expect("demo project");
    assert_eq!(harbor.total_value, Some("48500000.0".parse().unwrap()));
    assert_eq!(
        harbor.start_date,
        chrono::NaiveDate::from_ymd_opt(2025, 3, 1)
    );
    let shown = client.projects().get(harbor.id).await.unwrap();
    assert_eq!(shown.id, harbor.id);
    assert_eq!(
        shown.description.as_deref(),
        Some("22-storey mixed-use tower")
    );
    let v11 = client.projects().list_v11().collect().await.unwrap();
    assert!(v11.items.iter().any(|p| p.id == harbor.id));
    let since = client
        .projects()
        .list()
        .updated_since(chrono::Utc::now() + chrono::Duration::days(365))
        .collect()
        .await
        .unwrap();
    assert!(since.items.is_empty(), "updated_at filter is applied");
}

#[tokio::test]
async fn users_active_inactive_v13_and_vendor_contacts() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let active = client.users().list().collect().await.unwrap();
    let inactive = client.users().list_inactive().collect().await.unwrap();
    assert!(active.items.iter().all(|u| u.is_active != Some(false)));
    assert!(inactive
        .items
        .iter()
        .any(|u| u.last_name.as_deref() == Some("Nakamura")));
    let pat = active
        .items
        .iter()
        .find(|u| u.last_name.as_deref() == Some("Alvarez"))
        .unwrap();
    let v13 = client.users().get_v13(pat.id).await.unwrap();
    assert_eq!(v13.email_address, pat.email_address);
    assert_eq!(client.users().get(pat.id).await.unwrap().id, pat.id);

    let vendors = client.vendors().list().collect().await.unwrap();
    let acme = vendors
        .items
        .iter()
        .find(|v| v.name.as_deref() == Some("Acme Electric"))
        .unwrap();
    let contact = acme.primary_contact.as_ref().expect("primary_contact");
    assert_eq!(contact.last_name.as_deref(), Some("Voltaire"));
    let contacts = client.vendors().contacts(acme.id).collect().await.unwrap();
    assert_eq!(contacts.items.len(), 2);
    assert!(contacts
        .items
        .iter()
        .all(|u| u.vendor.as_ref().map(|v| v.id) == Some(acme.id)));
    let inactive_vendors = client.vendors().list_inactive().collect().await.unwrap();
    assert!(inactive_vendors
        .items
        .iter()
        .any(|v| v.name.as_deref() == Some("Cobalt Concrete (closed)")));
    assert_eq!(client.vendors().get(acme.id).await.unwrap().id, acme.id);
    let people = client.people().list().collect().await.unwrap();
    assert!(!people.items.is_empty());
}

#[tokio::test]
async fn commitments_carry_status_executed_vendor_and_custom_fields() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let projects = client.projects().list().collect().await.unwrap();
    let mut seen = 0;
    for p in &projects.items {
        let h = client.commitments(p.id);
        let woc = h.work_order_contracts().collect().await.unwrap();
        let poc = h.purchase_order_contracts().collect().await.unwrap();
        let v2 = h.contracts().collect().await.unwrap();
        assert_eq!(
            v2.items.len(),
            woc.items.len() + poc.items.len(),
            "v2 lists both kinds"
        );
        for c in woc.items.iter().chain(&poc.items) {
            assert!(c.status.is_some() && c.executed.is_some() && c.vendor.is_some());
        }
        if let Some(c) = woc.items.first() {
            let shown = h.get(CommitmentKind::WorkOrder, c.id).await.unwrap();
            assert_eq!(shown.id, c.id);
            // Procore's v1.0 schemas document no `custom_fields`: they come from v2.0.
            assert!(shown.custom_fields.is_none());
        }
        if let Some(c) = poc.items.first() {
            assert_eq!(
                h.get(CommitmentKind::PurchaseOrder, c.id).await.unwrap().id,
                c.id
            );
        }
        assert!(
            v2.items.iter().all(|c| c.custom_fields.is_some()),
            "extended view has custom fields"
        );
        seen += woc.items.len() + poc.items.len();
    }
    assert!(seen > 0);
}

#[tokio::test]
async fn me_and_companies_identify_the_service_account() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let me = client.me().await.unwrap();
    assert!(me.id.get() > 0);
    let companies = client.companies().collect().await.unwrap();
    assert!(companies
        .items
        .iter()
        .any(|c| c.id == CompanyId(demo::COMPANY_ID)));
}
