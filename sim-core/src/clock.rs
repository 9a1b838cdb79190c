//! Per-node clocks: offset and drift applied to virtual time.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::time::duration_nanos;
use crate::SimTime;

/// How a node's local clock relates to true virtual time:
/// `local = true + offset + true * drift_ppm / 1e6` (never below zero).
///
/// ```
/// use sim_core::{ClockModel, SimTime};
/// let c = ClockModel { offset_ns: 5_000_000, drift_ppm: 0 };
/// assert_eq!(c.local(SimTime::from_millis(10)), SimTime::from_millis(15));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClockModel {
    /// Constant offset in nanoseconds (may be negative).
    pub offset_ns: i64,
    /// Rate error in parts per million (positive: the clock runs fast).
    pub drift_ppm: i32,
}

impl ClockModel {
    /// The local reading at true time `t`.
    pub fn local(&self, t: SimTime) -> SimTime {
        if self.offset_ns == 0 && self.drift_ppm == 0 {
            return t;
        }
        let t = i128::from(t.as_nanos());
        let local = t + i128::from(self.offset_ns) + t * i128::from(self.drift_ppm) / 1_000_000;
        SimTime::from_nanos(local.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// The true duration that elapses while this clock advances by `local`: rounded up, and
    /// never zero for a nonzero `local`, so a timer set for a later local time always fires at
    /// a later true time (rounding down let a fast clock's 1 ns wait fire at the same instant,
    /// again and again).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sim_core::ClockModel;
    /// let fast = ClockModel { offset_ns: 0, drift_ppm: 500 };
    /// assert_eq!(fast.true_duration(Duration::from_nanos(1)), Duration::from_nanos(1));
    /// ```
    pub fn true_duration(&self, local: Duration) -> Duration {
        if self.drift_ppm == 0 {
            return local;
        }
        let n = i128::from(duration_nanos(local));
        let rate = (1_000_000 + i128::from(self.drift_ppm)).max(1);
        let d = (n * 1_000_000 + rate - 1) / rate;
        let d = if n > 0 { d.max(1) } else { d };
        Duration::from_nanos(d.clamp(0, i128::from(u64::MAX)) as u64)
    }
}
