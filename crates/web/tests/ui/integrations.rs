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

#[tokio::test]
async fn the_troubleshooting_answers_lead_to_the_checklist_which_names_a_permission_taken_away_in_procore(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    served.kit.sim().write(|w| {
        w.apps
            .get_mut(demo::CLIENT_ID)
            .unwrap()
            .installations
            .get_mut(&company)
            .unwrap()
            .permissions
            .commitments = procore_sim::world::Level::None;
    });
    let browser = open(&served, DESK).await;
    browser.go("/ui/").await;
    browser.sign_in(&served.admin).await;
    browser.sees(&format!("Procore company {company}")).await;
    browser
        .client
        .find(fantoccini::Locator::XPath(
            "//details[@class='troubleshooting']/summary",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = browser
        .sees("Companies are not being associated to projects in trestle")
        .await;
    for answer in [
        "The trestle Procore user has been permitted for the relevant projects.",
        "The commitment is not in an active state based on your integration settings.",
        "“Only sync primary contact” is enabled, but Procore has no primary contact set.",
        "You are expecting an update, but the compliance change did not result in a subject-level status change.",
    ] {
        assert!(page.contains(answer), "{answer}: {page}");
    }
    browser
        .client
        .execute(
            "document.querySelector('details.troubleshooting').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    browser.seen("integrations-troubleshooting").await;

    browser.press_link("check the permissions again").await;
    browser.fill("company_id", &company.to_string()).await;
    browser.fill("client_id", demo::CLIENT_ID).await;
    browser.fill("client_secret", demo::CLIENT_SECRET).await;
    browser
        .click_label("Only check the permissions; save nothing")
        .await;
    browser.press("Connect").await;
    let page = browser.sees("✗").await;
    let missing = browser
        .client
        .find_all(fantoccini::Locator::Css("li.missing"))
        .await
        .unwrap();
    assert!(!missing.is_empty(), "{page}");
    let named = missing[0].text().await.unwrap();
    assert!(named.to_lowercase().contains("commitment"), "{named}");
    browser.seen("connect-missing").await;
    browser.close().await;
}
