//! Procore may send any property its schemas do not mark required as `null`. With the simulator
//! nulling them at random, a whole compliance sync decodes every record: the only records set
//! aside are those trestle's own rules need a value for (a name, the active flag).

use procore_sim::SimConfig;

use crate::App;

/// What trestle's rules set aside when Procore leaves the value out; anything else a sync
/// rejects would be a record the client could not read.
const DOMAIN_RULES: &[&str] = &[
    "the project has no name",
    "the project does not say whether it is active",
    "the company has no name",
];

#[tokio::test]
async fn a_compliance_sync_with_fields_nulled_at_random_rejects_no_record_it_could_read() {
    for seed in [1_u64, 2, 3, 4] {
        let config = SimConfig {
            rate_limits: None,
            null_probability: 0.3,
            null_seed: seed,
            ..SimConfig::default()
        };
        let app = App::on_with(testkit::Backend::Sqlite, config).await;
        let report = app.sync().await;
        assert!(
            report.failures.is_empty(),
            "seed {seed}: {:?}",
            report.failures
        );
        assert!(report.summary.records_read > 0, "seed {seed}");
        for (kind, id, problem) in &report.rejected {
            assert!(
                DOMAIN_RULES.contains(&problem.as_str()),
                "seed {seed}: {kind} {id:?} rejected: {problem}"
            );
        }
        // A second sync over the same nulls plans without error too.
        let again = app.sync().await;
        assert!(
            again.failures.is_empty(),
            "seed {seed}: {:?}",
            again.failures
        );
    }
}
