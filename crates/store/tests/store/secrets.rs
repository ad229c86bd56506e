use crate::COMPANY;
use secrecy::{ExposeSecret, SecretString};
use store::{Connection, CryptoError, SecretKey, StoreError};

const CLIENT_SECRET: &str = "client-secret-8d1f0c";
const TOKENS: &str =
    r#"{"access_token":"at-5b2e","refresh_token":"rt-91ac","expires_at":"2026-11-22T11:00:00Z"}"#;

fn connection() -> Connection {
    let mut c = Connection::new(COMPANY, "client-id-1", SecretString::from(CLIENT_SECRET));
    c.sync_forms = true;
    c.auto_activate_workers = true;
    c
}

both!(connections_round_trip_and_never_show_their_secret, |ctx| {
    let s = &ctx.store;
    assert!(s.connection(COMPANY).await.unwrap().is_none());
    s.save_connection(&connection(), None).await.unwrap();
    let mut changed = connection();
    changed.forms_folder = "Safety PDFs".into();
    changed.sync_employees_only = true;
    s.save_connection(&changed, None).await.unwrap();

    let back = s.connection(COMPANY).await.unwrap().unwrap();
    assert_eq!(back.client_secret.expose_secret(), CLIENT_SECRET);
    assert_eq!(
        (
            back.sync_employees_only,
            back.auto_activate_workers,
            back.sync_forms
        ),
        (true, true, true)
    );
    assert_eq!(back.forms_folder, "Safety PDFs");
    assert_eq!(connection().forms_folder, "Corfix Forms");
    assert!(!format!("{back:?}").contains(CLIENT_SECRET));
    assert_eq!(s.connections().await.unwrap().len(), 1);
    assert!(s.delete_connection(COMPANY).await.unwrap());
    assert!(s.connections().await.unwrap().is_empty());
});

both!(
    a_connection_saved_from_a_read_is_refused_when_it_changed_or_was_removed_since,
    |ctx| {
        let s = &ctx.store;
        s.save_connection(&connection(), None).await.unwrap();
        let read = s.connection(COMPANY).await.unwrap().unwrap();
        let mut theirs = read.clone();
        theirs.forms_folder = "Safety PDFs".into();
        s.save_connection(&theirs, Some(&read)).await.unwrap();
        let mut mine = read.clone();
        mine.sync_forms = false;
        let refused = s.save_connection(&mine, Some(&read)).await;
        assert!(
            matches!(refused, Err(StoreError::Changed { .. })),
            "{refused:?}"
        );
        let now = s.connection(COMPANY).await.unwrap().unwrap();
        assert_eq!(
            (now.forms_folder.as_str(), now.sync_forms),
            ("Safety PDFs", true)
        );

        // A secret rotated since the read is not put back by a change of settings.
        let mut rotated = now.clone();
        rotated.client_secret = SecretString::from("rotated-secret");
        s.save_connection(&rotated, Some(&now)).await.unwrap();
        let refused = s.save_connection(&now, Some(&now)).await;
        assert!(
            matches!(refused, Err(StoreError::Changed { .. })),
            "{refused:?}"
        );
        let now = s.connection(COMPANY).await.unwrap().unwrap();
        assert_eq!(now.client_secret.expose_secret(), "rotated-secret");

        // A change made before a disconnect does not connect the company again.
        assert!(s.delete_connection(COMPANY).await.unwrap());
        let gone = s.save_connection(&mine, Some(&now)).await;
        assert!(matches!(gone, Err(StoreError::NotFound { .. })), "{gone:?}");
        assert!(s.connection(COMPANY).await.unwrap().is_none());
    }
);

both!(
    secrets_are_encrypted_at_rest_and_unreadable_with_another_key,
    |ctx| {
        ctx.store
            .save_connection(&connection(), None)
            .await
            .unwrap();
        ctx.store
            .save_tokens(COMPANY, &SecretString::from(TOKENS))
            .await
            .unwrap();

        let raw = [
            ctx.raw_texts("SELECT client_secret_sealed FROM connections")
                .await,
            ctx.raw_texts("SELECT tokens_sealed FROM procore_tokens")
                .await,
        ]
        .concat();
        assert_eq!(raw.len(), 2);
        for value in &raw {
            assert!(
                !value.contains(CLIENT_SECRET)
                    && !value.contains("rt-91ac")
                    && !value.contains("at-5b2e"),
                "{value}"
            );
            assert!(value.starts_with("v1."));
        }

        let err = ctx.reopen(SecretKey::generate()).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Crypto(CryptoError::WrongKey)),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("the stored secrets were encrypted with another key"),
            "{err}"
        );
        let again = ctx.reopen(ctx.key()).await.unwrap();
        assert_eq!(
            again
                .load_tokens(COMPANY)
                .await
                .unwrap()
                .unwrap()
                .expose_secret(),
            TOKENS
        );
        again.close().await;
    }
);

both!(refresh_tokens_are_saved_in_one_write, |ctx| {
    let s = &ctx.store;
    assert!(s.load_tokens(COMPANY).await.unwrap().is_none());
    // Many refreshes racing: each save is one upsert, so what is loaded is always one whole blob.
    let mut saves = Vec::new();
    for i in 0..8 {
        let store = s.clone();
        saves.push(tokio::spawn(async move {
            let blob = format!(r#"{{"access_token":"at-{i}","refresh_token":"rt-{i}"}}"#);
            store
                .save_tokens(COMPANY, &SecretString::from(blob))
                .await
                .unwrap();
        }));
    }
    for save in saves {
        save.await.unwrap();
    }
    let loaded = s.load_tokens(COMPANY).await.unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(loaded.expose_secret()).unwrap();
    let at = v["access_token"]
        .as_str()
        .unwrap()
        .trim_start_matches("at-");
    let rt = v["refresh_token"]
        .as_str()
        .unwrap()
        .trim_start_matches("rt-");
    assert_eq!(at, rt, "access and refresh token come from the same save");
    assert_eq!(
        ctx.raw_texts("SELECT tokens_sealed FROM procore_tokens")
            .await
            .len(),
        1
    );

    s.save_tokens(COMPANY + 1, &SecretString::from(TOKENS))
        .await
        .unwrap();
    s.clear_tokens(COMPANY).await.unwrap();
    assert!(s.load_tokens(COMPANY).await.unwrap().is_none());
    assert!(
        s.load_tokens(COMPANY + 1).await.unwrap().is_some(),
        "per company"
    );
});
