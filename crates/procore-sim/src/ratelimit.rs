//! Per-app rate limits: an hourly budget and a 10-second spike window.
//!
//! Why this shape: Procore documents two fixed windows per app, counts every request
//! (failures too), and reports in `X-Rate-Limit-*` the limit "most likely to be exceeded
//! first" — the spike window normally, the hourly one once its remaining count drops below
//! the spike window's. Windows are fixed (they start at the first request and reset after
//! their length), measured on the simulated clock.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Rate-limit budgets and window lengths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// Requests per hourly window (Procore's historical default: 3600).
    pub hourly: u32,
    /// Requests per spike window.
    pub spike: u32,
    pub hourly_window: Duration,
    pub spike_window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            hourly: 3600,
            spike: 25,
            hourly_window: Duration::from_secs(3600),
            spike_window: Duration::from_secs(10),
        }
    }
}

/// What one request was told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the reported window resets.
    pub reset: i64,
    /// `Some(seconds)` when the request is over a limit and must get a 429.
    pub retry_after: Option<i64>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Window {
    start_ms: i64,
    count: u32,
}

impl Window {
    fn hit(&mut self, now_ms: i64, len_ms: i64) {
        if self.count == 0 || now_ms >= self.start_ms + len_ms {
            self.start_ms = now_ms;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
    }
}

/// Counters per client (app); `"anonymous"` for requests without a recognisable token.
#[derive(Debug)]
pub struct RateState {
    limits: Option<RateLimits>,
    buckets: HashMap<String, (Window, Window)>,
}

impl RateState {
    pub fn new(limits: Option<RateLimits>) -> Self {
        RateState {
            limits,
            buckets: HashMap::new(),
        }
    }

    /// The active limits.
    pub fn limits(&self) -> Option<&RateLimits> {
        self.limits.as_ref()
    }

    /// Counts one request for `key` at `now_ms` and decides; `None` when limits are off.
    pub fn hit(&mut self, key: &str, now_ms: i64) -> Option<Decision> {
        let limits = self.limits.clone()?;
        let hour_ms = limits.hourly_window.as_millis() as i64;
        let spike_ms = limits.spike_window.as_millis() as i64;
        let (hourly, spike) = self.buckets.entry(key.to_owned()).or_default();
        hourly.hit(now_ms, hour_ms);
        spike.hit(now_ms, spike_ms);
        let h_rem = limits.hourly.saturating_sub(hourly.count);
        let s_rem = limits.spike.saturating_sub(spike.count);
        let h_reset_ms = hourly.start_ms + hour_ms;
        let s_reset_ms = spike.start_ms + spike_ms;
        let (limit, remaining, reset_ms) = if h_rem < s_rem {
            (limits.hourly, h_rem, h_reset_ms)
        } else {
            (limits.spike, s_rem, s_reset_ms)
        };
        let over_h = hourly.count > limits.hourly;
        let over_s = spike.count > limits.spike;
        let retry_after = if over_h || over_s {
            let until = if over_h { h_reset_ms } else { s_reset_ms };
            Some(((until - now_ms) + 999).div_euclid(1000).max(1))
        } else {
            None
        };
        Some(Decision {
            limit,
            remaining,
            reset: (reset_ms + 999).div_euclid(1000),
            retry_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> RateState {
        RateState::new(Some(RateLimits {
            hourly: 10,
            spike: 3,
            hourly_window: Duration::from_secs(3600),
            spike_window: Duration::from_secs(10),
        }))
    }

    #[test]
    fn spike_limit_is_reported_until_hourly_remaining_is_smaller() {
        let mut s = small();
        let d = s.hit("a", 0).unwrap();
        assert_eq!((d.limit, d.remaining), (3, 2));
        // Move past spike windows to drain the hourly budget.
        for i in 1..9 {
            s.hit("a", i * 11_000);
        }
        let d = s.hit("a", 100_000).unwrap();
        assert_eq!(d.limit, 10);
        assert_eq!(d.remaining, 0);
    }

    #[test]
    fn request_over_the_spike_budget_gets_retry_after_until_the_window_resets() {
        let mut s = small();
        for _ in 0..3 {
            assert!(s.hit("a", 1_000).unwrap().retry_after.is_none());
        }
        let d = s.hit("a", 2_000).unwrap();
        assert_eq!(d.retry_after, Some(9));
        assert!(s.hit("a", 11_000).unwrap().retry_after.is_none());
    }

    #[test]
    fn clients_have_separate_budgets() {
        let mut s = small();
        for _ in 0..4 {
            s.hit("a", 0);
        }
        assert!(s.hit("b", 0).unwrap().retry_after.is_none());
    }

    #[test]
    fn no_limits_means_no_decision() {
        assert!(RateState::new(None).hit("a", 0).is_none());
    }
}
