//! Procore may send any property its schemas do not mark required as `null`. With the simulator
//! nulling them at random, a whole workforce sync reads every record: the only records skipped
//! are those trestle's own rules need a value for (a name, the active flag), and the sync
//! finishes without a failure.

use procore_sim::{demo, SimConfig};
use sync::workforce::Reason;

use crate::harness::{quiet, TestApp};

/// What trestle's rules skip when Procore leaves the value out; any other malformed record
/// would be one the client could not read.
const DOMAIN_RULES: &[&str] = &[
    "the project has no name",
    "the project does not say whether it is active",
    "the user has neither a first nor a last name",
];

#[tokio::test]
async fn a_workforce_sync_with_fields_nulled_at_random_skips_no_record_it_could_read() {
    for seed in [1_u64, 2, 3, 4] {
        let config = SimConfig {
            null_probability: 0.3,
            null_seed: seed,
            ..quiet()
        };
        let app = TestApp::spawn(demo::world(), config, |c| c.sync_forms = true).await;
        let report = app.sync().await;
        assert!(
            report.failures.is_empty(),
            "seed {seed}: {:?}",
            report.failures
        );
        assert!(report.summary.records_read > 0, "seed {seed}");
        let malformed: Vec<_> = report
            .plan
            .actions
            .iter()
            .filter(|a| {
                matches!(a.reason(), Reason::Malformed { problem }
                    if !DOMAIN_RULES.contains(&problem.as_str()))
            })
            .collect();
        assert!(malformed.is_empty(), "seed {seed}: {malformed:?}");
        let again = app.sync().await;
        assert!(
            again.failures.is_empty(),
            "seed {seed}: {:?}",
            again.failures
        );
    }
}
