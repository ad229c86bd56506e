//! Stopping: a stop asked for mid-work loses nothing; the next process finishes the job.

use crate::harness::{config, eventually, App, PATIENCE};
use std::time::Duration;
use store::{JobFilter, JobState};
use sync::jobs::{Integration, Work};

#[tokio::test]
async fn a_stop_mid_job_hands_the_job_back_and_the_next_server_finishes_it() {
    let mut quick_stop = config();
    quick_stop.shutdown_grace = Duration::ZERO;
    let mut app = App::start_with(quick_stop.clone(), false).await;
    let pat = app.kit.procore_user("Alvarez");
    app.kit
        .ui_edit(
            &format!("users/{pat}"),
            Some(serde_json::json!({"first_name": "Patricia"})),
        )
        .await;
    // Every Procore answer slow, so the sync is under way when the stop comes.
    app.kit.sim().set_faults(procore_sim::Faults {
        latency: Duration::from_millis(400),
        ..Default::default()
    });
    let work = Work::Sync {
        integration: Integration::Workforce,
        full: true,
        targets: None,
    };
    sync::jobs::enqueue(
        &app.kit.store,
        app.kit.company,
        &work,
        chrono::Utc::now(),
        8,
    )
    .await
    .unwrap();
    let store = app.kit.store.clone();
    let job = eventually(PATIENCE, "the sync running", || async {
        store
            .jobs(&JobFilter {
                state: Some(JobState::Running),
                ..JobFilter::default()
            })
            .await
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "sync.workforce.whole")
    })
    .await;

    // What SIGTERM does: stop claiming, give running jobs the grace (none here), hand back the
    // rest.
    app.server.take().unwrap().stop().await.unwrap();
    let handed_back = store.job(app.kit.company, job.id).await.unwrap().unwrap();
    assert_eq!(handed_back.state, JobState::Pending, "{handed_back:?}");
    assert_eq!(handed_back.attempts, 0, "a stop is not a failed attempt");

    app.kit.sim().set_faults(procore_sim::Faults::default());
    app.restart(quick_stop).await;

    eventually(PATIENCE, "the job done by the next server", || async {
        let j = store.job(app.kit.company, job.id).await.unwrap().unwrap();
        (j.state == JobState::Done).then_some(())
    })
    .await;
    assert_eq!(
        app.worker_first_name(pat).await.as_deref(),
        Some("Patricia")
    );
    let done = store.job(app.kit.company, job.id).await.unwrap().unwrap();
    assert_eq!(done.attempts, 1, "{done:?}");
    app.stop().await;
}
