//! When and how long to wait before trying a request again: `Retry-After` when Graph gives
//! it, otherwise exponential back-off with jitter, a bounded number of times.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The longest `Retry-After` honoured as given; longer ones are cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Retry settings of a back-end.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt.
    pub(crate) max_retries: u32,
    /// The first back-off; each retry doubles it.
    pub(crate) base_delay: Duration,
    /// The longest back-off.
    pub(crate) max_delay: Duration,
}

static JITTER_SEED: AtomicU64 = AtomicU64::new(0x5eed);

impl RetryPolicy {
    /// The back-off before retry `n` (1-based): half of the doubled delay plus a random
    /// part of the other half, so that workers throttled together do not return together.
    pub(crate) fn backoff(&self, n: u32) -> Duration {
        let doubled = self
            .base_delay
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(self.max_delay);
        let seed = JITTER_SEED.fetch_add(1, Ordering::Relaxed)
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
        let jitter: f64 = ChaCha8Rng::seed_from_u64(seed).random_range(0.0..=1.0);
        doubled / 2 + doubled.mul_f64(jitter / 2.0)
    }

    /// Logs retry `n` and sleeps: `retry_after` when the service gave one.
    pub(crate) fn wait(
        &self,
        n: u32,
        retry_after: Option<Duration>,
        mailbox: Option<&str>,
        reason: &str,
    ) {
        let delay = retry_after.map_or_else(|| self.backoff(n), |d| d.min(MAX_RETRY_AFTER));
        let secs = delay.as_secs_f64();
        match mailbox {
            Some(mailbox) => tracing::info!(
                mailbox,
                "retry {n} of {} after {secs:.1}s: {reason}",
                self.max_retries
            ),
            None => tracing::info!(
                "retry {n} of {} after {secs:.1}s: {reason}",
                self.max_retries
            ),
        }
        std::thread::sleep(delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_within_its_jitter_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for n in 1..=8 {
            let full = Duration::from_millis(100 * (1 << (n - 1))).min(Duration::from_millis(1000));
            let d = policy.backoff(n);
            assert!(
                d >= full / 2 && d <= full,
                "retry {n}: {d:?} outside {full:?}"
            );
        }
    }
}
