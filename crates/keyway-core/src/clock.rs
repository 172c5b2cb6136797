//! Time as the domain sees it: whole Unix seconds from an injected [`Clock`].
//!
//! Every expiry decision goes through a `Clock`, so tests move time forward instead of
//! sleeping, and every replica of a deployment compares against the same unit the database
//! stores (a signed 64-bit count of seconds, indexable and identical on SQLite and PostgreSQL).

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A point in time, in whole seconds since the Unix epoch (UTC).
///
/// ```
/// use keyway_core::Timestamp;
/// use std::time::Duration;
///
/// let issued = Timestamp::from_unix(1_700_000_000);
/// let expires = issued + Duration::from_secs(3600);
/// assert_eq!(expires.as_unix() - issued.as_unix(), 3600);
/// assert!(expires > issued);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Wraps a count of seconds since the Unix epoch.
    pub const fn from_unix(seconds: i64) -> Self {
        Self(seconds)
    }

    /// Seconds since the Unix epoch.
    pub const fn as_unix(self) -> i64 {
        self.0
    }

    /// Seconds from `self` until `later` (negative when `later` is in the past).
    pub const fn seconds_until(self, later: Timestamp) -> i64 {
        later.0.saturating_sub(self.0)
    }
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;

    fn add(self, rhs: Duration) -> Timestamp {
        let secs = i64::try_from(rhs.as_secs()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(secs))
    }
}

impl std::ops::Sub<Duration> for Timestamp {
    type Output = Timestamp;

    fn sub(self, rhs: Duration) -> Timestamp {
        let secs = i64::try_from(rhs.as_secs()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_sub(secs))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to: for tests of expiry boundaries.
///
/// ```
/// use keyway_core::{Clock, ManualClock, Timestamp};
/// use std::time::Duration;
///
/// let clock = ManualClock::new(Timestamp::from_unix(100));
/// clock.advance(Duration::from_secs(600));
/// assert_eq!(clock.now(), Timestamp::from_unix(700));
/// ```
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.0))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: Timestamp) {
        self.0.store(to.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}
