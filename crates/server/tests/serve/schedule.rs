//! The reconcile: what no webhook brings, the scheduled sync does.

use crate::harness::{config, eventually, App, PATIENCE};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn without_webhooks_a_change_reaches_the_app_at_the_next_reconcile() {
    let mut config = config();
    config.reconcile_every = Duration::from_secs(1);
    let app = App::start_with(config, false).await;
    let pat = app.kit.procore_user("Alvarez");
    app.kit
        .ui_edit(
            &format!("users/{pat}"),
            Some(json!({"first_name": "Patricia"})),
        )
        .await;
    eventually(PATIENCE, "the worker renamed by a reconcile", || async {
        (app.worker_first_name(pat).await.as_deref() == Some("Patricia")).then_some(())
    })
    .await;
    assert!(
        app.kit.sim().read(|w| w.hooks.is_empty()),
        "no public URL: no hook"
    );
    app.stop().await;
}

#[tokio::test]
async fn jobs_done_over_a_week_ago_are_pruned_and_recent_ones_kept() {
    let mut app = App::start_with(config(), false).await;
    let store = app.kit.store.clone();
    let store = &store;
    let company = app.kit.company;
    // No server running while the old job is made, or it would take it.
    app.server.take().unwrap().stop().await.unwrap();
    let long_ago = chrono::Utc::now() - chrono::Duration::days(8);
    let work = sync::jobs::Work::Hook;
    let old = sync::jobs::enqueue(store, company, &work, long_ago, 8)
        .await
        .unwrap()
        .id();
    let claimed = store
        .claim_job("test", long_ago, Duration::from_secs(60))
        .await
        .unwrap()
        .expect("the old job");
    assert_eq!(claimed.job.id, old);
    store.complete_job(claimed.lease, long_ago).await.unwrap();
    let recent = store
        .jobs(&store::JobFilter {
            state: Some(store::JobState::Done),
            ..store::JobFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.id != old)
        .expect("the start's own jobs, done just now");

    // The pruning runs when a server starts.
    app.restart(config()).await;
    eventually(PATIENCE, "the old job pruned", || async {
        store
            .job(company, old)
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(store.job(company, recent.id).await.unwrap().is_some());
    app.stop().await;
}
