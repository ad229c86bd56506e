use crate::{eventually, open, DESK, PATIENCE};
use domain::workforce::WorkerStatus;
use harness::Served;

#[tokio::test]
async fn an_admin_finds_a_worker_by_name_and_blocks_and_unblocks_them_from_the_workers_page() {
    let served = Served::start().await;
    let company = served.kit.company;
    let store = served.kit.store.clone();
    let worker = eventually(PATIENCE, "the first sync brings the workers", || async {
        store
            .workers(company)
            .await
            .unwrap()
            .into_iter()
            .find(|w| w.status() != WorkerStatus::Blocked)
    })
    .await;
    let name = format!("{} {}", worker.fields.first_name, worker.fields.last_name);
    let browser = open(&served, DESK).await;
    browser
        .go(&format!("/ui/companies/{company}/workforce/workers"))
        .await;
    browser.sign_in(&served.admin).await;
    browser.sees(&name).await;
    browser.screenshot("workers").await;

    // Found by name; the filter stays in the address, so the page can be shared.
    browser.fill("q", &worker.fields.last_name).await;
    browser.press("Filter").await;
    assert!(browser.at().await.contains("q="), "{}", browser.at().await);
    browser.press(&format!("Block {name}")).await;
    let page = browser.sees("Blocked (by an administrator)").await;
    assert!(page.contains(&name), "{page}");
    assert!(browser.at().await.contains("q="), "the filter is kept");
    assert_eq!(
        store
            .worker(company, worker.id)
            .await
            .unwrap()
            .unwrap()
            .status(),
        WorkerStatus::Blocked
    );

    // Only the blocked, then unblocked.
    browser.fill("q", "").await;
    browser.choose("status", "Blocked").await;
    browser.press("Filter").await;
    browser.sees(&name).await;
    browser.screenshot("workers-blocked").await;
    browser.press(&format!("Unblock {name}")).await;
    let page = browser.text().await;
    assert!(!page.contains(&name), "{page}");
    assert_eq!(
        store
            .worker(company, worker.id)
            .await
            .unwrap()
            .unwrap()
            .status(),
        worker.status(),
        "unblocked, the worker is where they were"
    );
    browser.close().await;
}
