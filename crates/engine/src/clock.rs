//! Time, for the outreach engine.
//!
//! Rule: the engine never reads the machine clock to decide anything; it asks a [`Clock`].
//! [`SystemClock`] is the machine's time (production), [`SimulatedClock`] moves only when told to
//! (tests, `outbound simulate`: weeks of outreach in seconds, the same every run), and
//! [`ScaledClock`] runs `factor` times faster than real time from a start instant
//! (`outbound serve --time-scale N`, with the sandbox connector only). Leases that guard against
//! a dead process are a different matter: they always use the wall clock
//! ([`outbound_core::time::now_millis`]).

use outbound_core::time::Millis;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// Where the engine reads the current time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> Millis;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        outbound_core::time::now_millis()
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct SimulatedClock {
    now: AtomicI64,
}

impl SimulatedClock {
    pub fn new(start: Millis) -> Self {
        Self {
            now: AtomicI64::new(start),
        }
    }

    /// Moves the clock to `at` (never backwards).
    pub fn set(&self, at: Millis) {
        self.now.fetch_max(at, Ordering::SeqCst);
    }

    /// Moves the clock forward by `millis`.
    pub fn advance(&self, millis: Millis) {
        self.now.fetch_add(millis.max(0), Ordering::SeqCst);
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

/// `start + factor × (real time elapsed since creation)`.
#[derive(Debug)]
pub struct ScaledClock {
    start: Millis,
    origin: Instant,
    factor: f64,
}

impl ScaledClock {
    /// A clock at `start` now, running `factor` (≥ 1) times faster than real time.
    pub fn new(start: Millis, factor: f64) -> Self {
        Self {
            start,
            origin: Instant::now(),
            factor: if factor.is_finite() {
                factor.max(1.0)
            } else {
                1.0
            },
        }
    }

    pub fn factor(&self) -> f64 {
        self.factor
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Millis {
        let elapsed = self.origin.elapsed().as_secs_f64() * 1000.0 * self.factor;
        #[expect(
            clippy::cast_possible_truncation,
            reason = "elapsed simulated milliseconds"
        )]
        let elapsed = elapsed as Millis;
        self.start.saturating_add(elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_time_moves_only_forward_and_when_told() {
        let clock = SimulatedClock::new(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(500);
        assert_eq!(clock.now(), 1_500);
        clock.set(1_200);
        assert_eq!(clock.now(), 1_500, "never backwards");
        clock.set(9_000);
        assert_eq!(clock.now(), 9_000);
    }

    #[test]
    fn scaled_time_runs_faster() {
        let clock = ScaledClock::new(0, 1000.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() >= 20_000, "{}", clock.now());
        assert_eq!(ScaledClock::new(0, f64::NAN).factor(), 1.0);
        assert_eq!(ScaledClock::new(0, 0.1).factor(), 1.0);
    }
}
