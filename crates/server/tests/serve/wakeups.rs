//! Wake-ups across processes on PostgreSQL: idle workers wait for a job to be enqueued, not
//! for their next poll, even when another process enqueued it.

use crate::harness::{config, eventually, serve, PATIENCE};
use server::{ServerConfig, Work};
use std::time::Duration;
use store::JobState;

#[tokio::test]
async fn a_job_another_process_enqueues_runs_at_once_on_two_servers_that_poll_hourly() {
    let kit = testkit::Kit::spawn(
        procore_sim::demo::world(),
        testkit::quiet(),
        testkit::Backend::Postgres,
        |_| {},
    )
    .await;
    let hourly = ServerConfig {
        poll_every: Duration::from_secs(3600),
        ..config()
    };
    let servers = [
        serve(&kit, hourly.clone(), false).await,
        serve(&kit, hourly, false).await,
    ];
    let store = &kit.store;
    let company = kit.company;
    eventually(PATIENCE, "the servers' first work done", || async move {
        let counts = store.job_counts().await.unwrap();
        let busy = counts
            .iter()
            .any(|(_, s, n)| *n > 0 && matches!(s, JobState::Pending | JobState::Running));
        let done = counts
            .iter()
            .any(|(_, s, n)| *n > 0 && *s == JobState::Done);
        (done && !busy).then_some(())
    })
    .await;

    // Another process (a store of its own, as `trestle jobs retry` or a third server has)
    // enqueues a job; both servers' workers are idle, with an hour until they look again.
    let other = kit.database.open().await;
    let enqueued = server::enqueue(&other, company, &Work::Hook, chrono::Utc::now(), 3)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    eventually(Duration::from_secs(10), "the job done", || async {
        let job = store.job(company, enqueued.id()).await.unwrap()?;
        (job.state == JobState::Done).then_some(())
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "taken up in {:?}",
        started.elapsed()
    );
    other.close().await;
    for s in servers {
        s.stop().await.unwrap();
    }
    kit.database.remove().await;
}
