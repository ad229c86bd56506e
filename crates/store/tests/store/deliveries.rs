use crate::COMPANY;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use store::{
    DeliveryCounts, HookRecord, JobFilter, JobState, NewDelivery, NewJob, Received, Store,
};

const OTHER: i64 = COMPANY + 1;
const HOOK_SECRET: &str = "whsec-3f9a0c71";

fn t(n: i64) -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::seconds(n)
}

fn delivery(company: i64, event_key: &str, at: i64) -> NewDelivery {
    NewDelivery {
        company_id: company,
        event_key: event_key.into(),
        resource_name: "Projects".into(),
        event_type: "update".into(),
        resource_id: Some(5001),
        project_id: None,
        body_json: format!(r#"{{"id":"{event_key}"}}"#),
        received_at: t(at),
    }
}

fn sync_job(company: i64, at: i64) -> NewJob {
    NewJob {
        company_id: company,
        kind: "sync.workforce".into(),
        lane: "sync".into(),
        dedupe_key: Some("sync.workforce".into()),
        payload_json: "{}".into(),
        run_at: t(at),
        max_attempts: 5,
    }
}

async fn receive(s: &Store, company: i64, event_key: &str, at: i64) -> Received {
    s.receive_delivery(&delivery(company, event_key, at), &sync_job(company, at))
        .await
        .unwrap()
}

both!(
    a_delivery_is_stored_once_with_its_job_and_a_repeat_writes_nothing,
    |ctx| {
        let s = &ctx.store;
        let Received::Stored(id) = receive(s, COMPANY, "evt-1", 0).await else {
            panic!("the first delivery is new");
        };
        assert_eq!(receive(s, COMPANY, "evt-1", 1).await, Received::Duplicate);
        assert!(
            matches!(receive(s, OTHER, "evt-1", 1).await, Received::Stored(_)),
            "event keys are per company"
        );

        let mine = s.unprocessed_deliveries(COMPANY, 10).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].id, id);
        assert_eq!(mine[0].received_at, t(0), "the first receipt is kept");
        assert_eq!(
            (
                mine[0].resource_id,
                mine[0].project_id,
                mine[0].processed_at
            ),
            (Some(5001), None, None)
        );
        let jobs = s
            .jobs(&JobFilter {
                company: Some(COMPANY),
                ..JobFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(jobs.len(), 1, "the repeat enqueued nothing");
        assert_eq!(
            (jobs[0].kind.as_str(), jobs[0].state),
            ("sync.workforce", JobState::Pending)
        );
    }
);

both!(
    a_burst_of_deliveries_is_stored_whole_and_shares_one_pending_job,
    |ctx| {
        let s = &ctx.store;
        for (i, key) in ["evt-1", "evt-2", "evt-3"].into_iter().enumerate() {
            let at = 30 - 10 * i as i64;
            assert!(matches!(
                receive(s, COMPANY, key, at).await,
                Received::Stored(_)
            ));
        }
        assert_eq!(
            s.unprocessed_deliveries(COMPANY, 10).await.unwrap().len(),
            3
        );
        let jobs = s.jobs(&JobFilter::default()).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].run_at, t(10), "the earliest time asked for");
    }
);

both!(
    a_batch_of_deliveries_is_received_in_order_with_repeats_told_apart,
    |ctx| {
        let s = &ctx.store;
        receive(s, COMPANY, "evt-0", 0).await;
        let batch: Vec<_> = [("evt-0", 1), ("evt-1", 2), ("evt-1", 3), ("evt-2", 4)]
            .into_iter()
            .map(|(key, at)| (delivery(COMPANY, key, at), sync_job(COMPANY, at)))
            .collect();
        let received = s.receive_deliveries(&batch).await.unwrap();
        assert!(matches!(
            received[..],
            [
                Received::Duplicate,
                Received::Stored(_),
                Received::Duplicate,
                Received::Stored(_)
            ]
        ));
        let keys: Vec<String> = s
            .unprocessed_deliveries(COMPANY, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.event_key)
            .collect();
        assert_eq!(keys, ["evt-0", "evt-1", "evt-2"]);
        assert_eq!(s.jobs(&JobFilter::default()).await.unwrap().len(), 1);
        assert_eq!(s.receive_deliveries(&[]).await.unwrap(), []);
    }
);

both!(
    a_batch_over_several_companies_stores_each_companys_new_keys_and_enqueues_one_job_per_company,
    |ctx| {
        let s = &ctx.store;
        receive(s, OTHER, "evt-0", 0).await;
        let batch: Vec<_> = [
            (COMPANY, "evt-0", 9),
            (OTHER, "evt-0", 8),
            (OTHER, "evt-1", 7),
            (COMPANY, "evt-1", 6),
            (OTHER, "evt-1", 5),
            (COMPANY, "evt-0", 4),
        ]
        .into_iter()
        .map(|(company, key, at)| (delivery(company, key, at), sync_job(company, at)))
        .collect();
        let received = s.receive_deliveries(&batch).await.unwrap();
        let stored: Vec<bool> = received
            .iter()
            .map(|r| matches!(r, Received::Stored(_)))
            .collect();
        assert_eq!(
            stored,
            [true, false, true, true, false, false],
            "an earlier batch's key and a key seen earlier in this batch are duplicates; the same key of another company is not"
        );
        let ids: Vec<i64> = received
            .iter()
            .filter_map(|r| match r {
                Received::Stored(id) => Some(*id),
                Received::Duplicate => None,
            })
            .collect();
        let mut mine: Vec<(i64, String)> = s
            .unprocessed_deliveries(COMPANY, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.id, d.event_key))
            .collect();
        mine.sort();
        assert_eq!(
            mine,
            [(ids[0], "evt-0".to_string()), (ids[2], "evt-1".to_string())],
            "each request gets the id of its own row"
        );
        let theirs = s.unprocessed_deliveries(OTHER, 10).await.unwrap();
        assert_eq!(
            theirs
                .iter()
                .map(|d| (d.id, d.received_at))
                .collect::<Vec<_>>()[1],
            (ids[1], t(7))
        );

        let mut jobs: Vec<(i64, DateTime<Utc>)> = s
            .jobs(&JobFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|j| (j.company_id, j.run_at))
            .collect();
        jobs.sort();
        assert_eq!(
            jobs,
            [(COMPANY, t(6)), (OTHER, t(0))],
            "one pending job per company, at the earliest time a stored delivery asked for"
        );
    }
);

