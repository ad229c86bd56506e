use crate::{project_fields, worker_fields, COMPANY};
use domain::workforce::{Activation, ProjectStatus};
use store::{
    Backend, CursorUpdate, LinkKind, LinkOrigin, NewOutboxItem, RunEntry, StoreError, SubjectKind,
    WorkforceBatch, WorkforceChange,
};

both!(opening_runs_the_migrations_and_names_the_backend, |ctx| {
    let expected = if ctx.url.starts_with("postgres") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    assert_eq!(ctx.store.backend(), expected);
    assert_eq!(ctx.store.projects(COMPANY).await.unwrap(), vec![]);
    assert_eq!(ctx.store.pending_count().await.unwrap(), 0);
});

both!(seeded_projects_and_workers_read_back_as_written, |ctx| {
    let s = &ctx.store;
    let p = s
        .create_project(
            COMPANY,
            &project_fields("Tower A", Some("T-1")),
            ProjectStatus::Upcoming,
        )
        .await
        .unwrap();
    let w = s
        .create_worker(
            COMPANY,
            &worker_fields("Ann", None),
            Activation::ActiveForKiosk,
            true,
        )
        .await
        .unwrap();
    s.create_project(
        COMPANY + 1,
        &project_fields("Elsewhere", None),
        ProjectStatus::Active,
    )
    .await
    .unwrap();

    let project = s.project(COMPANY, p).await.unwrap().unwrap();
    assert_eq!(project.fields, project_fields("Tower A", Some("T-1")));
    assert_eq!(project.status, ProjectStatus::Upcoming);
    let worker = s.worker(COMPANY, w).await.unwrap().unwrap();
    assert_eq!(worker.fields, worker_fields("Ann", None));
    assert_eq!(
        (worker.activation, worker.blocked),
        (Activation::ActiveForKiosk, true)
    );
    assert_eq!(s.projects(COMPANY).await.unwrap(), vec![project]);
    assert_eq!(s.workers(COMPANY).await.unwrap(), vec![worker]);
    assert_eq!(s.project(COMPANY, p + 1000).await.unwrap(), None);
});

both!(
    another_companys_project_worker_or_template_reads_as_absent,
    |ctx| {
        let s = &ctx.store;
        let p = s
            .create_project(
                COMPANY,
                &project_fields("Tower A", None),
                ProjectStatus::Active,
            )
            .await
            .unwrap();
        let w = s
            .create_worker(
                COMPANY,
                &worker_fields("Ann", None),
                Activation::ActiveForKiosk,
                false,
            )
            .await
            .unwrap();
        let t = s
            .save_template(COMPANY, &crate::forms::template())
            .await
            .unwrap();
        assert!(s.project(COMPANY, p).await.unwrap().is_some());
        assert!(s.worker(COMPANY, w).await.unwrap().is_some());
        assert!(s.template(COMPANY, t).await.unwrap().is_some());
        assert_eq!(s.project(COMPANY + 1, p).await.unwrap(), None);
        assert_eq!(s.worker(COMPANY + 1, w).await.unwrap(), None);
        assert_eq!(s.template(COMPANY + 1, t).await.unwrap(), None);
    }
);

both!(applying_the_same_create_twice_links_one_project, |ctx| {
    let s = &ctx.store;
    let changes = [WorkforceChange::CreateProject {
        procore_id: 9001,
        fields: project_fields("Tower A", Some("T-1")),
        status: ProjectStatus::Active,
    }];
    let batch = WorkforceBatch {
        waiting: &[],
        company_id: COMPANY,
        changes: &changes,
        ..Default::default()
    };
    let first = s.apply_workforce(&batch).await.unwrap();
    let second = s.apply_workforce(&batch).await.unwrap();
    assert_eq!(
        first, second,
        "the second apply returns the project the first created"
    );
    assert_eq!(s.projects(COMPANY).await.unwrap().len(), 1);
    let links = s.links(COMPANY, LinkKind::Project).await.unwrap();
    assert_eq!(
        links.into_iter().collect::<Vec<_>>(),
        vec![(9001, first[0].1)]
    );
    let link = s
        .link(COMPANY, LinkKind::Project, 9001)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.origin, LinkOrigin::CreatedFromProcore);
});

both!(
    applying_the_same_worker_create_concurrently_links_one_worker,
    |ctx| {
        let changes = vec![WorkforceChange::CreateWorker {
            procore_id: 77,
            fields: worker_fields("Bo", Some("bo@example.com")),
            activation: Activation::PendingAccountActivation,
        }];
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let store = ctx.store.clone();
            let changes = changes.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .apply_workforce(&WorkforceBatch {
                        waiting: &[],
                        company_id: COMPANY,
                        changes: &changes,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap()[0].1);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "every apply saw the same worker: {ids:?}");
        assert_eq!(ctx.store.workers(COMPANY).await.unwrap().len(), 1);
    }
);

