//! Wake-ups from other processes: on PostgreSQL, a job another process enqueued (or a person
//! retried) wakes an idle worker here at once instead of at its next `poll_every`.

use crate::Shared;
use tokio_util::sync::CancellationToken;

/// Relays the store's job wake-ups to this process's workers until `stop`. Without them (on
/// SQLite, or when the listening connection cannot be made) the workers' poll remains.
pub(crate) async fn relay(shared: Shared, stop: CancellationToken) {
    let mut wakeups = match shared.store.job_wakeups().await {
        Ok(Some(w)) => w,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for jobs other processes enqueue; idle workers look for them every poll_every");
            return;
        }
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            woken = wakeups.next() => match woken {
                // One worker per job: a permit kept for a worker between its claim and its
                // wait, so a wake-up in that moment is not lost.
                Ok(()) => shared.wake.notify_one(),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the job wake-ups; trying again");
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(shared.config.poll_every) => {}
                    }
                }
            },
        }
    }
}
