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
