use crate::COMPANY;
use store::{RunEntry, StoreError, SubjectKind};

fn entry(kind: SubjectKind, procore_id: i64, action: &str, reason: &str) -> RunEntry {
    RunEntry {
        kind,
        procore_id: Some(procore_id),
        local_id: None,
        change: None,
        action: action.into(),
        reason: reason.into(),
        detail_json: Some(r#"{"rule":"x"}"#.into()),
        outcome: "applied".into(),
    }
}

both!(the_run_log_answers_history_newest_first, |ctx| {
    let s = &ctx.store;
    let first = s.start_run(COMPANY, "workforce", false).await.unwrap();
    s.record(
        first,
        &[
            entry(SubjectKind::ProcoreProject, 1, "create_project", "created"),
            entry(SubjectKind::ProcoreProject, 2, "skip", "template"),
        ],
    )
    .await
    .unwrap();
    let second = s.start_run(COMPANY, "workforce", true).await.unwrap();
    s.record(
        second,
        &[entry(
            SubjectKind::ProcoreProject,
            1,
            "update_project",
            "changed",
        )],
    )
    .await
    .unwrap();
    let other_company = s.start_run(COMPANY + 1, "workforce", false).await.unwrap();
    s.record(
        other_company,
        &[entry(
            SubjectKind::ProcoreProject,
            1,
            "create_project",
            "elsewhere",
        )],
    )
    .await
    .unwrap();

    let history = s
        .history(COMPANY, SubjectKind::ProcoreProject, 1)
        .await
        .unwrap();
    let seen: Vec<_> = history
        .iter()
        .map(|h| (h.run, h.dry_run, h.entry.action.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (second, true, "update_project"),
            (first, false, "create_project")
        ]
    );
    assert_eq!(
        history[1].entry.detail_json.as_deref(),
        Some(r#"{"rule":"x"}"#)
    );
    assert!(
        s.history(COMPANY, SubjectKind::ProcoreUser, 1)
            .await
            .unwrap()
            .is_empty(),
        "kinds are apart"
    );
    assert_eq!(s.run_entries(first).await.unwrap().len(), 2);
});

both!(
    an_entry_about_a_kind_this_version_does_not_know_still_reads,
    |ctx| {
        let s = &ctx.store;
        let run = s.start_run(COMPANY, "compliance", false).await.unwrap();
        let newer = SubjectKind::parse("procore-invoice");
        s.record(run, &[entry(newer.clone(), 3, "skip", "later")])
            .await
            .unwrap();
        let read = s.run_entries(run).await.unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].entry.kind.as_str(), "procore-invoice");
        let history = s.history(COMPANY, newer, 3).await.unwrap();
        assert_eq!(history[0].entry.reason, "later");
    }
);