both!(
    an_apply_writes_changes_links_outbox_cursors_and_log_together,
    |ctx| {
        let s = &ctx.store;
        let seeded = s
            .create_worker(
                COMPANY,
                &worker_fields("Cy", None),
                Activation::Active,
                false,
            )
            .await
            .unwrap();
        let run = s.start_run(COMPANY, "workforce", false).await.unwrap();
        let changes = [
            WorkforceChange::CreateProject {
                procore_id: 1,
                fields: project_fields("A", None),
                status: ProjectStatus::Active,
            },
            WorkforceChange::UpdateWorker {
                worker_id: seeded,
                fields: worker_fields("Cyrus", None),
                blocked: true,
            },
            WorkforceChange::CreateWorker {
                procore_id: 2,
                fields: worker_fields("Di", None),
                activation: Activation::ActiveForKiosk,
            },
        ];
        let outbox = [NewOutboxItem::new(
            COMPANY,
            "upload_form",
            "form:1:rev:1",
            "{}",
        )];
        let cursors = [CursorUpdate {
            collection: "projects".into(),
            value: "2026-11-22T10:00:00Z".into(),
        }];
        let log = [
            RunEntry {
                kind: SubjectKind::ProcoreProject,
                procore_id: Some(1),
                local_id: None,
                change: Some(0),
                action: "create_project".into(),
                reason: "created".into(),
                detail_json: None,
                outcome: "applied".into(),
            },
            RunEntry {
                kind: SubjectKind::ProcoreUser,
                procore_id: Some(2),
                local_id: None,
                change: Some(2),
                action: "create_worker".into(),
                reason: "created".into(),
                detail_json: None,
                outcome: "applied".into(),
            },
        ];
        let created = s
            .apply_workforce(&WorkforceBatch {
                waiting: &[],
                company_id: COMPANY,
                run: Some(run),
                changes: &changes,
                outbox: &outbox,
                cursors: &cursors,
                log: &log,
            })
            .await
            .unwrap();
        assert_eq!(
            created.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            vec![0, 2]
        );

        let worker = s.worker(COMPANY, seeded).await.unwrap().unwrap();
        assert_eq!(
            (worker.fields.first_name.as_str(), worker.blocked),
            ("Cyrus", true)
        );
        assert_eq!(
            s.links(COMPANY, LinkKind::Worker).await.unwrap().get(&2),
            Some(&created[1].1)
        );
        assert_eq!(s.pending_count().await.unwrap(), 1);
        assert_eq!(
            s.cursor(COMPANY, "projects").await.unwrap().as_deref(),
            Some("2026-11-22T10:00:00Z")
        );
        assert_eq!(s.cursor(COMPANY + 1, "projects").await.unwrap(), None);
        let history = s
            .history(COMPANY, SubjectKind::ProcoreUser, 2)
            .await
            .unwrap();
        assert_eq!(
            history[0].entry.local_id,
            Some(created[1].1),
            "the log names the id the create got"
        );
    }
);

