use futures::{StreamExt, TryStreamExt};
use procore::{api::projects::ProjectStatus, CompanyId, ProjectId};
use procore_sim::demo;

use crate::{cc_client, demo_sim};

#[tokio::test]
async fn pagination_follows_next_links_to_the_last_item() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let expected: usize = app.sim().read(|w| {
        w.users
            .values()
            .filter(|u| u.company_id == demo::COMPANY_ID && u.is_active)
            .count()
    });
    assert!(expected > 3);

    let mut seen = Vec::new();
    let mut totals = Vec::new();
    let pages = client.users().list().per_page(2).pages();
    futures::pin_mut!(pages);
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        assert!(page.malformed.is_empty());
        totals.push(page.total);
        seen.extend(page.items.into_iter().map(|u| u.id));
    }
    assert_eq!(seen.len(), expected);
    assert_eq!(totals.len(), expected.div_ceil(2));
    assert!(
        totals.iter().all(|t| *t == Some(expected as u64)),
        "Total header on every page"
    );
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no record twice");
}

#[tokio::test]
async fn lists_ask_for_the_largest_page_each_endpoint_allows() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    client.users().list().collect().await.unwrap();
    client.projects().list_v11().collect().await.unwrap();
    let project = client
        .projects()
        .list()
        .stream()
        .try_next()
        .await
        .unwrap()
        .unwrap();
    client
        .commitments(project.id)
        .contracts()
        .collect()
        .await
        .unwrap();
    let log = app.sim().request_log();
    let query_of = |path: &str| {
        log.iter()
            .find(|e| e.path.starts_with(path))
            .and_then(|e| e.query.clone())
            .unwrap_or_default()
    };
    assert!(query_of("/rest/v1.0/companies/").contains("per_page=2000"));
    assert!(query_of("/rest/v1.1/projects").contains("per_page=300"));
    assert!(query_of("/rest/v2.0/").contains("per_page=100"));
}

#[tokio::test]
async fn progress_reports_records_seen_against_the_total() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let c2 = calls.clone();
    let all = client
        .projects()
        .list()
        .status(ProjectStatus::All)
        .into_list()
        .per_page(2)
        .on_progress(move |seen, total| c2.lock().unwrap().push((seen, total)))
        .collect()
        .await
        .unwrap();
    let calls = calls.lock().unwrap();
    assert_eq!(calls.last().unwrap().0, all.items.len() as u64);
    assert_eq!(calls.last().unwrap().1, Some(all.items.len() as u64));
    assert_eq!(all.pages as usize, calls.len());
    let _ = (CompanyId(1), ProjectId(1));
}

#[tokio::test]
async fn a_read_carries_procores_clock_from_the_date_header() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    app.sim()
        .advance_clock(std::time::Duration::from_secs(3 * 24 * 3600));
    let before = app.sim().now();

    let users = client.users().list().collect().await.unwrap();

    let at = users.server_time.expect("the Date header is read");
    let after = app.sim().now();
    // Whole seconds on the wire.
    assert!(
        at >= before - chrono::Duration::seconds(1) && at <= after,
        "{at} is not between {before} and {after}"
    );
}
