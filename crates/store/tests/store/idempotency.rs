use chrono::{DateTime, Utc};
use store::{KeyClaim, IDEMPOTENCY_KEPT};

fn t(n: i64) -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::seconds(n)
}

both!(
    a_key_is_claimed_once_and_then_answers_what_its_first_request_answered,
    |ctx| {
        let s = &ctx.store;
        let claim = |key: &'static str, fingerprint: &'static str, at| {
            s.claim_idempotency_key("caller", key, fingerprint, t(at))
        };
        assert_eq!(claim("k", "req-a", 0).await.unwrap(), KeyClaim::First);
        assert_eq!(claim("k", "req-a", 1).await.unwrap(), KeyClaim::InFlight);
        s.answer_idempotency_key("caller", "k", 201, Some("application/json"), "{\"id\":1}")
            .await
            .unwrap();
        assert_eq!(
            claim("k", "req-a", 2).await.unwrap(),
            KeyClaim::Answered {
                status: 201,
                content_type: Some("application/json".into()),
                body: "{\"id\":1}".into()
            }
        );
        assert_eq!(
            claim("k", "req-b", 3).await.unwrap(),
            KeyClaim::OtherRequest
        );
        // Another caller's key of the same name is its own.
        assert_eq!(
            s.claim_idempotency_key("someone else", "k", "req-b", t(3))
                .await
                .unwrap(),
            KeyClaim::First
        );
        // A day later the key is free again.
        let later = IDEMPOTENCY_KEPT.num_seconds() + 10;
        assert_eq!(claim("k", "req-b", later).await.unwrap(), KeyClaim::First);
    }
);

both!(a_released_key_may_be_claimed_again, |ctx| {
    let s = &ctx.store;
    assert_eq!(
        s.claim_idempotency_key("c", "k", "f", t(0)).await.unwrap(),
        KeyClaim::First
    );
    s.release_idempotency_key("c", "k").await.unwrap();
    assert_eq!(
        s.claim_idempotency_key("c", "k", "f", t(1)).await.unwrap(),
        KeyClaim::First
    );
});

both!(
    a_kept_answer_is_sealed_in_the_database_and_opens_only_under_its_own_key,
    |ctx| {
        let s = &ctx.store;
        let answer = "{\"token\":\"trestle_kept-secret\"}";
        s.claim_idempotency_key("caller", "k", "f", t(0))
            .await
            .unwrap();
        s.answer_idempotency_key("caller", "k", 201, None, answer)
            .await
            .unwrap();
        let stored = ctx.raw_texts("SELECT body FROM idempotency_keys").await;
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].contains("kept-secret"), "{stored:?}");
        let back = s.claim_idempotency_key("caller", "k", "f", t(1)).await;
        assert!(
            matches!(&back, Ok(KeyClaim::Answered { body, .. }) if body == answer),
            "{back:?}"
        );
        ctx.raw_execute("UPDATE idempotency_keys SET idem_key = 'moved'")
            .await;
        let moved = s.claim_idempotency_key("caller", "moved", "f", t(2)).await;
        assert!(moved.is_err(), "{moved:?}");
    }
);