both!(a_failing_apply_writes_nothing, |ctx| {
    let s = &ctx.store;
    let run = s.start_run(COMPANY, "workforce", false).await.unwrap();
    let changes = [
        WorkforceChange::CreateProject {
            procore_id: 1,
            fields: project_fields("A", None),
            status: ProjectStatus::Active,
        },
        WorkforceChange::UpdateProject {
            project_id: 999_999,
            fields: project_fields("B", None),
            status: ProjectStatus::Active,
        },
    ];
    let outbox = [NewOutboxItem::new(COMPANY, "upload_form", "k", "{}")];
    let cursors = [CursorUpdate {
        collection: "projects".into(),
        value: "x".into(),
    }];
    let log = [RunEntry {
        kind: SubjectKind::ProcoreProject,
        procore_id: Some(1),
        local_id: None,
        change: None,
        action: "create_project".into(),
        reason: String::new(),
        detail_json: None,
        outcome: String::new(),
    }];
    let err = s
        .apply_workforce(&WorkforceBatch {
            waiting: &[],
            company_id: COMPANY,
            run: Some(run),
            changes: &changes,
            outbox: &outbox,
            cursors: &cursors,
            log: &log,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                what: "project",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.projects(COMPANY).await.unwrap(), vec![]);
    assert!(s
        .links(COMPANY, LinkKind::Project)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.pending_count().await.unwrap(), 0);
    assert_eq!(s.cursor(COMPANY, "projects").await.unwrap(), None);
    assert!(s
        .history(COMPANY, SubjectKind::ProcoreProject, 1)
        .await
        .unwrap()
        .is_empty());
});

both!(an_update_for_another_companys_record_is_refused, |ctx| {
    let s = &ctx.store;
    let p = s
        .create_project(COMPANY, &project_fields("A", None), ProjectStatus::Active)
        .await
        .unwrap();
    let changes = [WorkforceChange::UpdateProject {
        project_id: p,
        fields: project_fields("Hijacked", None),
        status: ProjectStatus::Completed,
    }];
    let err = s
        .apply_workforce(&WorkforceBatch {
            waiting: &[],
            company_id: COMPANY + 1,
            changes: &changes,
            ..Default::default()
        })
        .await;
    assert!(matches!(err, Err(StoreError::NotFound { .. })));
    assert_eq!(
        s.project(COMPANY, p).await.unwrap().unwrap().fields.name,
        "A"
    );
});

both!(a_store_survives_reopening_with_its_data, |ctx| {
    let p = ctx
        .store
        .create_project(
            COMPANY,
            &project_fields("Kept", None),
            ProjectStatus::Active,
        )
        .await
        .unwrap();
    ctx.store.set_cursor(COMPANY, "users", "c1").await.unwrap();
    ctx.store.close().await;
    let again = ctx.reopen(ctx.key()).await.unwrap();
    assert_eq!(
        again
            .project(COMPANY, p)
            .await
            .unwrap()
            .unwrap()
            .fields
            .name,
        "Kept"
    );
    assert_eq!(
        again.cursor(COMPANY, "users").await.unwrap().as_deref(),
        Some("c1")
    );
    again.set_cursor(COMPANY, "users", "c2").await.unwrap();
    assert_eq!(
        again.cursor(COMPANY, "users").await.unwrap().as_deref(),
        Some("c2")
    );
    again.close().await;
});

both!(
    text_with_a_nul_is_stored_or_refused_clearly_never_failing_obscurely,
    |ctx| {
        let s = &ctx.store;
        let result = s
            .create_project(
                COMPANY,
                &project_fields("Tower\0 A", None),
                ProjectStatus::Active,
            )
            .await;
        match s.backend() {
            Backend::Sqlite => {
                result.unwrap();
            }
            Backend::Postgres => match result {
                Err(StoreError::Invalid(message)) => {
                    assert!(message.contains("NUL character"), "{message}")
                }
                other => panic!("a clear refusal, not {other:?}"),
            },
        }
        // Whatever the backend did with it, the store goes on working.
        s.create_project(
            COMPANY,
            &project_fields("Tower B", None),
            ProjectStatus::Active,
        )
        .await
        .unwrap();
    }
);

both!(
    a_sync_update_keeps_the_activation_and_the_block_an_administrator_set_after_its_plan,
    |ctx| {
        let s = &ctx.store;
        let pending = s
            .create_worker(
                COMPANY,
                &worker_fields("Eve", None),
                Activation::PendingAccountActivation,
                false,
            )
            .await
            .unwrap();
        let other = s
            .create_worker(
                COMPANY,
                &worker_fields("Fay", None),
                Activation::Active,
                false,
            )
            .await
            .unwrap();
        // A sync plans from what it read; meanwhile an administrator activates the one and
        // blocks the other.
        let admin = |activation, blocked| store::WorkerState {
            activation,
            blocked,
            blocked_by_admin: blocked,
        };
        s.set_worker_state(COMPANY, pending, None, admin(Activation::Active, false))
            .await
            .unwrap();
        s.set_worker_state(COMPANY, other, None, admin(Activation::Active, true))
            .await
            .unwrap();
        let changes = [
            WorkforceChange::UpdateWorker {
                worker_id: pending,
                fields: worker_fields("Evelyn", None),
                blocked: false,
            },
            WorkforceChange::UpdateWorker {
                worker_id: other,
                fields: worker_fields("Faye", None),
                blocked: false,
            },
        ];
        s.apply_workforce(&WorkforceBatch {
            waiting: &[],
            company_id: COMPANY,
            run: None,
            changes: &changes,
            outbox: &[],
            cursors: &[],
            log: &[],
        })
        .await
        .unwrap();
        let eve = s.worker_record(COMPANY, pending).await.unwrap().unwrap();
        assert_eq!(eve.worker.activation, Activation::Active);
        assert_eq!(eve.worker.fields.first_name, "Evelyn");
        let fay = s.worker_record(COMPANY, other).await.unwrap().unwrap();
        assert!(fay.worker.blocked && fay.blocked_by_admin, "{fay:?}");
        assert_eq!(fay.worker.fields.first_name, "Faye");
    }
);
