//! Pacing and retry decisions, as pure functions.
//!
//! Nothing here does I/O or reads a clock: `now_ms` (Unix milliseconds) and `jitter` (a value
//! in `[0, 1)`) are arguments, so every branch is a row in a table test. The request core in
//! [`crate::http`] feeds these functions and sleeps for what they return.
//!
//! ## Pacing ([`before_send`])
//!
//! Procore reports one window at a time in `X-Rate-Limit-Limit/Remaining/Reset` (usually the
//! 10-second spike window, the hourly one when it is nearly spent). The pacer keeps the last
//! report, counts its own sends against it, and decides:
//!
//! | state                                   | decision                                        |
//! |-----------------------------------------|-------------------------------------------------|
//! | nothing known, or the window has reset  | send now                                        |
//! | remaining = 0                           | wait until reset + safety margin + jitter       |
//! | an earlier send reserved a later slot   | wait for that slot                              |
//! | remaining ≤ reserve (a quarter of limit)| send, and space the next send by time-to-reset / remaining |
//! | otherwise                               | send now                                        |
//!
//! So a backlog spends the whole budget, and steady work never draws a 429.
//!
//! ## Retries ([`after_response`])
//!
//! | outcome                                | GET (safe) / idempotent write     | other write                       |
//! |----------------------------------------|-----------------------------------|-----------------------------------|
//! | 2xx, 3xx, other 4xx                    | done                              | done                              |
//! | 401, first time                        | refresh the token, retry          | refresh the token, retry          |
//! | 429                                    | wait Retry-After or reset, retry  | same (the request was not processed) |
//! | 503                                    | wait Retry-After or backoff, retry| give up: outcome unknown          |
//! | 408, other 5xx                         | backoff, retry                    | give up: outcome unknown          |
//! | connection refused (never sent)        | backoff, retry                    | backoff, retry                    |
//! | timeout, reset, truncated body         | backoff, retry                    | give up: outcome unknown          |
//!
//! A 503 after a non-idempotent write (a `POST /files`, `/folders`, `/file_versions` create)
//! is not taken to mean "not processed": a gateway that gave up waiting answers 503 although
//! Procore went on and created the record, and a blind retry would create it twice. The caller
//! gets [`GiveUp::OutcomeUnknown`] and looks the record up (by its marker) before writing again.
//!
//! Retries are bounded: `max_retries` transient failures, `max_rate_limit_waits` 429s.

use std::time::Duration;

/// One `X-Rate-Limit-*` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// `X-Rate-Limit-Limit`: requests allowed in the reported window.
    pub limit: u32,
    /// `X-Rate-Limit-Remaining`: requests left in it.
    pub remaining: u32,
    /// `X-Rate-Limit-Reset`: Unix seconds when it resets.
    pub reset_at: i64,
}

/// Tuning for pacing and retries.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Transient failures (5xx, timeouts, connection errors, bad bodies) retried per request.
    pub max_retries: u32,
    /// 429 answers waited out per request before giving up.
    pub max_rate_limit_waits: u32,
    /// First backoff delay; doubles per attempt.
    pub base_backoff: Duration,
    /// Largest backoff delay.
    pub max_backoff: Duration,
    /// Added after a reported reset before sending again (reset times are whole seconds).
    pub reset_margin: Duration,
    /// Upper bound of the random extra wait added after a reset, so many clients do not
    /// all send at the same instant.
    pub reset_jitter: Duration,
    /// Longest wait ever taken for a rate-limit window (guards against skewed clocks).
    pub max_wait: Duration,
    /// Whether to pace sends by the reported budget at all.
    pub pacing: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 5,
            max_rate_limit_waits: 30,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            reset_margin: Duration::from_millis(300),
            reset_jitter: Duration::from_millis(200),
            max_wait: Duration::from_secs(3600),
            pacing: true,
        }
    }
}

/// What the pacer knows, shared by every request of one client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacerState {
    /// The last report, with `remaining` lowered by sends made since.
    pub known: Option<RateLimit>,
    /// Earliest time (Unix ms) the next send may go, when sends are being spaced.
    pub next_send_at_ms: i64,
}

/// Why a send must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// The window's budget is spent; wait for its reset.
    BudgetSpent,
    /// The budget is low; sends are spread until the reset.
    Spacing,
}

/// The pacer's answer before a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendDecision {
    /// Send now (a slot has been taken from the budget).
    SendNow,
    /// Wait this long, then ask again.
    Wait {
        /// How long.
        delay: Duration,
        /// Why.
        reason: WaitReason,
    },
}

