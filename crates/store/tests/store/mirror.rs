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
