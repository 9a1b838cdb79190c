//! Virtual time: nanoseconds since the start of a simulation.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A point in virtual time, in nanoseconds since the simulation started.
///
/// ```
/// use sim_core::SimTime;
/// use std::time::Duration;
/// let t = SimTime::ZERO + Duration::from_millis(1500);
/// assert_eq!(t.as_nanos(), 1_500_000_000);
/// assert_eq!(t.to_string(), "1.500000s");
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(u64);

impl SimTime {
    /// The start of every simulation.
    pub const ZERO: SimTime = SimTime(0);
    /// The latest representable time (about 584 years).
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The largest whole number of milliseconds a `SimTime` holds (18,446,744,073,709 ms).
    pub const MAX_MILLIS: u64 = u64::MAX / 1_000_000;
    /// The largest whole number of seconds a `SimTime` holds (18,446,744,073 s).
    pub const MAX_SECS: u64 = u64::MAX / 1_000_000_000;

    /// A time `ns` nanoseconds after the start.
    pub const fn from_nanos(ns: u64) -> Self {
        SimTime(ns)
    }

    /// A time `ms` milliseconds after the start.
    ///
    /// # Panics
    ///
    /// If `ms` exceeds [`SimTime::MAX_MILLIS`], in every build (never a wrapped time). For a
    /// number read from a file use [`SimTime::checked_from_millis`].
    pub const fn from_millis(ms: u64) -> Self {
        match Self::checked_from_millis(ms) {
            Some(t) => t,
            None => panic!("SimTime::from_millis: more than SimTime::MAX_MILLIS ms overflows the u64 nanosecond clock"),
        }
    }

    /// A time `s` seconds after the start.
    ///
    /// # Panics
    ///
    /// If `s` exceeds [`SimTime::MAX_SECS`], in every build. For a number read from a file use
    /// [`SimTime::checked_from_secs`].
    pub const fn from_secs(s: u64) -> Self {
        match Self::checked_from_secs(s) {
            Some(t) => t,
            None => panic!("SimTime::from_secs: more than SimTime::MAX_SECS s overflows the u64 nanosecond clock"),
        }
    }

    /// A time `ms` milliseconds after the start, or `None` past [`SimTime::MAX_MILLIS`].
    ///
    /// ```
    /// use sim_core::SimTime;
    /// assert_eq!(SimTime::checked_from_millis(2), Some(SimTime::from_nanos(2_000_000)));
    /// assert_eq!(SimTime::checked_from_millis(SimTime::MAX_MILLIS + 1), None);
    /// assert_eq!(SimTime::checked_from_millis(u64::MAX), None);
    /// ```
    pub const fn checked_from_millis(ms: u64) -> Option<Self> {
        match ms.checked_mul(1_000_000) {
            Some(ns) => Some(SimTime(ns)),
            None => None,
        }
    }

    /// A time `s` seconds after the start, or `None` past [`SimTime::MAX_SECS`].
    ///
    /// ```
    /// use sim_core::SimTime;
    /// assert_eq!(SimTime::checked_from_secs(1), Some(SimTime::from_millis(1_000)));
    /// assert_eq!(SimTime::checked_from_secs(u64::MAX), None);
    /// ```
    pub const fn checked_from_secs(s: u64) -> Option<Self> {
        match s.checked_mul(1_000_000_000) {
            Some(ns) => Some(SimTime(ns)),
            None => None,
        }
    }

    /// A time of `ms` (fractional) milliseconds, rounded to the nanosecond, or `None` if `ms` is
    /// negative, not finite, or past [`SimTime::MAX`].
    ///
    /// ```
    /// use sim_core::SimTime;
    /// assert_eq!(SimTime::checked_from_millis_f64(1.5), Some(SimTime::from_nanos(1_500_000)));
    /// assert_eq!(SimTime::checked_from_millis_f64(-1.0), None);
    /// assert_eq!(SimTime::checked_from_millis_f64(1e300), None);
    /// assert_eq!(SimTime::checked_from_millis_f64(f64::NAN), None);
    /// ```
    pub fn checked_from_millis_f64(ms: f64) -> Option<Self> {
        let ns = (ms * 1e6).round();
        // u64::MAX as f64 rounds up to 2^64, which does not fit: the comparison is strict.
        (ns.is_finite() && ns >= 0.0 && ns < u64::MAX as f64).then_some(SimTime(ns as u64))
    }

    /// `self + d`, or `None` past [`SimTime::MAX`].
    ///
    /// ```
    /// use sim_core::SimTime;
    /// use std::time::Duration;
    /// assert!(SimTime::MAX.checked_add(Duration::from_nanos(1)).is_none());
    /// assert_eq!(SimTime::ZERO.checked_add(Duration::from_millis(3)), Some(SimTime::from_millis(3)));
    /// ```
    pub fn checked_add(self, d: Duration) -> Option<SimTime> {
        let d = u64::try_from(d.as_nanos()).ok()?;
        self.0.checked_add(d).map(SimTime)
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start, as a float (for reports).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// The time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at [`SimTime::MAX`].
    pub fn saturating_add(self, d: Duration) -> SimTime {
        SimTime(self.0.saturating_add(duration_nanos(d)))
    }
}

/// A duration in whole nanoseconds, saturating at `u64::MAX`.
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Add<Duration> for SimTime {
    type Output = SimTime;
    fn add(self, d: Duration) -> SimTime {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for SimTime {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub for SimTime {
    type Output = Duration;
    fn sub(self, earlier: SimTime) -> Duration {
        self.saturating_since(earlier)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:06}s",
            self.0 / 1_000_000_000,
            (self.0 % 1_000_000_000) / 1_000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_stop_at_the_limit() {
        assert_eq!(
            SimTime::from_millis(SimTime::MAX_MILLIS).as_nanos(),
            SimTime::MAX_MILLIS * 1_000_000
        );
        assert!(SimTime::checked_from_millis(SimTime::MAX_MILLIS).is_some());
        assert!(SimTime::checked_from_millis(SimTime::MAX_MILLIS + 1).is_none());
        assert!(SimTime::checked_from_secs(SimTime::MAX_SECS).is_some());
        assert!(SimTime::checked_from_secs(SimTime::MAX_SECS + 1).is_none());
        let r = std::panic::catch_unwind(|| SimTime::from_millis(u64::MAX));
        assert!(r.is_err(), "from_millis must panic, not wrap");
        let r = std::panic::catch_unwind(|| SimTime::from_secs(u64::MAX / 2));
        assert!(r.is_err(), "from_secs must panic, not wrap");
    }
}
