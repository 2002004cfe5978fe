//! Where the interface reads the time: the idle lock, the once-a-second check for others'
//! changes, and the wall clock (the default export file name). The program uses
//! [`SystemClock`]; tests put in a [`ManualClock`] and move it by hand, so no test waits for
//! time to pass and nothing on screen depends on when a test runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;

/// A source of time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, for measuring how long something took (idle time).
    fn now(&self) -> Instant;

    /// The current time of day, for what is named after it (export files).
    fn wall(&self) -> Timestamp;
}

/// The system's clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when [`ManualClock::advance`] says so.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    wall: Timestamp,
    nanos: AtomicU64,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock standing at the moment it was made.
    pub fn new() -> Self {
        Self::at(Timestamp::now())
    }

    /// A clock whose time of day stands at `wall`.
    pub fn at(wall: Timestamp) -> Self {
        Self {
            start: Instant::now(),
            wall,
            nanos: AtomicU64::new(0),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::SeqCst);
    }

    fn moved(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.moved()
    }

    fn wall(&self) -> Timestamp {
        self.wall.saturating_add(self.moved()).unwrap_or(self.wall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_both_clocks_only_when_told() {
        let noon: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let clock = ManualClock::at(noon);
        let (instant, wall) = (clock.now(), clock.wall());
        assert_eq!(wall, noon);
        assert_eq!(clock.now(), instant);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now() - instant, Duration::from_secs(90));
        assert_eq!(clock.wall().to_string(), "2026-11-25T12:01:30Z");
    }
}
