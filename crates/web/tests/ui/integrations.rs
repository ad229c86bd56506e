use crate::{eventually, open, DESK, PATIENCE};
use harness::Served;
use procore_sim::demo;

#[tokio::test]
async fn an_admin_connects_a_procore_company_by_its_company_id_and_sees_the_permission_checklist() {
    let served = Served::fresh().await;
    let company = served.kit.company;
    let browser = open(&served, DESK).await;
    browser.go("/ui/").await;
    browser.sign_in(&served.admin).await;
    browser.sees("No Procore company is connected yet").await;
    browser.seen("integrations-empty").await;

    browser.go("/ui/integrations/procore").await;
    // A Company ID that is no number is named, with where to find the right one.
    browser.fill("company_id", "Granite Peak").await;
    browser.fill("client_id", demo::CLIENT_ID).await;
    browser.fill("client_secret", demo::CLIENT_SECRET).await;
    browser.press("Connect").await;
    browser.sees("the number after /app/company/").await;
    let invalid = browser
        .client
        .execute(
            "return document.getElementById('company_id').getAttribute('aria-invalid')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(invalid, "true");
    // The form keeps what was typed, but never the secret.
    let secret = browser
        .client
        .execute(
            "return document.getElementById('client_secret').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(secret, "");
    browser.seen("connect-refused").await;

    browser.fill("company_id", &company.to_string()).await;
    browser.fill("client_secret", demo::CLIENT_SECRET).await;
    browser.press("Connect").await;
    let page = browser
        .sees(&format!("Connected Procore company {company}"))
        .await;
    assert!(page.contains("Workforce permissions"), "{page}");
    assert!(page.contains("✓"), "{page}");
    browser.seen("connect-checklist").await;

    // The first sync runs by itself: the company's workers arrive.
    let store = served.kit.store.clone();
    eventually(PATIENCE, "the first sync brings the workers", || async {
        (!store.workers(company).await.unwrap().is_empty()).then_some(())
    })
    .await;
    browser.go("/ui/").await;
    let page = browser.sees(&format!("Procore company {company}")).await;
    assert!(page.contains("Sync Forms to Procore"), "{page}");
    browser.seen("integrations").await;
    browser.close().await;
}