fn clamp_ms(ms: i64, max: Duration) -> Duration {
    Duration::from_millis(ms.max(0) as u64).min(max)
}

/// Decides whether a request may be sent now, and takes a slot from the budget if so.
pub fn before_send(
    state: &mut PacerState,
    now_ms: i64,
    jitter: f64,
    cfg: &RetryConfig,
) -> SendDecision {
    if !cfg.pacing {
        return SendDecision::SendNow;
    }
    let Some(mut known) = state.known else {
        return SendDecision::SendNow;
    };
    // Saturating: the reset comes from a header, and a nonsense value must not overflow.
    let margin_ms = cfg.reset_margin.as_millis() as i64;
    let reset_ms = known
        .reset_at
        .saturating_mul(1000)
        .saturating_add(margin_ms);
    if now_ms >= reset_ms {
        // The reported window is over; its numbers say nothing about the next one.
        state.known = None;
        state.next_send_at_ms = 0;
        return SendDecision::SendNow;
    }
    if known.remaining == 0 {
        let jitter_ms = (cfg.reset_jitter.as_millis() as f64 * jitter.clamp(0.0, 1.0)) as i64;
        return SendDecision::Wait {
            delay: clamp_ms(
                reset_ms.saturating_add(jitter_ms).saturating_sub(now_ms),
                cfg.max_wait,
            ),
            reason: WaitReason::BudgetSpent,
        };
    }
    if now_ms < state.next_send_at_ms {
        return SendDecision::Wait {
            delay: clamp_ms(state.next_send_at_ms - now_ms, cfg.max_wait),
            reason: WaitReason::Spacing,
        };
    }
    let reserve = (known.limit / 4).max(1);
    if known.remaining <= reserve {
        let until_reset = reset_ms.saturating_sub(now_ms).max(0);
        let interval = until_reset / i64::from(known.remaining);
        state.next_send_at_ms = now_ms + interval.min(cfg.max_wait.as_millis() as i64);
    }
    known.remaining -= 1;
    state.known = Some(known);
    SendDecision::SendNow
}

/// Folds a response's rate-limit report into the shared state.
///
/// A report for the same window can only lower `remaining` (other requests may be in
/// flight); a report of an older window of the same limit is stale and ignored; anything else
/// (a new window, or the other window being reported) replaces the state.
pub fn observe(state: &mut PacerState, report: RateLimit) {
    match state.known {
        Some(k) if k.limit == report.limit && report.reset_at < k.reset_at => {}
        Some(k) if k.limit == report.limit && report.reset_at == k.reset_at => {
            state.known = Some(RateLimit {
                remaining: k.remaining.min(report.remaining),
                ..k
            });
        }
        _ => {
            state.known = Some(report);
            state.next_send_at_ms = 0;
        }
    }
}

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Procore answered with this status (body read completely).
    Status(u16),
    /// The connection could not be made: the request was never sent.
    ConnectFailed,
    /// The connection broke or timed out after the request was sent.
    Transport,
    /// A 2xx answer whose body was cut short or could not be decoded.
    BadBody,
}

/// What kind of request this is, and how far it has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// A GET (or another method with no side effects).
    pub safe: bool,
    /// A write that may be sent twice without harm (a sync by `origin_id`, or the caller
    /// opted in).
    pub idempotent: bool,
    /// Transient failures so far.
    pub retries: u32,
    /// 429 answers so far.
    pub rate_limit_waits: u32,
    /// Whether the token was already refreshed because of a 401.
    pub auth_refreshed: bool,
}

/// Why a retry is scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// 429.
    RateLimited,
    /// 503 with or without Retry-After.
    Unavailable,
    /// 5xx, 408, connection failure, truncated body.
    Transient,
}

/// Why no retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// Too many transient failures.
    TooManyRetries,
    /// Too many 429s.
    RateLimited,
    /// A non-idempotent write may have been processed.
    OutcomeUnknown,
}

/// The decision after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand the answer to the caller (success or a definite error).
    Done,
    /// Get a new access token and send again at once.
    RefreshAndRetry,
    /// Send again after this delay.
    RetryAfter {
        /// How long to wait.
        delay: Duration,
        /// Why.
        reason: RetryReason,
    },
    /// Stop and report.
    GiveUp(GiveUp),
}

