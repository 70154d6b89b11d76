//! Exponential backoff with jitter, validated at construction.

use std::time::Duration;

/// Delays between reconnection attempts: `base × factor^(attempt−1)`, capped at `max`, each
/// scaled by a random factor in `[1 − jitter, 1]` so that many clients cut off together do not
/// come back together.
///
/// ```
/// use std::time::Duration;
/// use ssekit_client::Backoff;
///
/// let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10), 2.0, 0.0).unwrap();
/// let delays: Vec<u64> = (1..=5).map(|n| b.delay(n, 0.5).as_secs()).collect();
/// assert_eq!(delays, [1, 2, 4, 8, 10]);
/// assert!(Backoff::new(Duration::from_secs(10), Duration::from_secs(1), 2.0, 0.0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    factor: f64,
    jitter: f64,
}

/// Why a [`Backoff`] was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid backoff: {0}")]
pub struct InvalidBackoff(&'static str);

impl Backoff {
    /// A backoff from `base` doubling (by `factor`) up to `max`, with `jitter` in `[0, 1]`.
    pub fn new(
        base: Duration,
        max: Duration,
        factor: f64,
        jitter: f64,
    ) -> Result<Self, InvalidBackoff> {
        if base.is_zero() {
            return Err(InvalidBackoff("base must be more than zero"));
        }
        if base > max {
            return Err(InvalidBackoff("base must not exceed max"));
        }
        if !factor.is_finite() || factor < 1.0 {
            return Err(InvalidBackoff(
                "factor must be a finite number of at least 1",
            ));
        }
        if !(0.0..=1.0).contains(&jitter) {
            return Err(InvalidBackoff("jitter must be between 0 and 1"));
        }
        Ok(Self {
            base,
            max,
            factor,
            jitter,
        })
    }

    /// The delay before attempt `attempt` (from 1), given a uniform random number in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exp = self.factor.powi(attempt.saturating_sub(1).min(64) as i32);
        let raw = self.base.as_secs_f64() * exp;
        let capped = raw.min(self.max.as_secs_f64());
        let scale = 1.0 - self.jitter * random.clamp(0.0, 1.0);
        Duration::from_secs_f64(capped * scale)
    }
}

impl Default for Backoff {
    /// 1 s, 2 s, 4 s … capped at 10 s, with up to 50 % jitter (DESIGN §6).
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(10), 2.0, 0.5)
            .expect("valid defaults")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_jitters_down_only() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(b.delay(3, 0.0), Duration::from_secs(4));
        assert_eq!(b.delay(30, 0.0), Duration::from_secs(10));
        assert_eq!(b.delay(u32::MAX, 0.0), Duration::from_secs(10));
        assert_eq!(b.delay(2, 1.0), Duration::from_secs(1));
        for r in [0.0, 0.3, 0.99] {
            let d = b.delay(2, r);
            assert!(d <= Duration::from_secs(2) && d >= Duration::from_secs(1));
        }
    }

    #[test]
    fn refuses_nonsense() {
        let s = Duration::from_secs(1);
        assert!(Backoff::new(Duration::ZERO, s, 2.0, 0.0).is_err());
        assert!(Backoff::new(s, s, 0.5, 0.0).is_err());
        assert!(Backoff::new(s, s, f64::NAN, 0.0).is_err());
        assert!(Backoff::new(s, s, 2.0, 1.5).is_err());
        assert!(Backoff::new(s, s, 1.0, 1.0).is_ok());
    }
}
