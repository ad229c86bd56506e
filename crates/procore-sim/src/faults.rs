//! Fault injection, switchable at run time, driven by a seeded RNG so runs repeat.
//!
//! Why: a client that survives Procore must survive 5xx with `Retry-After`, slow answers,
//! bursts of 429, writes whose response is lost (the write happened; the client saw a
//! transport error) and bodies cut short. Each fault is a probability or a count here.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Faults to inject into `/rest/` and `/oauth/` requests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Probability of answering 500, 502 or 503 (503 carries `Retry-After`) instead of handling.
    pub error_rate: f64,
    /// Added to every request.
    pub latency: Duration,
    /// The next N requests get 429.
    pub storm_429: u32,
    /// Probability that a successful write (POST/PATCH/PUT/DELETE) is applied and then its
    /// response is aborted mid-flight.
    pub drop_after_write_rate: f64,
    /// Probability that a successful write (POST/PATCH/PUT/DELETE) is applied and then
    /// answered `503 Service Unavailable` (with `Retry-After: 1`), as a gateway that timed out
    /// waiting for Procore would: a client that takes the 503 to mean "not processed" and
    /// sends a create again makes a duplicate.
    pub error_after_write_rate: f64,
    /// Probability that a response keeps its status but loses the second half of its body.
    pub truncate_rate: f64,
    /// Deliver every webhook event twice.
    pub duplicate_webhooks: bool,
    /// The next N `PUT`s to presigned unified-upload storage URLs answer 503 (with
    /// `Retry-After: 1`) without storing anything, so clients must retry a part.
    pub storage_errors: u32,
    /// A unified upload completed while this is N answers `complete` to N status reads before
    /// it turns `available`, so clients must poll (0: the first read sees `available`).
    pub upload_processing_polls: u32,
}

/// Active faults plus the RNG and the remaining 429 storm.
#[derive(Debug)]
pub struct FaultState {
    pub faults: Faults,
    pub storm_left: u32,
    pub storage_errors_left: u32,
    rng: SmallRng,
}

/// What to do to one request before it is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Before {
    None,
    Storm429,
    Error(u16),
}

impl FaultState {
    pub fn new(faults: Faults, seed: u64) -> Self {
        FaultState {
            storm_left: faults.storm_429,
            storage_errors_left: faults.storage_errors,
            faults,
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    pub fn set(&mut self, faults: Faults) {
        self.storm_left = faults.storm_429;
        self.storage_errors_left = faults.storage_errors;
        self.faults = faults;
    }

    /// Whether this storage `PUT` fails with 503 (counts the `storage_errors` down).
    pub fn storage_error(&mut self) -> bool {
        if self.storage_errors_left > 0 {
            self.storage_errors_left -= 1;
            return true;
        }
        false
    }

    fn roll(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random::<f64>() < p
    }

    /// Decides the pre-handler fault.
    pub fn before(&mut self) -> Before {
        if self.storm_left > 0 {
            self.storm_left -= 1;
            return Before::Storm429;
        }
        let p = self.faults.error_rate;
        if self.roll(p) {
            let code = [500, 502, 503][self.rng.random_range(0..3)];
            return Before::Error(code);
        }
        Before::None
    }

    /// Whether to drop this (successful write's) response.
    pub fn drop_after_write(&mut self) -> bool {
        let p = self.faults.drop_after_write_rate;
        self.roll(p)
    }

    /// Whether to answer this (successful, applied) write with a 503.
    pub fn error_after_write(&mut self) -> bool {
        let p = self.faults.error_after_write_rate;
        self.roll(p)
    }

    /// Whether to truncate this response's body.
    pub fn truncate(&mut self) -> bool {
        let p = self.faults.truncate_rate;
        self.roll(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_injects_the_same_errors() {
        let f = Faults {
            error_rate: 0.5,
            ..Faults::default()
        };
        let run = |seed| {
            let mut s = FaultState::new(f.clone(), seed);
            (0..50).map(|_| s.before()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert!(run(7).iter().any(|b| *b != Before::None));
    }

    #[test]
    fn storm_answers_exactly_n_requests_with_429() {
        let mut s = FaultState::new(
            Faults {
                storm_429: 2,
                ..Faults::default()
            },
            1,
        );
        assert_eq!(s.before(), Before::Storm429);
        assert_eq!(s.before(), Before::Storm429);
        assert_eq!(s.before(), Before::None);
    }
}
