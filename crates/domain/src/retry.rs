//! The retry policy for deferred deliveries: plain Rust, no clock of its own.

use std::time::Duration;

use time::OffsetDateTime;

/// When to try again after a temporary failure, and when to give up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Intervals after the 1st, 2nd, … failed attempt; the last one repeats.
    pub intervals: Vec<Duration>,
    /// A delivery first attempted longer ago than this is expired instead of retried.
    pub expiry: Duration,
}

/// What to do after a temporary failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum RetryDecision {
    RetryAt(OffsetDateTime),
    Expire,
}

impl RetrySchedule {
    /// `attempts` counts the attempts made so far, including the one that just failed.
    pub fn decide(
        &self,
        attempts: u32,
        first_attempt_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> RetryDecision {
        let idx = (attempts.max(1) as usize - 1).min(self.intervals.len().saturating_sub(1));
        let wait = self
            .intervals
            .get(idx)
            .copied()
            .unwrap_or(Duration::from_secs(300));
        let next = now + wait;
        let deadline = first_attempt_at + self.expiry;
        if now >= deadline {
            RetryDecision::Expire
        } else {
            // Never schedule past the deadline: the last try happens at the deadline.
            RetryDecision::RetryAt(next.min(deadline))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn schedule() -> RetrySchedule {
        RetrySchedule {
            intervals: vec![Duration::from_secs(60), Duration::from_secs(300)],
            expiry: Duration::from_secs(3600),
        }
    }

    #[test]
    fn follows_the_intervals_then_repeats_the_last() {
        let t0 = datetime!(2026-11-26 10:00 UTC);
        let s = schedule();
        assert_eq!(
            s.decide(1, t0, t0),
            RetryDecision::RetryAt(t0 + Duration::from_secs(60))
        );
        assert_eq!(
            s.decide(2, t0, t0),
            RetryDecision::RetryAt(t0 + Duration::from_secs(300))
        );
        assert_eq!(
            s.decide(9, t0, t0),
            RetryDecision::RetryAt(t0 + Duration::from_secs(300))
        );
    }

    #[test]
    fn expires_at_the_deadline_and_never_schedules_past_it() {
        let t0 = datetime!(2026-11-26 10:00 UTC);
        let s = schedule();
        let late = t0 + Duration::from_secs(3500);
        assert_eq!(
            s.decide(5, t0, late),
            RetryDecision::RetryAt(t0 + Duration::from_secs(3600))
        );
        assert_eq!(
            s.decide(6, t0, t0 + Duration::from_secs(3600)),
            RetryDecision::Expire
        );
    }
}
