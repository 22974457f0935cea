//! Time as the state sees it: whole seconds since the Unix epoch, the unit of
//! JWT `NumericDate` claims.
//!
//! Safety of the denylist sweep (invariant I5) needs a clock that never goes
//! backwards, so both clocks here are monotonic: [`SystemClock`] clamps the
//! wall clock to the largest value it has returned, and [`ManualClock`] only
//! moves forward.

use crate::sync::{Arc, AtomicI64, Ordering};
use std::fmt;

/// Seconds since the Unix epoch, as in the JWT `iat`, `exp` and `nbf` claims.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::UnixTime;
/// let t = UnixTime::from_secs(1_700_000_000);
/// assert_eq!(t.as_secs(), 1_700_000_000);
/// assert!(t < t.saturating_add_secs(1));
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The epoch itself.
    pub const EPOCH: UnixTime = UnixTime(0);

    /// A time `secs` seconds after the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// `self + secs`, saturating at the ends of `i64`.
    pub const fn saturating_add_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A source of the current time. It must never go backwards (see the module
/// docs); both provided clocks guarantee it.
///
/// `now` is called while the state holds a shard's read lock (I5 needs the
/// clock read after the denylist lookup): it must return promptly and must
/// not call back into the [`crate::AuthState`] that owns it.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The wall clock, made monotonic: a step back of the system clock (NTP,
/// manual change) is clamped to the latest value already returned.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::{Clock, SystemClock};
/// let clock = SystemClock::new();
/// let a = clock.now();
/// assert!(clock.now() >= a);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct SystemClock {
    latest: AtomicI64,
}

impl SystemClock {
    /// A new wall clock.
    pub fn new() -> Self {
        Self {
            latest: AtomicI64::new(0),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        // Relaxed: only the single location's modification order matters for
        // monotonicity, and fetch_max is atomic in it. The plain load first
        // keeps the common case (the second has not moved) a shared read, so
        // checks on several cores do not bounce the line between them.
        let latest = self.latest.load(Ordering::Relaxed);
        if wall <= latest {
            return UnixTime(latest);
        }
        let previous = self.latest.fetch_max(wall, Ordering::Relaxed);
        UnixTime(previous.max(wall))
    }
}

/// A clock that only moves when told to: for tests and models. Clones share
/// the same time.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::{Clock, ManualClock, UnixTime};
/// let clock = ManualClock::new(UnixTime::from_secs(100));
/// let shared = clock.clone();
/// shared.advance_secs(5);
/// assert_eq!(clock.now(), UnixTime::from_secs(105));
/// clock.set(UnixTime::from_secs(50)); // never goes back
/// assert_eq!(clock.now(), UnixTime::from_secs(105));
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: UnixTime) -> Self {
        Self {
            now: Arc::new(AtomicI64::new(start.0)),
        }
    }

    /// Moves the clock forward by `secs` seconds (negative values are ignored).
    pub fn advance_secs(&self, secs: i64) {
        // Relaxed: readers order this against state changes through the
        // state's own locks; monotonicity needs only the RMW's atomicity.
        // Saturating: a wrapping `fetch_add` would move the clock back.
        let _ = self
            .now
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                Some(now.saturating_add(secs.max(0)))
            });
    }

    /// Moves the clock to `t` if that is later than now.
    pub fn set(&self, t: UnixTime) {
        // Relaxed: as in `advance_secs`.
        self.now.fetch_max(t.0, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        // Relaxed: I5 needs a later read to return a value at least as large
        // as an earlier read that happens-before it; read-read coherence of a
        // single location gives that at any ordering.
        UnixTime(self.now.load(Ordering::Relaxed))
    }
}
