//! How many answers of each HTTP status a client met, for metrics.
//!
//! The labels are a fixed set, so a metric labelled with them stays small whatever Procore
//! answers: the statuses a caller acts on each have their own (`"200"`, `"404"`, `"429"`...),
//! every other one counts in its class (`"2xx"`, `"5xx"`...), and a request that got no answer
//! (a refused connection, a timeout) is `"error"`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Every label, in the order [`StatusTally::counts`] lists them.
pub const STATUS_LABELS: [&str; 16] = [
    "200", "201", "204", "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "4xx",
    "5xx", "other", "error",
];

/// The label of an answer's status; `None` for a request that got no answer.
pub fn status_label(status: Option<u16>) -> &'static str {
    match status {
        None => "error",
        Some(200) => "200",
        Some(201) => "201",
        Some(204) => "204",
        Some(400) => "400",
        Some(401) => "401",
        Some(403) => "403",
        Some(404) => "404",
        Some(409) => "409",
        Some(422) => "422",
        Some(429) => "429",
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
    }
}

fn label_index(status: Option<u16>) -> usize {
    let label = status_label(status);
    STATUS_LABELS
        .iter()
        .position(|l| *l == label)
        .unwrap_or(STATUS_LABELS.len() - 1)
}

/// Counters, one per label.
#[derive(Debug, Default)]
pub(crate) struct StatusTally([AtomicU64; STATUS_LABELS.len()]);

impl StatusTally {
    pub(crate) fn count(&self, status: Option<u16>) {
        self.0[label_index(status)].fetch_add(1, Ordering::Relaxed);
    }

    /// The labels met so far with their counts, in [`STATUS_LABELS`] order.
    pub(crate) fn counts(&self) -> Vec<(&'static str, u64)> {
        STATUS_LABELS
            .iter()
            .zip(&self.0)
            .map(|(label, n)| (*label, n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_a_caller_acts_on_keep_their_code_and_the_rest_count_in_their_class() {
        let labels: Vec<&str> = [
            Some(200),
            Some(206),
            Some(301),
            Some(404),
            Some(418),
            Some(429),
            Some(500),
            Some(503),
            Some(99),
            Some(700),
            None,
        ]
        .into_iter()
        .map(status_label)
        .collect();
        assert_eq!(
            labels,
            ["200", "2xx", "3xx", "404", "4xx", "429", "5xx", "5xx", "other", "other", "error"]
        );
    }

    #[test]
    fn every_label_is_listed() {
        for status in (0..1000).map(Some).chain([None]) {
            assert!(STATUS_LABELS.contains(&status_label(status)));
        }
    }

    #[test]
    fn the_tally_lists_only_the_labels_met_in_a_fixed_order() {
        let tally = StatusTally::default();
        for status in [Some(429), None, Some(200), Some(429)] {
            tally.count(status);
        }
        assert_eq!(tally.counts(), [("200", 1), ("429", 2), ("error", 1)]);
    }
}