both!(
    a_batch_larger_than_one_insert_statement_is_stored_whole,
    |ctx| {
        let s = &ctx.store;
        receive(s, COMPANY, "evt-700", 0).await;
        let batch: Vec<_> = (0..1200)
            .map(|n| {
                let key = format!("evt-{}", n % 1100);
                (delivery(COMPANY, &key, 1), sync_job(COMPANY, 1))
            })
            .collect();
        let received = s.receive_deliveries(&batch).await.unwrap();
        let stored = received
            .iter()
            .filter(|r| matches!(r, Received::Stored(_)))
            .count();
        assert_eq!(stored, 1099, "1,100 keys, one stored before");
        assert_eq!(
            s.delivery_counts().await.unwrap(),
            DeliveryCounts {
                unprocessed: 1100,
                processed: 0
            }
        );
        assert_eq!(s.jobs(&JobFilter::default()).await.unwrap().len(), 1);
    }
);

both!(
    unprocessed_deliveries_come_oldest_first_and_marking_touches_only_the_named_company,
    |ctx| {
        let s = &ctx.store;
        let mut mine = Vec::new();
        for key in ["a", "b", "c"] {
            let Received::Stored(id) = receive(s, COMPANY, key, 0).await else {
                panic!("new");
            };
            mine.push(id);
        }
        let Received::Stored(theirs) = receive(s, OTHER, "z", 0).await else {
            panic!("new");
        };
        let first_two = s.unprocessed_deliveries(COMPANY, 2).await.unwrap();
        assert_eq!(
            first_two.iter().map(|d| d.id).collect::<Vec<_>>(),
            mine[..2]
        );

        s.mark_deliveries_processed(COMPANY, &[mine[0], mine[1], theirs], t(5))
            .await
            .unwrap();
        let left: Vec<i64> = s
            .unprocessed_deliveries(COMPANY, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(left, [mine[2]]);
        assert_eq!(
            s.unprocessed_deliveries(OTHER, 10).await.unwrap()[0].id,
            theirs,
            "another company's delivery is not marked"
        );
        s.mark_deliveries_processed(COMPANY, &[mine[0]], t(9))
            .await
            .unwrap();
        assert_eq!(
            s.delivery_counts().await.unwrap(),
            DeliveryCounts {
                unprocessed: 2,
                processed: 2
            }
        );
    }
);

both!(
    pruning_removes_deliveries_processed_before_the_cutoff_and_keeps_unprocessed_ones,
    |ctx| {
        let s = &ctx.store;
        let mut ids = Vec::new();
        for key in ["old", "recent", "waiting"] {
            let Received::Stored(id) = receive(s, COMPANY, key, 0).await else {
                panic!("new");
            };
            ids.push(id);
        }
        s.mark_deliveries_processed(COMPANY, &ids[..1], t(10))
            .await
            .unwrap();
        s.mark_deliveries_processed(COMPANY, &ids[1..2], t(100))
            .await
            .unwrap();
        assert_eq!(s.prune_deliveries(t(50)).await.unwrap(), 1);
        assert_eq!(
            s.delivery_counts().await.unwrap(),
            DeliveryCounts {
                unprocessed: 1,
                processed: 1
            }
        );
        assert_eq!(receive(s, COMPANY, "waiting", 1).await, Received::Duplicate);
    }
);

both!(
    a_hook_record_round_trips_with_its_secret_sealed_at_rest_and_hidden_from_debug,
    |ctx| {
        let s = &ctx.store;
        assert!(s.hook_record(COMPANY).await.unwrap().is_none());
        let mut hook = HookRecord {
            company_id: COMPANY,
            hook_id: None,
            destination_url: "https://trestle.example.com/webhooks/procore/4242".into(),
            secret: SecretString::from(HOOK_SECRET),
            triggers_json: r#"[{"resource_name":"Projects","event_type":"update"}]"#.into(),
            checked_at: None,
        };
        s.save_hook_record(&hook).await.unwrap();
        hook.hook_id = Some(77);
        hook.checked_at = Some(t(3));
        s.save_hook_record(&hook).await.unwrap();

        let back = s.hook_record(COMPANY).await.unwrap().unwrap();
        assert_eq!(back.secret.expose_secret(), HOOK_SECRET);
        assert_eq!((back.hook_id, back.checked_at), (Some(77), Some(t(3))));
        assert_eq!(back.destination_url, hook.destination_url);
        assert_eq!(back.triggers_json, hook.triggers_json);
        assert!(!format!("{back:?}").contains(HOOK_SECRET));
        let raw = ctx
            .raw_texts("SELECT secret_sealed FROM hook_records")
            .await;
        assert_eq!(raw.len(), 1);
        assert!(!raw[0].contains(HOOK_SECRET));
        assert!(s.hook_record(OTHER).await.unwrap().is_none());

        s.delete_hook_record(COMPANY).await.unwrap();
        assert!(s.hook_record(COMPANY).await.unwrap().is_none());
    }
);
