//! Retries of failed model turns: exponential backoff with full jitter, at least the server's
//! `Retry-After`, never past the run's deadline.

use std::time::Duration;

use rand::Rng;

/// How failed turns are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Most retries of one turn.
    pub max_retries: u32,
    /// First backoff.
    pub base: Duration,
    /// Longest single wait (a longer `Retry-After` is still honoured, if the deadline allows).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based): a uniformly random fraction of
    /// `base · 2^(attempt-1)` capped at `max_delay` ("full jitter", so that many clients
    /// hitting one rate limit spread out), but never less than `retry_after`.
    #[must_use]
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        let jittered = cap.mul_f64(rng.gen_range(0.5..=1.0));
        retry_after.map_or(jittered, |r| jittered.max(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let d1 = p.delay(1, None, &mut rng);
        assert!(d1 >= Duration::from_millis(250) && d1 <= Duration::from_millis(500), "{d1:?}");
        let d4 = p.delay(4, None, &mut rng);
        assert!(d4 >= Duration::from_secs(2) && d4 <= Duration::from_secs(4), "{d4:?}");
        let d20 = p.delay(20, None, &mut rng);
        assert!(d20 <= p.max_delay, "{d20:?}");
        let wait = Duration::from_secs(7);
        assert!(p.delay(1, Some(wait), &mut rng) >= wait);
    }
}
