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
    browser.seen("connect").await;
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

#[tokio::test]
async fn an_admin_turns_sync_forms_on_from_the_integrations_page_and_an_empty_folder_is_refused() {
    let served = Served::start().await;
    let company = served.kit.company;
    let browser = open(&served, DESK).await;
    browser.go("/ui/").await;
    browser.sign_in(&served.admin).await;
    browser.sees(&format!("Procore company {company}")).await;
    browser
        .fill(&format!("forms_folder-{company}"), "   ")
        .await;
    browser.press("Save the toggles").await;
    browser.sees("the forms folder needs a name").await;
    browser.seen("integrations-refused").await;

    browser.go("/ui/").await;
    browser.click_label("Sync Forms to Procore").await;
    browser
        .fill(&format!("forms_folder-{company}"), "Site Forms")
        .await;
    browser.press("Save the toggles").await;
    let saved = served
        .kit
        .store
        .connection(company)
        .await
        .unwrap()
        .expect("still connected");
    assert_eq!(saved.forms_folder, "Site Forms");
    let shown = browser
        .client
        .execute(
            &format!("return document.getElementById('forms_folder-{company}').value"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown, "Site Forms");
}
