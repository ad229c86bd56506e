//! Arbitrary Procore text and numbers through whole compliance syncs: names with NUL, escape
//! sequences and line breaks, text far longer than any field, amounts and custom field values
//! that are no number at all or beyond any number trestle keeps. Each round makes a hostile
//! company from a seeded generator (so a failure repeats) and syncs it twice, the second time
//! through the incremental path and the mirror; no sync may fail and nothing may panic.

use super::App;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use testkit::Backend;

/// Text drawn from characters that break naive code: controls, NUL, wide and combining
/// characters, quotes, bidirectional overrides; now and then tens of thousands of them.
fn text(rng: &mut SmallRng) -> String {
    const POOL: &[char] = &[
        'a', 'Z', ' ', '9', '-', '.', ',', '"', '\'', '\\', '/', '%', '$', 'é', '漢', '😀',
        '\u{301}', '\u{0}', '\u{1b}', '\u{7}', '\r', '\n', '\t', '\u{7f}', '\u{85}', '\u{202e}',
        '\u{feff}', '\u{fffd}',
    ];
    let len = match rng.random_range(0..20) {
        0 => 0,
        1 => rng.random_range(10_000..70_000),
        _ => rng.random_range(1..40),
    };
    (0..len)
        .map(|_| POOL[rng.random_range(0..POOL.len())])
        .collect()
}

/// An amount as Procore might send one, good or not.
fn amount(rng: &mut SmallRng) -> String {
    match rng.random_range(0..8) {
        0 => "1e400".into(),
        1 => "9".repeat(rng.random_range(20..400)),
        2 => "-0.000000000000000000000000000001".into(),
        3 => "NaN".into(),
        4 => text(rng),
        5 => String::new(),
        _ => format!(
            "{}.{:02}",
            rng.random_range(0..u32::MAX),
            rng.random_range(0..100)
        ),
    }
}

/// Six hostile companies, each synced twice, each on a new store on `backend` (a store per
/// round: each has its own key).
async fn hostile_rounds(backend: Backend) {
    for seed in 0..6u64 {
        let app = App::on(backend).await;
        let mut rng = SmallRng::seed_from_u64(seed);
        app.sim().write(|w| {
            for p in w.projects.values_mut() {
                p.name = text(&mut rng);
                p.description = Some(text(&mut rng));
                p.project_number = Some(text(&mut rng));
                p.address = Some(text(&mut rng));
            }
            for v in w.vendors.values_mut() {
                v.name = text(&mut rng);
                v.address = Some(text(&mut rng));
                v.website = Some(text(&mut rng));
            }
            for u in w.users.values_mut() {
                u.first_name = Some(text(&mut rng));
                u.last_name = Some(text(&mut rng));
                u.email_address = Some(text(&mut rng));
            }
            for c in w.commitments.values_mut() {
                c.title = Some(text(&mut rng));
                c.grand_total = amount(&mut rng);
                for value in c.custom_fields.values_mut() {
                    *value = text(&mut rng);
                }
            }
        });
        let first = app.sync().await;
        assert!(
            first.failures.is_empty(),
            "seed {seed}: {:?}",
            first.failures
        );
        // A second hostile edit read through the incremental path and merged into the mirror.
        let now = app.sim().now();
        app.sim().write(|w| {
            for v in w.vendors.values_mut() {
                v.name = text(&mut rng);
                v.updated_at = now;
            }
        });
        app.sim().advance_clock(std::time::Duration::from_secs(120));
        let second = app.sync().await;
        assert!(
            second.failures.is_empty(),
            "seed {seed}: {:?}",
            second.failures
        );
        app.remove().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_procore_text_and_numbers_never_stop_a_compliance_sync_on_sqlite() {
    hostile_rounds(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_procore_text_and_numbers_never_stop_a_compliance_sync_on_postgres() {
    hostile_rounds(Backend::Postgres).await;
}
