use crate::COMPANY;
use store::{CursorUpdate, MirrorChange, MirrorRow, MirrorUpdate};

fn row(kind: &str, id: i64, scope: Option<i64>, body: &str) -> MirrorRow {
    MirrorRow {
        kind: kind.into(),
        procore_id: id,
        scope,
        body: body.into(),
    }
}

fn cursor(collection: &str, value: &str) -> CursorUpdate {
    CursorUpdate {
        collection: collection.into(),
        value: value.into(),
    }
}

both!(
    the_mirror_keeps_the_last_body_per_record_and_forgets_removed_ones,
    |ctx| {
        let s = &ctx.store;
        s.save_mirror(&MirrorUpdate {
            company_id: COMPANY,
            changes: &[
                MirrorChange::Put(row("vendor", 7, None, r#"{"name":"Acme"}"#)),
                MirrorChange::Put(row("commitment", 70, Some(1), r#"{"status":"Draft"}"#)),
                MirrorChange::Put(row("commitment", 71, Some(1), r#"{"status":"Draft"}"#)),
            ],
            cursors: &[cursor("compliance.vendors", "2026-01-01T00:00:00Z")],
            forget_cursors: &[],
        })
        .await
        .unwrap();
        s.save_mirror(&MirrorUpdate {
            company_id: COMPANY + 1,
            changes: &[MirrorChange::Put(row("vendor", 7, None, "{}"))],
            cursors: &[],
            forget_cursors: &[],
        })
        .await
        .unwrap();
        s.save_mirror(&MirrorUpdate {
            company_id: COMPANY,
            changes: &[
                MirrorChange::Put(row("commitment", 70, Some(1), r#"{"status":"Approved"}"#)),
                MirrorChange::Remove {
                    kind: "commitment".into(),
                    procore_id: 71,
                },
            ],
            cursors: &[cursor("compliance.vendors", "2026-02-01T00:00:00Z")],
            forget_cursors: &[],
        })
        .await
        .unwrap();

        assert_eq!(
            s.mirror(COMPANY).await.unwrap(),
            vec![
                row("commitment", 70, Some(1), r#"{"status":"Approved"}"#),
                row("vendor", 7, None, r#"{"name":"Acme"}"#),
            ]
        );
        assert_eq!(
            s.cursor(COMPANY, "compliance.vendors").await.unwrap(),
            Some("2026-02-01T00:00:00Z".into())
        );
    }
);

both!(
    forgotten_cursors_are_gone_and_a_prefix_lists_only_its_own,
    |ctx| {
        let s = &ctx.store;
        s.save_mirror(&MirrorUpdate {
            company_id: COMPANY,
            changes: &[],
            cursors: &[
                cursor("compliance.commitments.1", "a"),
                cursor("compliance.commitments.2", "b"),
                cursor("compliance.commitments_x", "c"),
                cursor("workforce.users", "d"),
            ],
            forget_cursors: &[],
        })
        .await
        .unwrap();
        s.save_mirror(&MirrorUpdate {
            company_id: COMPANY,
            changes: &[],
            cursors: &[],
            forget_cursors: &["compliance.commitments.2".into()],
        })
        .await
        .unwrap();

        assert_eq!(
            s.cursors_with_prefix(COMPANY, "compliance.commitments.")
                .await
                .unwrap(),
            vec![("compliance.commitments.1".to_string(), "a".to_string())]
        );
        assert_eq!(
            s.cursor(COMPANY, "compliance.commitments.2").await.unwrap(),
            None
        );
    }
);

both!(one_sync_of_a_company_at_a_time_on_postgres, |ctx| {
    let s = &ctx.store;
    let held = s
        .lock_company(COMPANY, || panic!("nobody holds it yet"))
        .await
        .unwrap();
    if s.backend() == store::Backend::Sqlite {
        // A SQLite store is one file on one host: the binary's lock file serves.
        assert!(held.is_none());
        return;
    }
    assert!(held.is_some());
    // Another company is not held up.
    let other = s
        .lock_company(COMPANY + 1, || panic!("another company's lock is free"))
        .await
        .unwrap();
    assert!(other.is_some());

    let waited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let second = {
        let s = s.clone();
        let waited = waited.clone();
        tokio::spawn(async move {
            s.lock_company(COMPANY, move || {
                waited.store(true, std::sync::atomic::Ordering::SeqCst)
            })
            .await
        })
    };
    while !waited.load(std::sync::atomic::Ordering::SeqCst) {
        tokio::task::yield_now().await;
    }
    assert!(
        !second.is_finished(),
        "the second waits while the first holds it"
    );
    drop(held);
    let got = second.await.unwrap().unwrap();
    assert!(got.is_some(), "released with the first");
});