both!(
    runs_are_listed_newest_first_with_their_summary_and_page_by_the_last_one_seen,
    |ctx| {
        let s = &ctx.store;
        let a = s.start_run(COMPANY, "workforce", false).await.unwrap();
        let b = s.start_run(COMPANY, "workforce", false).await.unwrap();
        s.finish_run(a, r#"{"created":3}"#).await.unwrap();
        let runs = s.runs(COMPANY, None, 10).await.unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), vec![b, a]);
        assert_eq!(runs[1].summary_json.as_deref(), Some(r#"{"created":3}"#));
        assert!(runs[1].finished_at.is_some() && runs[0].finished_at.is_none());
        assert_eq!(s.runs(COMPANY, None, 1).await.unwrap().len(), 1);
        let older = s.runs(COMPANY, Some(b.0), 10).await.unwrap();
        assert_eq!(older.iter().map(|r| r.id).collect::<Vec<_>>(), vec![a]);
        assert_eq!(s.run(a).await.unwrap().unwrap().integration, "workforce");
    }
);

both!(entries_for_a_run_that_does_not_exist_are_refused, |ctx| {
    let err = ctx
        .store
        .record(
            store::RunId(987_654),
            &[entry(SubjectKind::ProcoreProject, 1, "skip", "x")],
        )
        .await;
    assert!(
        matches!(err, Err(StoreError::NotFound { what: "run", .. })),
        "{err:?}"
    );
});

both!(history_returns_the_newest_entries_up_to_its_limit, |ctx| {
    let s = &ctx.store;
    let run = s.start_run(COMPANY, "compliance", false).await.unwrap();
    let entries: Vec<RunEntry> = (0..=store::HISTORY_LIMIT)
        .map(|i| entry(SubjectKind::Insurance, 7, "skip", &format!("entry {i}")))
        .collect();
    s.record(run, &entries).await.unwrap();

    let history = s.history(COMPANY, SubjectKind::Insurance, 7).await.unwrap();

    assert_eq!(history.len() as i64, store::HISTORY_LIMIT);
    assert_eq!(
        history[0].entry.reason,
        format!("entry {}", store::HISTORY_LIMIT)
    );
});

both!(
    the_run_log_keeps_each_records_latest_word_and_drops_the_rest_when_old,
    |ctx| {
        let s = &ctx.store;
        let first = s.start_run(COMPANY, "workforce", false).await.unwrap();
        s.record(
            first,
            &[
                entry(SubjectKind::ProcoreProject, 1, "create_project", "created"),
                entry(SubjectKind::ProcoreProject, 2, "skip", "template"),
            ],
        )
        .await
        .unwrap();
        s.finish_run(first, "{}").await.unwrap();
        let second = s.start_run(COMPANY, "workforce", false).await.unwrap();
        s.record(
            second,
            &[entry(
                SubjectKind::ProcoreProject,
                1,
                "update_project",
                "changed",
            )],
        )
        .await
        .unwrap();
        s.finish_run(second, "{}").await.unwrap();
        assert_eq!(
            s.history(COMPANY, SubjectKind::ProcoreProject, 1)
                .await
                .unwrap()
                .len(),
            2,
            "nothing is old yet"
        );

        // Everything is older than a cutoff in the future.
        let gone = s
            .prune_run_log(COMPANY, chrono::Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap();
        assert_eq!(gone, 1, "only project 1's older entry");
        let one = s
            .history(COMPANY, SubjectKind::ProcoreProject, 1)
            .await
            .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(
            one[0].entry.action, "update_project",
            "the latest word stays"
        );
        let two = s
            .history(COMPANY, SubjectKind::ProcoreProject, 2)
            .await
            .unwrap();
        assert_eq!(
            two.len(),
            1,
            "a record unchanged since its only entry keeps it"
        );
    }
);

both!(only_the_newest_dry_run_keeps_its_entries, |ctx| {
    let s = &ctx.store;
    let mut dry_runs = Vec::new();
    for n in 0..3 {
        let run = s.start_run(COMPANY, "compliance", true).await.unwrap();
        s.record(
            run,
            &[entry(
                SubjectKind::Insurance,
                9,
                "skip",
                &format!("dry {n}"),
            )],
        )
        .await
        .unwrap();
        s.finish_run(run, "{}").await.unwrap();
        dry_runs.push(run);
    }
    let other = s.start_run(COMPANY + 1, "compliance", true).await.unwrap();
    s.record(
        other,
        &[entry(SubjectKind::Insurance, 9, "skip", "elsewhere")],
    )
    .await
    .unwrap();
    let real = s.start_run(COMPANY, "compliance", false).await.unwrap();
    s.record(real, &[entry(SubjectKind::Insurance, 9, "skip", "real")])
        .await
        .unwrap();
    s.finish_run(real, "{}").await.unwrap();

    assert!(s.run_entries(dry_runs[0]).await.unwrap().is_empty());
    assert!(s.run_entries(dry_runs[1]).await.unwrap().is_empty());
    assert_eq!(s.run_entries(dry_runs[2]).await.unwrap().len(), 1);
    assert_eq!(s.run_entries(real).await.unwrap().len(), 1);
    assert_eq!(
        s.run_entries(other).await.unwrap().len(),
        1,
        "another company's log is its own"
    );
});

both!(
    the_newest_run_keeps_the_latest_word_on_every_record_logged_under_one_id,
    |ctx| {
        let s = &ctx.store;
        // Two insurance records of one vendor are logged under the vendor's id, told apart by
        // their detail; a workforce and a compliance entry share a Procore project's id.
        let insurance = |origin: &str, outcome: &str| RunEntry {
            detail_json: Some(format!(r#"{{"origin_id":"{origin}"}}"#)),
            outcome: outcome.into(),
            ..entry(SubjectKind::Insurance, 9, "write_insurance", "compliance")
        };
        for _ in 0..2 {
            let run = s.start_run(COMPANY, "compliance", false).await.unwrap();
            s.record(
                run,
                &[
                    insurance("trestle:1:gl", "written"),
                    insurance("trestle:1:auto", "written"),
                    entry(
                        SubjectKind::ProcoreProject,
                        5,
                        "import_project",
                        "compliance",
                    ),
                ],
            )
            .await
            .unwrap();
            s.finish_run(run, "{}").await.unwrap();
        }
        let workforce = s.start_run(COMPANY, "workforce", false).await.unwrap();
        s.record(
            workforce,
            &[entry(
                SubjectKind::ProcoreProject,
                5,
                "create_project",
                "workforce",
            )],
        )
        .await
        .unwrap();
        s.finish_run(workforce, "{}").await.unwrap();

        s.prune_run_log(COMPANY, chrono::Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap();
        let insurance_left = s.history(COMPANY, SubjectKind::Insurance, 9).await.unwrap();
        let mut origins: Vec<_> = insurance_left
            .iter()
            .filter_map(|h| h.entry.detail_json.clone())
            .collect();
        origins.sort();
        assert_eq!(
            origins,
            vec![
                r#"{"origin_id":"trestle:1:auto"}"#.to_string(),
                r#"{"origin_id":"trestle:1:gl"}"#.to_string()
            ],
            "the latest word on each record, not one per vendor"
        );
        let project: Vec<_> = s
            .history(COMPANY, SubjectKind::ProcoreProject, 5)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.integration)
            .collect();
        assert_eq!(
            project,
            vec!["workforce", "compliance"],
            "each integration's latest"
        );
    }
);

both!(
    a_decision_repeated_run_after_run_is_logged_once_with_the_runs_it_covers,
    |ctx| {
        let s = &ctx.store;
        let plan = |changed: Option<i64>| -> Vec<RunEntry> {
            (1..=40)
                .map(|id| {
                    let reason = if Some(id) == changed {
                        "changed"
                    } else {
                        "unchanged"
                    };
                    entry(SubjectKind::Insurance, id, "skip", reason)
                })
                .collect()
        };
        let count = |rows: &[store::RunEntryRecord]| rows.len();
        let mut runs = Vec::new();
        for changed in [None, None, Some(7), None] {
            let run = s.start_run(COMPANY, "compliance", false).await.unwrap();
            s.record(run, &plan(changed)).await.unwrap();
            s.finish_run(run, "{}").await.unwrap();
            runs.push(run);
        }
        // The second run repeated every decision: still 40 entries, each covering runs 1 and 2.
        let one = s.history(COMPANY, SubjectKind::Insurance, 1).await.unwrap();
        assert_eq!(count(&one), 1, "{one:?}");
        assert_eq!((one[0].run, one[0].last_run), (runs[0], runs[3]));
        assert_eq!(s.run_entries(runs[1]).await.unwrap().len(), 40);
        assert_eq!(s.run_entries(runs[2]).await.unwrap().len(), 40);
        // Record 7 changed in the third run and changed back in the fourth: three entries, newest
        // first, none of whose spans covers a run that decided otherwise.
        let seven: Vec<_> = s
            .history(COMPANY, SubjectKind::Insurance, 7)
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.entry.reason, h.run, h.last_run))
            .collect();
        assert_eq!(
            seven,
            vec![
                ("unchanged".to_string(), runs[3], runs[3]),
                ("changed".to_string(), runs[2], runs[2]),
                ("unchanged".to_string(), runs[0], runs[1]),
            ]
        );
        // A dry run in between logs on its own and never extends a real run's entry.
        let dry = s.start_run(COMPANY, "compliance", true).await.unwrap();
        s.record(dry, &plan(None)).await.unwrap();
        assert_eq!(s.run_entries(dry).await.unwrap().len(), 40);
        assert_eq!(
            s.history(COMPANY, SubjectKind::Insurance, 1).await.unwrap()[1].last_run,
            runs[3]
        );
    }
);
