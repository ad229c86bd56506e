use chrono::{DateTime, Utc};
use store::{ApiScope, NewApiToken, NewUiSession, SessionRequest, StoreError};

fn t(n: i64) -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::seconds(n)
}

fn new<'a>(name: &'a str, scope: ApiScope, hash: &'a str) -> NewApiToken<'a> {
    NewApiToken {
        name,
        scope,
        prefix: "trestle_abcdef",
        token_hash: hash,
        created_at: t(0),
    }
}

both!(a_token_is_found_by_its_hash_until_it_is_revoked, |ctx| {
    let s = &ctx.store;
    let made = s
        .create_api_token(&new("CI", ApiScope::Admin, "hash-ci"))
        .await
        .unwrap();
    assert_eq!((made.name.as_str(), made.scope), ("CI", ApiScope::Admin));
    let found = s.use_api_token("hash-ci", t(10)).await.unwrap().unwrap();
    assert_eq!(found.id, made.id);
    assert_eq!(found.last_used_at, Some(t(10)));
    assert_eq!(s.use_api_token("hash-other", t(10)).await.unwrap(), None);

    let revoked = s.revoke_api_token(made.id, t(20)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t(20)));
    assert_eq!(s.use_api_token("hash-ci", t(30)).await.unwrap(), None);
    // Still listed, with when it was cut off.
    let listed = s.api_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(t(20)));
});

both!(revoking_an_unknown_or_revoked_token_says_which, |ctx| {
    let s = &ctx.store;
    let made = s
        .create_api_token(&new("CI", ApiScope::ReadOnly, "h"))
        .await
        .unwrap();
    s.revoke_api_token(made.id, t(1)).await.unwrap();
    assert!(matches!(
        s.revoke_api_token(made.id, t(2)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.revoke_api_token(made.id + 1, t(2)).await,
        Err(StoreError::NotFound { .. })
    ));
    // The second revocation did not move the first one's time.
    assert_eq!(s.api_tokens().await.unwrap()[0].revoked_at, Some(t(1)));
});

both!(a_tokens_use_is_recorded_at_most_once_a_minute, |ctx| {
    let s = &ctx.store;
    s.create_api_token(&new("phone", ApiScope::ReadOnly, "h"))
        .await
        .unwrap();
    s.use_api_token("h", t(0)).await.unwrap();
    let second = s.use_api_token("h", t(30)).await.unwrap().unwrap();
    assert_eq!(second.last_used_at, Some(t(0)));
    let third = s.use_api_token("h", t(61)).await.unwrap().unwrap();
    assert_eq!(third.last_used_at, Some(t(61)));
    assert_eq!(s.api_tokens().await.unwrap()[0].last_used_at, Some(t(61)));
});

both!(
    a_ui_sessions_requests_count_as_its_tokens_use_but_its_pages_polls_do_not,
    |ctx| {
        let s = &ctx.store;
        let made = s
            .create_api_token(&new("admin", ApiScope::Admin, "h"))
            .await
            .unwrap();
        s.create_ui_session(&NewUiSession {
            id_hash: "session",
            token_id: made.id,
            csrf: "c",
            created_at: t(0),
            expires_at: t(3600),
        })
        .await
        .unwrap();
        // A page asking by itself whether anything changed is not a use.
        let (token, _) = s
            .ui_session("session", t(90), SessionRequest::Poll)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(token.last_used_at, None);
        assert_eq!(s.api_tokens().await.unwrap()[0].last_used_at, None);
        let (token, _) = s
            .ui_session("session", t(90), SessionRequest::Use)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(token.last_used_at, Some(t(90)));
        assert_eq!(s.api_tokens().await.unwrap()[0].last_used_at, Some(t(90)));
        assert_eq!(
            s.ui_session("session", t(3600), SessionRequest::Use)
                .await
                .unwrap(),
            None,
            "ended"
        );
    }
);

both!(
    a_worker_tokens_company_and_worker_are_kept_and_two_tokens_never_share_a_hash,
    |ctx| {
        let s = &ctx.store;
        let scope = ApiScope::Worker {
            company_id: 7,
            worker_id: 42,
        };
        s.create_api_token(&new("Maria's phone", scope, "h1"))
            .await
            .unwrap();
        assert_eq!(s.api_tokens().await.unwrap()[0].scope, scope);
        assert!(s
            .create_api_token(&new("copy", ApiScope::Admin, "h1"))
            .await
            .is_err());
        assert_eq!(s.api_tokens().await.unwrap().len(), 1);
    }
);
