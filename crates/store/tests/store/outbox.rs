use crate::COMPANY;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::time::Duration;
use store::{NewOutboxItem, OutboxState};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const LEASE: Duration = Duration::from_secs(60);

both!(enqueueing_the_same_key_twice_keeps_one_item, |ctx| {
    let s = &ctx.store;
    assert!(s
        .enqueue(&NewOutboxItem::new(
            COMPANY,
            "upload_form",
            "form:1:rev:1",
            r#"{"a":1}"#
        ))
        .await
        .unwrap());
    assert!(!s
        .enqueue(&NewOutboxItem::new(
            COMPANY,
            "upload_form",
            "form:1:rev:1",
            r#"{"a":2}"#
        ))
        .await
        .unwrap());
    assert_eq!(s.pending_count().await.unwrap(), 1);
    let item = s
        .outbox_item_by_key(COMPANY, "form:1:rev:1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.payload_json, r#"{"a":1}"#, "the first payload stays");
});

both!(
    another_companys_outbox_item_is_not_found_by_id_or_key,
    |ctx| {
        let s = &ctx.store;
        s.enqueue(&NewOutboxItem::new(
            COMPANY,
            "upload_form",
            "form:9:rev:1",
            "{}",
        ))
        .await
        .unwrap();
        let item = s
            .outbox_item_by_key(COMPANY, "form:9:rev:1")
            .await
            .unwrap()
            .expect("the company's own item");
        assert!(s.outbox_item(COMPANY, item.id).await.unwrap().is_some());
        assert!(s.outbox_item(COMPANY + 1, item.id).await.unwrap().is_none());
        assert!(s
            .outbox_item_by_key(COMPANY + 1, "form:9:rev:1")
            .await
            .unwrap()
            .is_none());
    }
);

both!(
    a_claimed_outbox_item_returns_after_its_lease_expires,
    |ctx| {
        let s = &ctx.store;
        s.enqueue(&NewOutboxItem::new(COMPANY, "upload_form", "k1", "{}"))
            .await
            .unwrap();
        let now = t("2026-11-22T10:00:00Z");
        let first = s.claim_next(now, LEASE).await.unwrap().unwrap();
        assert_eq!((first.key.as_str(), first.attempts), ("k1", 1));
        assert_eq!(first.available_at, t("2026-11-22T10:01:00Z"));
        assert_eq!(
            s.claim_next(t("2026-11-22T10:00:59Z"), LEASE)
                .await
                .unwrap(),
            None,
            "leased"
        );
        let again = s
            .claim_next(t("2026-11-22T10:01:00Z"), LEASE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (again.id, again.attempts),
            (first.id, 2),
            "the crashed claimer's item came back"
        );
        s.complete(again.id, r#"{"file_id":3001}"#).await.unwrap();
        assert_eq!(
            s.claim_next(t("2026-11-22T11:00:00Z"), LEASE)
                .await
                .unwrap(),
            None
        );
        let done = s.outbox_item(COMPANY, first.id).await.unwrap().unwrap();
        assert_eq!(
            (done.state, done.result_json.as_deref()),
            (OutboxState::Done, Some(r#"{"file_id":3001}"#))
        );
        assert_eq!(s.pending_count().await.unwrap(), 0);
    }
);

both!(
    a_failed_item_waits_for_its_retry_time_and_a_given_up_item_never_returns,
    |ctx| {
        let s = &ctx.store;
        s.enqueue(&NewOutboxItem::new(COMPANY, "upload_form", "k1", "{}"))
            .await
            .unwrap();
        let now = t("2026-11-22T10:00:00Z");
        let item = s.claim_next(now, LEASE).await.unwrap().unwrap();
        s.fail(item.id, "503 from Procore", Some(t("2026-11-22T10:10:00Z")))
            .await
            .unwrap();
        assert_eq!(
            s.claim_next(t("2026-11-22T10:09:59Z"), LEASE)
                .await
                .unwrap(),
            None
        );
        let retried = s
            .claim_next(t("2026-11-22T10:10:00Z"), LEASE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(retried.last_error.as_deref(), Some("503 from Procore"));
        s.fail(retried.id, "403: no permission", None)
            .await
            .unwrap();
        assert_eq!(
            s.claim_next(t("2030-01-01T00:00:00Z"), LEASE)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            s.outbox_item(COMPANY, item.id)
                .await
                .unwrap()
                .unwrap()
                .state,
            OutboxState::Failed
        );
        assert_eq!(s.pending_count().await.unwrap(), 0);
    }
);

both!(
    items_are_claimed_oldest_first_and_not_before_their_time,
    |ctx| {
        let s = &ctx.store;
        let mut later = NewOutboxItem::new(COMPANY, "upload_form", "later", "{}");
        later.not_before = Some(t("2026-11-22T12:00:00Z"));
        s.enqueue(&later).await.unwrap();
        s.enqueue(&NewOutboxItem::new(COMPANY, "upload_form", "a", "{}"))
            .await
            .unwrap();
        s.enqueue(&NewOutboxItem::new(COMPANY, "upload_form", "b", "{}"))
            .await
            .unwrap();
        let now = t("2026-11-22T10:00:00Z");
        let mut keys = Vec::new();
        while let Some(item) = s.claim_next(now, LEASE).await.unwrap() {
            s.complete(item.id, "{}").await.unwrap();
            keys.push(item.key);
        }
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(
            s.claim_next(t("2026-11-22T12:00:00Z"), LEASE)
                .await
                .unwrap()
                .unwrap()
                .key,
            "later"
        );
    }
);

both!(two_claimers_never_get_the_same_outbox_item, |ctx| {
    const ITEMS: usize = 40;
    for i in 0..ITEMS {
        ctx.store
            .enqueue(&NewOutboxItem::new(
                COMPANY,
                "upload_form",
                &format!("k{i}"),
                "{}",
            ))
            .await
            .unwrap();
    }
    let now = t("2026-11-22T10:00:00Z");
    let mut claimers = Vec::new();
    for _ in 0..4 {
        let store = ctx.store.clone();
        claimers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(item) = store.claim_next(now, LEASE).await.unwrap() {
                got.push(item.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.unwrap());
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), ITEMS, "every item was claimed exactly once");
    assert_eq!(distinct.len(), ITEMS);
});

both!(a_worker_claims_only_its_own_company_and_kind, |ctx| {
    let s = &ctx.store;
    let other_company = COMPANY + 1;
    s.enqueue(&NewOutboxItem::new(other_company, "upload_form", "a", "{}"))
        .await
        .unwrap();
    s.enqueue(&NewOutboxItem::new(COMPANY, "write_insurance", "b", "{}"))
        .await
        .unwrap();
    s.enqueue(&NewOutboxItem::new(COMPANY, "upload_form", "c", "{}"))
        .await
        .unwrap();
    let now = t("2026-11-22T10:00:00Z");
    let mine = s
        .claim_next_for(COMPANY, "upload_form", now, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mine.key, "c");
    assert_eq!(
        s.claim_next_for(COMPANY, "upload_form", now, LEASE)
            .await
            .unwrap(),
        None,
        "the others stay for their own workers"
    );
    assert_eq!(s.pending_count().await.unwrap(), 3);
});

both!(
    released_leases_come_back_at_once_but_retry_delays_stay,
    |ctx| {
        let s = &ctx.store;
        s.enqueue(&NewOutboxItem::new(COMPANY, "upload_form", "leased", "{}"))
            .await
            .unwrap();
        s.enqueue(&NewOutboxItem::new(COMPANY, "upload_form", "delayed", "{}"))
            .await
            .unwrap();
        let now = t("2026-11-22T10:00:00Z");
        let leased = s
            .claim_next_for(COMPANY, "upload_form", now, LEASE)
            .await
            .unwrap()
            .unwrap();
        let delayed = s
            .claim_next_for(COMPANY, "upload_form", now, LEASE)
            .await
            .unwrap()
            .unwrap();
        s.fail(
            delayed.id,
            "Procore was down",
            Some(t("2026-11-22T11:00:00Z")),
        )
        .await
        .unwrap();
        assert_eq!(
            s.release_leases(COMPANY, "upload_form", now).await.unwrap(),
            1
        );
        let again = s
            .claim_next_for(COMPANY, "upload_form", now, LEASE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.id, leased.id, "the crashed claim is claimable again");
        assert_eq!(
            s.claim_next_for(COMPANY, "upload_form", now, LEASE)
                .await
                .unwrap(),
            None,
            "the retry delay is kept"
        );
    }
);

both!(
    a_batch_claim_takes_several_due_items_of_one_kind_once,
    |ctx| {
        let s = &ctx.store;
        for key in ["b1", "b2", "b3"] {
            s.enqueue(&NewOutboxItem::new(COMPANY, "write_insurance", key, "{}"))
                .await
                .unwrap();
        }
        s.enqueue(&NewOutboxItem::new(COMPANY, "upload_form", "other", "{}"))
            .await
            .unwrap();
        let now = t("2026-11-22T10:00:00Z");
        let batch = s
            .claim_batch_for(COMPANY, "write_insurance", now, LEASE, 2)
            .await
            .unwrap();
        let keys: Vec<&str> = batch.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["b1", "b2"], "oldest first, at most the asked number");
        let rest = s
            .claim_batch_for(COMPANY, "write_insurance", now, LEASE, 10)
            .await
            .unwrap();
        let keys: Vec<&str> = rest.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["b3"], "claimed items are not claimed again");
    }
);