/// Exponential backoff with jitter: `base * 2^retries`, capped, scaled into `[50%, 100%]`.
pub fn backoff(retries: u32, jitter: f64, cfg: &RetryConfig) -> Duration {
    let exp = cfg.base_backoff.saturating_mul(1u32 << retries.min(16));
    let capped = exp.min(cfg.max_backoff);
    capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Decides what to do after an attempt.
pub fn after_response(
    outcome: Outcome,
    attempt: &Attempt,
    retry_after: Option<Duration>,
    report: Option<RateLimit>,
    now_ms: i64,
    jitter: f64,
    cfg: &RetryConfig,
) -> Verdict {
    let may_repeat = attempt.safe || attempt.idempotent;
    let transient = |unsent: bool| {
        if !unsent && !may_repeat {
            Verdict::GiveUp(GiveUp::OutcomeUnknown)
        } else if attempt.retries >= cfg.max_retries {
            Verdict::GiveUp(GiveUp::TooManyRetries)
        } else {
            Verdict::RetryAfter {
                delay: backoff(attempt.retries, jitter, cfg).max(retry_after.unwrap_or_default()),
                reason: RetryReason::Transient,
            }
        }
    };
    match outcome {
        Outcome::Status(401) if !attempt.auth_refreshed => Verdict::RefreshAndRetry,
        Outcome::Status(429) => {
            if attempt.rate_limit_waits >= cfg.max_rate_limit_waits {
                return Verdict::GiveUp(GiveUp::RateLimited);
            }
            let jitter_ms = (cfg.reset_jitter.as_millis() as f64 * jitter.clamp(0.0, 1.0)) as u64;
            let base = match (retry_after, report) {
                (Some(ra), _) => ra,
                (None, Some(r)) => clamp_ms(
                    r.reset_at
                        .saturating_mul(1000)
                        .saturating_add(cfg.reset_margin.as_millis() as i64)
                        .saturating_sub(now_ms),
                    cfg.max_wait,
                ),
                (None, None) => backoff(attempt.rate_limit_waits, 1.0, cfg),
            };
            Verdict::RetryAfter {
                delay: (base + Duration::from_millis(jitter_ms)).min(cfg.max_wait),
                reason: RetryReason::RateLimited,
            }
        }
        Outcome::Status(503) if !may_repeat => Verdict::GiveUp(GiveUp::OutcomeUnknown),
        Outcome::Status(503) => {
            if attempt.retries >= cfg.max_retries {
                return Verdict::GiveUp(GiveUp::TooManyRetries);
            }
            let delay = match retry_after {
                Some(ra) => ra + backoff(0, jitter, cfg).min(Duration::from_millis(100)),
                None => backoff(attempt.retries, jitter, cfg),
            };
            Verdict::RetryAfter {
                delay: delay.min(cfg.max_wait),
                reason: RetryReason::Unavailable,
            }
        }
        Outcome::Status(408) => transient(false),
        Outcome::Status(s) if s >= 500 => transient(false),
        Outcome::Status(_) => Verdict::Done,
        Outcome::ConnectFailed => transient(true),
        Outcome::Transport | Outcome::BadBody => transient(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn cfg() -> RetryConfig {
        RetryConfig {
            reset_jitter: Duration::from_millis(200),
            reset_margin: Duration::from_millis(300),
            ..RetryConfig::default()
        }
    }

    fn rl(limit: u32, remaining: u32, reset_in_s: i64) -> RateLimit {
        RateLimit {
            limit,
            remaining,
            reset_at: NOW / 1000 + reset_in_s,
        }
    }

    #[test]
    fn pacing_sends_now_or_waits_as_the_decision_table_says() {
        use SendDecision::*;
        // (name, state before, jitter, expected decision, expected remaining after)
        let ms = Duration::from_millis;
        let cases: Vec<(&str, PacerState, f64, SendDecision, Option<u32>)> = vec![
            (
                "nothing known: send",
                PacerState::default(),
                0.5,
                SendNow,
                None,
            ),
            (
                "plenty left: send and count",
                PacerState {
                    known: Some(rl(25, 20, 10)),
                    next_send_at_ms: 0,
                },
                0.0,
                SendNow,
                Some(19),
            ),
            (
                "spent: wait for reset + margin + jitter",
                PacerState {
                    known: Some(rl(25, 0, 4)),
                    next_send_at_ms: 0,
                },
                0.5,
                Wait {
                    delay: ms(4000 + 300 + 100),
                    reason: WaitReason::BudgetSpent,
                },
                Some(0),
            ),
            (
                "a nonsense reset far in the future waits at most the cap, never overflows",
                PacerState {
                    known: Some(RateLimit {
                        limit: 25,
                        remaining: 0,
                        reset_at: i64::MAX,
                    }),
                    next_send_at_ms: 0,
                },
                1.0,
                Wait {
                    delay: RetryConfig::default().max_wait,
                    reason: WaitReason::BudgetSpent,
                },
                Some(0),
            ),
            (
                "window over: forget it and send",
                PacerState {
                    known: Some(rl(25, 0, -1)),
                    next_send_at_ms: NOW + 5000,
                },
                0.0,
                SendNow,
                None,
            ),
            (
                "slot reserved later: wait for it",
                PacerState {
                    known: Some(rl(10, 2, 1)),
                    next_send_at_ms: NOW + 650,
                },
                0.0,
                Wait {
                    delay: ms(650),
                    reason: WaitReason::Spacing,
                },
                Some(2),
            ),
            (
                "low budget: send and space the next",
                PacerState {
                    known: Some(rl(10, 2, 1)),
                    next_send_at_ms: 0,
                },
                0.0,
                SendNow,
                Some(1),
            ),
            (
                "skewed clock: never wait more than max_wait",
                PacerState {
                    known: Some(rl(25, 0, 86_400)),
                    next_send_at_ms: 0,
                },
                0.0,
                Wait {
                    delay: Duration::from_secs(3600),
                    reason: WaitReason::BudgetSpent,
                },
                Some(0),
            ),
        ];
        for (name, mut state, jitter, want, want_remaining) in cases {
            let got = before_send(&mut state, NOW, jitter, &cfg());
            assert_eq!(got, want, "{name}");
            assert_eq!(state.known.map(|k| k.remaining), want_remaining, "{name}");
        }
    }

    #[test]
    fn low_budget_spreads_sends_over_the_time_to_reset() {
        let mut state = PacerState {
            known: Some(rl(10, 2, 1)),
            next_send_at_ms: 0,
        };
        assert_eq!(
            before_send(&mut state, NOW, 0.0, &cfg()),
            SendDecision::SendNow
        );
        // (1000 ms to reset + 300 ms margin) / 2 remaining
        assert_eq!(state.next_send_at_ms, NOW + 650);
    }

    #[test]
    fn pacing_is_off_when_disabled() {
        let mut state = PacerState {
            known: Some(rl(25, 0, 4)),
            next_send_at_ms: 0,
        };
        let c = RetryConfig {
            pacing: false,
            ..cfg()
        };
        assert_eq!(before_send(&mut state, NOW, 0.0, &c), SendDecision::SendNow);
    }

    #[test]
    fn each_response_updates_the_pacer_as_the_decision_table_says() {
        let cases: Vec<(&str, Option<RateLimit>, RateLimit, RateLimit)> = vec![
            ("first report taken", None, rl(25, 24, 10), rl(25, 24, 10)),
            (
                "same window keeps the lower count",
                Some(rl(25, 10, 10)),
                rl(25, 12, 10),
                rl(25, 10, 10),
            ),
            (
                "same window lowers",
                Some(rl(25, 10, 10)),
                rl(25, 8, 10),
                rl(25, 8, 10),
            ),
            (
                "new window replaces",
                Some(rl(25, 0, 10)),
                rl(25, 24, 20),
                rl(25, 24, 20),
            ),
            (
                "stale window ignored",
                Some(rl(25, 5, 20)),
                rl(25, 24, 10),
                rl(25, 5, 20),
            ),
            (
                "other window reported replaces",
                Some(rl(25, 5, 20)),
                rl(3600, 40, 1000),
                rl(3600, 40, 1000),
            ),
        ];
        for (name, before, report, want) in cases {
            let mut state = PacerState {
                known: before,
                next_send_at_ms: 0,
            };
            observe(&mut state, report);
            assert_eq!(state.known, Some(want), "{name}");
        }
    }

    /// (name, outcome, attempt, Retry-After, rate-limit report, jitter, expected verdict)
    type Case = (
        &'static str,
        Outcome,
        Attempt,
        Option<Duration>,
        Option<RateLimit>,
        f64,
        Verdict,
    );

    #[test]
    fn retries_happen_only_where_the_decision_table_allows() {
        use Verdict::*;
        let get = Attempt {
            safe: true,
            idempotent: false,
            retries: 0,
            rate_limit_waits: 0,
            auth_refreshed: false,
        };
        let write = Attempt { safe: false, ..get };
        let idem = Attempt {
            safe: false,
            idempotent: true,
            ..get
        };
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        // (name, outcome, attempt, retry-after, report, jitter, expected)
        let cases: Vec<Case> = vec![
            ("200 done", Outcome::Status(200), get, None, None, 0.0, Done),
            ("404 done", Outcome::Status(404), get, None, None, 0.0, Done),
            (
                "422 write done",
                Outcome::Status(422),
                write,
                None,
                None,
                0.0,
                Done,
            ),
            (
                "401 refresh once",
                Outcome::Status(401),
                get,
                None,
                None,
                0.0,
                RefreshAndRetry,
            ),
            (
                "401 twice is final",
                Outcome::Status(401),
                Attempt {
                    auth_refreshed: true,
                    ..get
                },
                None,
                None,
                0.0,
                Done,
            ),
            (
                "429 honours Retry-After plus jitter",
                Outcome::Status(429),
                get,
                Some(s(3)),
                Some(rl(25, 0, 9)),
                0.5,
                RetryAfter {
                    delay: ms(3100),
                    reason: RetryReason::RateLimited,
                },
            ),
            (
                "429 without Retry-After waits for reset + margin + jitter",
                Outcome::Status(429),
                get,
                None,
                Some(rl(25, 0, 2)),
                0.0,
                RetryAfter {
                    delay: ms(2300),
                    reason: RetryReason::RateLimited,
                },
            ),
            (
                "429 on a write is retried (not processed)",
                Outcome::Status(429),
                write,
                Some(s(1)),
                None,
                0.0,
                RetryAfter {
                    delay: s(1),
                    reason: RetryReason::RateLimited,
                },
            ),
            (
                "429 storm gives up eventually",
                Outcome::Status(429),
                Attempt {
                    rate_limit_waits: 30,
                    ..get
                },
                Some(s(1)),
                None,
                0.0,
                GiveUp(super::GiveUp::RateLimited),
            ),
            (
                "503 on a non-idempotent write: outcome unknown (it may have been processed)",
                Outcome::Status(503),
                write,
                Some(s(2)),
                None,
                0.0,
                GiveUp(super::GiveUp::OutcomeUnknown),
            ),
            (
                "503 on an idempotent write honours Retry-After",
                Outcome::Status(503),
                idem,
                Some(s(2)),
                None,
                0.0,
                RetryAfter {
                    delay: s(2) + ms(100),
                    reason: RetryReason::Unavailable,
                },
            ),
            (
                "503 without Retry-After backs off",
                Outcome::Status(503),
                get,
                None,
                None,
                1.0,
                RetryAfter {
                    delay: ms(250),
                    reason: RetryReason::Unavailable,
                },
            ),
            (
                "500 on GET backs off exponentially",
                Outcome::Status(500),
                Attempt { retries: 2, ..get },
                None,
                None,
                1.0,
                RetryAfter {
                    delay: ms(1000),
                    reason: RetryReason::Transient,
                },
            ),
            (
                "500 backoff has jitter",
                Outcome::Status(502),
                Attempt { retries: 2, ..get },
                None,
                None,
                0.0,
                RetryAfter {
                    delay: ms(500),
                    reason: RetryReason::Transient,
                },
            ),
            (
                "500 on GET gives up after max",
                Outcome::Status(500),
                Attempt { retries: 5, ..get },
                None,
                None,
                0.0,
                GiveUp(super::GiveUp::TooManyRetries),
            ),
            (
                "500 on write: outcome unknown",
                Outcome::Status(500),
                write,
                None,
                None,
                0.0,
                GiveUp(super::GiveUp::OutcomeUnknown),
            ),
            (
                "500 on idempotent write retries",
                Outcome::Status(500),
                idem,
                None,
                None,
                1.0,
                RetryAfter {
                    delay: ms(250),
                    reason: RetryReason::Transient,
                },
            ),
            (
                "transport error on write: outcome unknown",
                Outcome::Transport,
                write,
                None,
                None,
                0.0,
                GiveUp(super::GiveUp::OutcomeUnknown),
            ),
            (
                "connection refused on write is retried (never sent)",
                Outcome::ConnectFailed,
                write,
                None,
                None,
                1.0,
                RetryAfter {
                    delay: ms(250),
                    reason: RetryReason::Transient,
                },
            ),
            (
                "truncated body on GET retries",
                Outcome::BadBody,
                get,
                None,
                None,
                1.0,
                RetryAfter {
                    delay: ms(250),
                    reason: RetryReason::Transient,
                },
            ),
            (
                "truncated body after a write: outcome unknown",
                Outcome::BadBody,
                write,
                None,
                None,
                0.0,
                GiveUp(super::GiveUp::OutcomeUnknown),
            ),
            (
                "backoff is capped",
                Outcome::Transport,
                Attempt { retries: 4, ..get },
                None,
                None,
                1.0,
                RetryAfter {
                    delay: s(4),
                    reason: RetryReason::Transient,
                },
            ),
        ];
        for (name, outcome, attempt, ra, report, jitter, want) in cases {
            let got = after_response(outcome, &attempt, ra, report, NOW, jitter, &cfg());
            assert_eq!(got, want, "{name}");
        }
    }
}
