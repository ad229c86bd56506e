//! The Prometheus metrics `/metrics` serves. Counters and the job latency histogram are kept as
//! things happen; the gauges (jobs by state, company health, each company's Procore budget)
//! are read fresh at each scrape, from the store and the clients, so every process reports
//! the shared queue as it is.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn job_buckets() -> Histogram {
    // 10 ms to about 45 minutes: a routing job, up to a whole read under the rate limit.
    Histogram::new(exponential_buckets(0.01, 2.0, 19))
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    deliveries: Family<Labels, Counter>,
    job_seconds: Family<Labels, Histogram>,
    jobs: Family<Labels, Gauge>,
    health: Family<Labels, Gauge>,
    requests: Family<Labels, Gauge>,
    rate_limited: Family<Labels, Gauge>,
    remaining: Family<Labels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("trestle");
        let deliveries = Family::<Labels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries by outcome: accepted, duplicate (already stored), refused",
            deliveries.clone(),
        );
        let job_seconds =
            Family::<Labels, Histogram>::new_with_constructor(job_buckets as fn() -> Histogram);
        registry.register(
            "job_duration_seconds",
            "How long jobs ran, by kind and outcome (done, retry, dead, released, lease_lost)",
            job_seconds.clone(),
        );
        let jobs = Family::<Labels, Gauge>::default();
        registry.register("jobs", "Jobs in the queue by kind and state", jobs.clone());
        let health = Family::<Labels, Gauge>::default();
        registry.register(
            "company_health",
            "Each company's health by aspect: 0 ok, 1 degraded, 2 failing (aspects not listed are ok)",
            health.clone(),
        );
        let requests = Family::<Labels, Gauge>::default();
        registry.register(
            "procore_requests",
            "Procore requests this process made since it started, by company and answer status (200, 404, 429, 5xx..., error when none came)",
            requests.clone(),
        );
        let rate_limited = Family::<Labels, Gauge>::default();
        registry.register(
            "procore_rate_limited",
            "Procore 429 answers this process met, by company, since it started",
            rate_limited.clone(),
        );
        let remaining = Family::<Labels, Gauge>::default();
        registry.register(
            "procore_rate_limit_remaining",
            "Procore's last reported remaining requests in the window, by company",
            remaining.clone(),
        );
        Metrics {
            registry,
            deliveries,
            job_seconds,
            jobs,
            health,
            requests,
            rate_limited,
            remaining,
        }
    }

    pub(crate) fn delivery(&self, outcome: &str) {
        self.deliveries
            .get_or_create(&labels(&[("outcome", outcome)]))
            .inc();
    }

    pub(crate) fn job_finished(&self, kind: &str, outcome: &str, took: Duration) {
        self.job_seconds
            .get_or_create(&labels(&[("kind", kind), ("outcome", outcome)]))
            .observe(took.as_secs_f64());
    }

    /// Renders the metrics, the gauges read afresh.
    pub(crate) async fn render(
        &self,
        store: &store::Store,
        clients: &[(i64, procore::Client)],
    ) -> Result<String, store::StoreError> {
        self.jobs.clear();
        for (kind, state, n) in store.job_counts().await? {
            self.jobs
                .get_or_create(&labels(&[("kind", &kind), ("state", state.as_str())]))
                .set(n);
        }
        self.health.clear();
        for h in store.health(None).await? {
            let value = match h.state {
                store::HealthState::Ok => 0,
                store::HealthState::Degraded => 1,
                store::HealthState::Failing => 2,
            };
            let company = h.company_id.to_string();
            self.health
                .get_or_create(&labels(&[("company", &company), ("aspect", &h.aspect)]))
                .set(value);
        }
        for (company, client) in clients {
            let company = company.to_string();
            let l = labels(&[("company", &company)]);
            let stats = client.stats();
            for (status, n) in client.requests_by_status() {
                self.requests
                    .get_or_create(&labels(&[("company", &company), ("status", status)]))
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            self.rate_limited
                .get_or_create(&l)
                .set(i64::try_from(stats.rate_limited).unwrap_or(i64::MAX));
            if let Some(limit) = client.rate_limit() {
                self.remaining
                    .get_or_create(&l)
                    .set(i64::from(limit.remaining));
            }
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        Ok(out)
    }
}
