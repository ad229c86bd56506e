use crate::COMPANY;
use chrono::{DateTime, Utc};
use store::HealthState;

const OTHER: i64 = COMPANY + 1;

fn t(n: i64) -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::seconds(n)
}

both!(
    since_stays_while_an_aspect_keeps_its_state_and_moves_when_the_state_changes,
    |ctx| {
        let s = &ctx.store;
        let failing = |problem: &'static str, at| {
            s.set_health(
                COMPANY,
                "credentials",
                HealthState::Failing,
                problem,
                "Reconnect the company in Settings",
                t(at),
            )
        };
        failing("Procore refused the refresh token", 0)
            .await
            .unwrap();
        failing("Procore refused the refresh token again", 60)
            .await
            .unwrap();
        let entry = &s.health(Some(COMPANY)).await.unwrap()[0];
        assert_eq!((entry.since, entry.updated_at), (t(0), t(60)));
        assert_eq!(entry.problem, "Procore refused the refresh token again");

        s.set_health(COMPANY, "credentials", HealthState::Ok, "", "", t(90))
            .await
            .unwrap();
        let entry = &s.health(Some(COMPANY)).await.unwrap()[0];
        assert_eq!(
            (entry.state, entry.since, entry.updated_at),
            (HealthState::Ok, t(90), t(90))
        );
    }
);

both!(
    health_lists_one_company_or_every_company_and_a_cleared_aspect_is_gone,
    |ctx| {
        let s = &ctx.store;
        s.set_health(
            COMPANY,
            "webhook",
            HealthState::Degraded,
            "No delivery for 2 hours",
            "Check that Procore can reach the public URL",
            t(0),
        )
        .await
        .unwrap();
        s.set_health(COMPANY, "credentials", HealthState::Ok, "", "", t(0))
            .await
            .unwrap();
        s.set_health(
            OTHER,
            "rate_limit",
            HealthState::Degraded,
            "Procore's hourly limit was hit",
            "Nothing: work resumes when the limit resets",
            t(0),
        )
        .await
        .unwrap();

        let mine: Vec<String> = s
            .health(Some(COMPANY))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.aspect)
            .collect();
        assert_eq!(mine, ["credentials", "webhook"]);
        let all: Vec<(i64, String)> = s
            .health(None)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.company_id, e.aspect))
            .collect();
        assert_eq!(
            all,
            [
                (COMPANY, "credentials".to_string()),
                (COMPANY, "webhook".to_string()),
                (OTHER, "rate_limit".to_string())
            ]
        );

        s.clear_health(COMPANY, "webhook").await.unwrap();
        let mine = s.health(Some(COMPANY)).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].aspect, "credentials");
        assert_eq!(s.health(Some(OTHER)).await.unwrap().len(), 1);
    }
);
