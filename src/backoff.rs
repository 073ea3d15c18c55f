//! Exponential reconnect backoff with jitter, so a fleet of agents never reconnects in step.

use std::time::{Duration, Instant};

/// Tracks consecutive connect failures and when the next attempt may start.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
    next_attempt: Option<Instant>,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            failures: 0,
            next_attempt: None,
        }
    }

    /// How long callers must still wait before a new attempt, if at all.
    pub(crate) fn remaining(&self, now: Instant) -> Option<Duration> {
        self.next_attempt
            .and_then(|at| at.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// Records a failure at `now` and schedules the next attempt.
    pub(crate) fn record_failure(&mut self, now: Instant) -> Duration {
        let delay = self.delay(self.failures, fastrand::f64());
        self.failures = self.failures.saturating_add(1);
        self.next_attempt = Some(now + delay);
        delay
    }

    /// Records a success: the next failure starts again from the initial delay.
    pub(crate) fn record_success(&mut self) {
        self.failures = 0;
        self.next_attempt = None;
    }

    /// "Equal jitter": half the exponential delay is fixed, the other half random, so
    /// delays still grow while attempts from many hosts spread out.
    fn delay(&self, failures: u32, unit_random: f64) -> Duration {
        let exp = self
            .initial
            .saturating_mul(2u32.saturating_pow(failures.min(31)))
            .min(self.max);
        let half = exp / 2;
        half + half.mul_f64(unit_random.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff::new(Duration::from_millis(100), Duration::from_secs(2))
    }

    #[test]
    fn delay_doubles_up_to_the_maximum() {
        let b = backoff();
        assert_eq!(b.delay(0, 1.0), Duration::from_millis(100));
        assert_eq!(b.delay(1, 1.0), Duration::from_millis(200));
        assert_eq!(b.delay(3, 1.0), Duration::from_millis(800));
        assert_eq!(b.delay(10, 1.0), Duration::from_secs(2));
        assert_eq!(b.delay(u32::MAX, 1.0), Duration::from_secs(2));
    }

    #[test]
    fn jitter_keeps_at_least_half_the_delay() {
        let b = backoff();
        assert_eq!(b.delay(2, 0.0), Duration::from_millis(200));
        assert_eq!(b.delay(2, 0.5), Duration::from_millis(300));
    }

    #[test]
    fn a_failure_blocks_attempts_until_its_delay_passed_and_success_clears_it() {
        let mut b = backoff();
        let now = Instant::now();
        assert_eq!(b.remaining(now), None);
        let delay = b.record_failure(now);
        assert_eq!(b.remaining(now), Some(delay));
        assert_eq!(b.remaining(now + delay), None);
        b.record_success();
        assert_eq!(b.remaining(now), None);
    }
}
