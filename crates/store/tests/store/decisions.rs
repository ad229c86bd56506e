use crate::{project_fields, worker_fields, COMPANY};
use chrono::Utc;
use domain::workforce::{Activation, ProjectStatus, WorkerStatus};
use store::{
    LinkKind, Versioned, WaitingChange, WaitingKind, WaitingRecord, WorkerQuery, WorkerState,
    WorkforceBatch, WorkforceDecision,
};

fn waits(kind: WaitingKind, procore_id: i64, reason: &str) -> WaitingChange {
    WaitingChange::Wait(WaitingRecord {
        company_id: COMPANY,
        kind,
        procore_id,
        record_json: "{}".into(),
        reason_json: "{}".into(),
        reason: reason.into(),
        seen_at: Utc::now(),
    })
}

async fn apply(store: &store::Store, waiting: &[WaitingChange]) {
    store
        .apply_workforce(&WorkforceBatch {
            company_id: COMPANY,
            run: None,
            changes: &[],
            outbox: &[],
            cursors: &[],
            log: &[],
            waiting,
        })
        .await
        .unwrap();
}

both!(
    a_record_waits_until_a_sync_clears_it_or_a_person_decides,
    |ctx| {
        let s = &ctx.store;
        apply(
            s,
            &[
                waits(WaitingKind::Project, 10, "first"),
                waits(WaitingKind::User, 20, "user"),
            ],
        )
        .await;
        // Seen again: kept once, with what the last sync said.
        apply(s, &[waits(WaitingKind::Project, 10, "again")]).await;
        let all = s.waiting_records(COMPANY).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].reason, "again");
        assert!(s.waiting_records(COMPANY + 1).await.unwrap().is_empty());

        apply(
            s,
            &[WaitingChange::Clear {
                kind: WaitingKind::Project,
                procore_id: 10,
            }],
        )
        .await;
        assert!(s
            .waiting_record(COMPANY, WaitingKind::Project, 10)
            .await
            .unwrap()
            .is_none());

        s.decide_workforce(
            COMPANY,
            WaitingKind::User,
            20,
            WorkforceDecision::Ignore,
            Utc::now(),
        )
        .await
        .unwrap();
        assert!(s.waiting_records(COMPANY).await.unwrap().is_empty());
        let decisions = s.workforce_decisions(COMPANY).await.unwrap();
        assert_eq!(
            decisions.get(&(WaitingKind::User, 20)),
            Some(&WorkforceDecision::Ignore)
        );
    }
);

both!(
    linking_a_waiting_record_forgets_an_earlier_decision_and_refuses_a_linked_app_record,
    |ctx| {
        let s = &ctx.store;
        let p = s
            .create_project(
                COMPANY,
                &project_fields("Pier", Some("P-1")),
                ProjectStatus::Active,
            )
            .await
            .unwrap();
        apply(s, &[waits(WaitingKind::Project, 10, "clash")]).await;
        s.decide_workforce(
            COMPANY,
            WaitingKind::Project,
            10,
            WorkforceDecision::Import,
            Utc::now(),
        )
        .await
        .unwrap();
        s.link_waiting(COMPANY, WaitingKind::Project, 10, p)
            .await
            .unwrap();
        assert_eq!(
            s.links(COMPANY, LinkKind::Project).await.unwrap().get(&10),
            Some(&p)
        );
        assert!(s.workforce_decisions(COMPANY).await.unwrap().is_empty());
        let again = s.link_waiting(COMPANY, WaitingKind::Project, 11, p).await;
        assert!(
            matches!(again, Err(store::StoreError::Conflict(_))),
            "{again:?}"
        );
    }
);

both!(workers_page_by_id_and_filter_by_status_and_search, |ctx| {
    let s = &ctx.store;
    let mut ids = Vec::new();
    for (name, activation, blocked) in [
        ("Ann", Activation::Active, false),
        ("Bob", Activation::PendingAccountActivation, false),
        ("Cy", Activation::Active, true),
        ("Dee", Activation::Active, false),
    ] {
        ids.push(
            s.create_worker(COMPANY, &worker_fields(name, None), activation, blocked)
                .await
                .unwrap(),
        );
    }
    let page = |query: WorkerQuery| async move { s.worker_page(COMPANY, &query).await.unwrap() };
    let first = page(WorkerQuery {
        limit: 2,
        ..WorkerQuery::default()
    })
    .await;
    assert_eq!(
        first.iter().map(|w| w.worker.id).collect::<Vec<_>>(),
        ids[..2]
    );
    let rest = page(WorkerQuery {
        limit: 2,
        after: Some(ids[1]),
        ..WorkerQuery::default()
    })
    .await;
    assert_eq!(
        rest.iter().map(|w| w.worker.id).collect::<Vec<_>>(),
        ids[2..]
    );
    let active = page(WorkerQuery {
        limit: 10,
        status: Some(WorkerStatus::Active),
        ..WorkerQuery::default()
    })
    .await;
    assert_eq!(
        active.iter().map(|w| w.worker.id).collect::<Vec<_>>(),
        vec![ids[0], ids[3]]
    );
    let blocked = page(WorkerQuery {
        limit: 10,
        status: Some(WorkerStatus::Blocked),
        ..WorkerQuery::default()
    })
    .await;
    assert_eq!(
        blocked.iter().map(|w| w.worker.id).collect::<Vec<_>>(),
        vec![ids[2]]
    );
    let named = page(WorkerQuery {
        limit: 10,
        search: Some("BO".into()),
        ..WorkerQuery::default()
    })
    .await;
    assert_eq!(
        named.iter().map(|w| w.worker.id).collect::<Vec<_>>(),
        vec![ids[1]]
    );
});

both!(
    a_worker_state_write_at_a_stale_version_writes_nothing,
    |ctx| {
        let s = &ctx.store;
        let id = s
            .create_worker(
                COMPANY,
                &worker_fields("Ann", None),
                Activation::Active,
                false,
            )
            .await
            .unwrap();
        let seen = s.worker_record(COMPANY, id).await.unwrap().unwrap();
        let block = WorkerState {
            activation: Activation::Active,
            blocked: true,
            blocked_by_admin: true,
        };
        let done = s
            .set_worker_state(COMPANY, id, Some(&seen.version), block)
            .await
            .unwrap();
        let Versioned::Done(now) = done else {
            panic!("{done:?}")
        };
        assert!(now.worker.blocked && now.blocked_by_admin);
        assert_ne!(now.version, seen.version);
        assert_eq!(
            s.workers_blocked_by_admin(COMPANY).await.unwrap(),
            [id].into()
        );
        let unblock = WorkerState {
            blocked: false,
            blocked_by_admin: false,
            ..block
        };
        let stale = s
            .set_worker_state(COMPANY, id, Some(&seen.version), unblock)
            .await
            .unwrap();
        assert!(
            matches!(stale, Versioned::Stale(ref w) if w.worker.blocked),
            "{stale:?}"
        );
        assert_eq!(
            s.set_worker_state(COMPANY + 1, id, None, unblock)
                .await
                .unwrap(),
            Versioned::Missing
        );
    }
);
