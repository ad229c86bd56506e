use crate::{eventually, open, DESK, PATIENCE};
use harness::Served;
use procore_sim::demo;

#[tokio::test]
async fn work_that_failed_on_a_rotated_secret_is_retried_from_the_activity_page_and_a_record_explained(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    // The app's secret was rotated in Procore and trestle still has the old one.
    let mut stale = testkit::demo_connection();
    stale.client_secret = "the-old-secret".to_string().into();
    served
        .kit
        .store
        .save_connection(&stale, None)
        .await
        .unwrap();

    let browser = open(&served, DESK).await;
    let activity = format!("/ui/companies/{company}/activity");
    browser.go(&activity).await;
    browser.sign_in(&served.admin).await;
    browser.press("Sync workforce now").await;
    let http = reqwest::Client::new();
    let dead = || async {
        http.get(format!(
            "{}/api/v1/jobs?company_id={company}&state=dead",
            served.server.url
        ))
        .bearer_auth(&served.admin)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["id"].as_i64())
        .collect::<Vec<_>>()
    };
    let job = eventually(PATIENCE, "the sync fails for good", || async {
        dead().await.first().copied()
    })
    .await;
    browser.go(&activity).await;
    let page = browser.text().await;
    assert!(page.contains("refused the app credentials"), "{page}");
    browser.seen("activity-failed").await;

    // The administrator saves the new secret, then runs the failed work again.
    browser.go("/ui/integrations/procore").await;
    browser.fill("company_id", &company.to_string()).await;
    browser.fill("client_id", demo::CLIENT_ID).await;
    browser.fill("client_secret", demo::CLIENT_SECRET).await;
    browser.press("Connect").await;
    browser
        .sees(&format!("Connected Procore company {company}"))
        .await;
    browser.go(&activity).await;
    browser.press(&format!("Retry job {job}")).await;
    eventually(PATIENCE, "the failed work done", || async {
        (!dead().await.contains(&job)).then_some(())
    })
    .await;
    browser.go(&activity).await;
    let retry = browser
        .client
        .find_all(fantoccini::Locator::Css(&format!(
            "button[aria-label='Retry job {job}']"
        )))
        .await
        .unwrap();
    assert!(retry.is_empty(), "the job is no longer listed as failed");
    browser.seen("activity").await;
    // A run, with every decision it made: the oldest listed, the first sync, made many.
    let run = eventually(PATIENCE, "a run listed", || async {
        browser.go(&activity).await;
        browser
            .client
            .find_all(fantoccini::Locator::Css("a[href*='/runs/']"))
            .await
            .ok()
            .and_then(|runs| runs.last().cloned())
    })
    .await;
    run.click().await.unwrap();
    browser.settled().await;
    let page = browser.sees("started").await;
    assert!(!page.contains("It decided nothing"), "{page}");
    browser.seen("run").await;
    browser.go(&activity).await;

    // Why is a Procore user a worker? The explain form answers.
    let user = served.kit.sim().read(|w| {
        w.users
            .values()
            .filter(|u| u.company_id == company && u.is_active)
            .map(|u| u.id)
            .min()
            .unwrap()
    });
    browser.choose("explain-kind", "Procore user").await;
    browser.fill("explain-id", &user.to_string()).await;
    browser.press("Explain").await;
    let page = browser.sees("What the syncs decided").await;
    assert!(page.contains("What trestle holds for it now"), "{page}");
    assert!(!page.contains("No sync has decided anything"), "{page}");
    browser.seen("explain").await;
    browser.close().await;
}
