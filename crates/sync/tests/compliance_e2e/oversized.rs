//! One record too large for Procore does not hold up the others: a `sync` call Procore refuses
//! whole for its size (413) is split in halves until the record that is too large by itself is
//! alone, and that one is named in the report and the run log while the rest are written.

use super::*;
use domain::compliance::CertificateId;

impl App {
    /// Gives Bolt a certificate meeting the profile whose general liability insurer is named
    /// with `insurer`.
    async fn certify_bolt_with_insurer(&self, insurer: &str) -> CertificateId {
        let bolt = self.party_of(self.vendor("Bolt Plumbing")).await.id;
        let mut c: Certificate = serde_json::from_value(serde_json::json!({
            "id": 1, "party_id": 1, "policies": [
                {"subject": "general_liability", "insurer": insurer, "policy_number": "GL-9",
                 "effective_date": "2026-01-01", "expiration_date": "2027-12-31",
                 "limits": {"each_occurrence": "2000000"}},
                {"subject": "automobile_liability", "insurer": "Granite Mutual", "policy_number": "AU-9",
                 "effective_date": "2026-01-01", "expiration_date": "2027-12-31",
                 "limits": {"combined_single_limit": "1000000"}}
            ]
        }))
        .unwrap();
        c.party_id = bolt;
        self.store.add_certificate(self.company, &c).await.unwrap()
    }
}

#[tokio::test]
async fn a_record_too_large_for_procore_is_named_and_the_others_are_written() {
    let app = App::new().await;
    let huge = "Mutual ".repeat(procore_sim::MAX_INSURANCE_SYNC_BODY / 7 + 1);
    let certificate = app.certify_bolt_with_insurer(&huge).await;
    app.sim().clear_request_log();
    let report = app.sync().await;

    // Bolt's general liability records (company level and Harbor Tower) are too large alone.
    let bolt = app.party_of(app.vendor("Bolt Plumbing")).await.id;
    let harbor = app
        .store
        .compliance_projects(app.company)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.project.name == "Harbor Tower")
        .unwrap()
        .project
        .id;
    let too_large = [
        format!("trestle:party:{bolt}:subject:general_liability"),
        format!("trestle:party:{bolt}:project:{harbor}:subject:general_liability"),
    ];
    assert_eq!(
        report.summary.insurance_failures, 2,
        "{:#?}",
        report.failures
    );
    for origin in &too_large {
        assert!(
            report
                .failures
                .iter()
                .any(|f| f.starts_with(origin.as_str()) && f.contains("too large")),
            "{origin} is named: {:#?}",
            report.failures
        );
    }
    let logged = app.store.run_entries(report.run).await.unwrap();
    for origin in &too_large {
        assert!(
            logged.iter().any(|e| e.entry.outcome == "failed"
                && e.entry.reason.contains("too large")
                && e.entry
                    .detail_json
                    .as_deref()
                    .is_some_and(|d| d.contains(origin.as_str()))),
            "the run log names {origin}"
        );
    }

    // Every other record is in Procore: all that the sync queued but those two.
    let written: Vec<String> = app
        .written()
        .into_iter()
        .filter_map(|i| i.origin_id)
        .collect();
    assert_eq!(
        report.summary.insurance_written,
        report.summary.insurance_queued - 2
    );
    assert_eq!(written.len(), report.summary.insurance_written);
    assert!(written.iter().all(|o| !too_large.contains(o)));
    assert!(written
        .iter()
        .any(|o| o == &format!("trestle:party:{bolt}:subject:automobile_liability")));
    let too_large_requests = app
        .sim()
        .request_log()
        .iter()
        .filter(|r| r.status == 413)
        .count();
    assert!(too_large_requests >= 2, "{too_large_requests}");

    // Corrected (a sensible insurer name), the two are written by the next sync.
    let mut fixed = app
        .store
        .certificates(app.company)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == certificate)
        .unwrap();
    fixed.policies[0].insurer = "Granite Mutual".into();
    app.store
        .replace_certificate(app.company, &fixed, None)
        .await
        .unwrap();
    let next = app.sync().await;
    assert_eq!(next.summary.insurance_failures, 0, "{:#?}", next.failures);
    let written: Vec<String> = app
        .written()
        .into_iter()
        .filter_map(|i| i.origin_id)
        .collect();
    assert!(too_large.iter().all(|o| written.contains(o)));
}
