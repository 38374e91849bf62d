//! Where the engine reads the time of day: the system's clock in production, a clock the test
//! moves by hand in tests (a retry due in an hour, a confirmation window of seven days, a
//! scheduled start tomorrow are then tested without waiting for them).
//!
//! Only the time of day goes through [`Clock`]: due times, expiries, evidence timestamps,
//! leases. Pacing and polling (`tokio::time::sleep`, `Instant`) measure elapsed time and stay
//! on the runtime's timer.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

/// The time of day, as the engine sees it. Cheap to clone; clones of a manual clock move
/// together.
#[derive(Clone, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: milliseconds since the epoch, set by hand.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that stands still at `start` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(start: OffsetDateTime) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(crate::ms(start)))),
        }
    }

    /// Whether this is a hand-moved clock.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            None => crate::ms(OffsetDateTime::now_utc()),
            Some(at) => at.load(Ordering::Acquire),
        }
    }

    /// Now, as a date and time (UTC).
    pub fn now(&self) -> OffsetDateTime {
        match &self.manual {
            None => OffsetDateTime::now_utc(),
            Some(_) => OffsetDateTime::from_unix_timestamp_nanos(self.now_ms() as i128 * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }
    }

    /// Move a manual clock forward by `by`; the system clock cannot be moved (false).
    pub fn advance(&self, by: Duration) -> bool {
        match &self.manual {
            None => false,
            Some(at) => {
                at.fetch_add(by.as_millis() as i64, Ordering::AcqRel);
                true
            }
        }
    }

    /// Set a manual clock to `to`; the system clock cannot be set (false).
    pub fn set(&self, to: OffsetDateTime) -> bool {
        match &self.manual {
            None => false,
            Some(at) => {
                at.store(crate::ms(to), Ordering::Release);
                true
            }
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.manual {
            None => f.write_str("Clock::system"),
            Some(at) => write!(f, "Clock::manual({})", at.load(Ordering::Acquire)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_by_hand_and_its_clones_with_it() {
        let start = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let clock = Clock::manual(start);
        let clone = clock.clone();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), start);
        assert!(clock.advance(Duration::from_secs(3600)));
        assert_eq!(clone.now_ms(), 1_800_003_600_000);
        assert_eq!(clone.now().unix_timestamp(), 1_800_003_600);
        assert!(clone.set(start));
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn the_system_clock_follows_the_system_and_cannot_be_moved() {
        let clock = Clock::system();
        let before = crate::ms(OffsetDateTime::now_utc());
        let now = clock.now_ms();
        assert!(now >= before && now - before < 60_000);
        assert!(!clock.advance(Duration::from_secs(1)));
        assert!(!clock.is_manual());
    }
}
