//! Seeded workload generation: which operation a client runs next, and when.

use std::time::Duration;

use rand::Rng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::op::{Op, Value};

/// What clients do: keys, operation mix, pacing. Every written value is unique in the run.
///
/// ```
/// use models::workload::Workload;
/// let w = Workload::default();
/// assert_eq!(w.keys, 4);
/// assert!(w.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Number of keys (`0..keys`).
    pub keys: u32,
    /// Fraction of operations that are reads.
    pub read_fraction: f64,
    /// Fraction of operations that are compare-and-set (only for protocols that offer it;
    /// otherwise they become writes).
    pub cas_fraction: f64,
    /// Pause between one operation's completion and the next invocation: uniform in this range
    /// (milliseconds in JSON).
    #[serde(with = "crate::serde_ms", rename = "think_min_ms")]
    pub think_min: Duration,
    /// See `think_min`.
    #[serde(with = "crate::serde_ms", rename = "think_max_ms")]
    pub think_max: Duration,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            keys: 4,
            read_fraction: 0.5,
            cas_fraction: 0.0,
            think_min: Duration::from_millis(0),
            think_max: Duration::from_millis(20),
        }
    }
}

/// A workload setting that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("workload: {field}: {reason}")]
pub struct WorkloadError {
    /// The offending field.
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

impl Workload {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let err = |field, reason: String| Err(WorkloadError { field, reason });
        if self.keys == 0 {
            return err("keys", "must be at least 1".into());
        }
        for (field, p) in [
            ("read_fraction", self.read_fraction),
            ("cas_fraction", self.cas_fraction),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return err(field, format!("{p} is not a probability in [0, 1]"));
            }
        }
        if self.read_fraction + self.cas_fraction > 1.0 {
            return err(
                "cas_fraction",
                "read_fraction + cas_fraction exceeds 1".into(),
            );
        }
        if self.think_min > self.think_max {
            return err(
                "think_min",
                format!(
                    "{:?} is above think_max {:?}",
                    self.think_min, self.think_max
                ),
            );
        }
        Ok(())
    }

    /// Operation `n` of client `client`: a write's value is unique in the run
    /// (`unique_value(client, n + 1)`); a cas expects one of `recent` (values this client
    /// wrote lately, newest last) or nil.
    pub fn next_op(
        &self,
        rng: &mut Pcg64,
        client: u32,
        n: u64,
        recent: &[i64],
        cas_supported: bool,
    ) -> Op {
        let key = i64::from(rng.random_range(0..self.keys));
        let roll: f64 = rng.random();
        if roll < self.read_fraction {
            return Op::read(key);
        }
        let value = Value::Int(unique_value(client, n + 1));
        if cas_supported && roll < self.read_fraction + self.cas_fraction {
            // Expect a value this client wrote recently, or nil: some succeed, some fail.
            let back = rng.random_range(1..=3usize);
            let old = if recent.len() >= back {
                Value::Int(recent[recent.len() - back])
            } else {
                Value::Nil
            };
            return Op::cas(key, old, value);
        }
        Op::write(key, value)
    }

    /// The think time before the next invocation.
    pub fn think(&self, rng: &mut Pcg64) -> Duration {
        if self.think_max.is_zero() {
            return Duration::ZERO;
        }
        let lo = self.think_min.as_nanos() as u64;
        let hi = self.think_max.as_nanos() as u64;
        Duration::from_nanos(rng.random_range(lo..=hi))
    }
}

/// A value unique to (client, n): readable in histories as `(client + 1) * 1_000_000_000 + n`.
pub fn unique_value(client: u32, n: u64) -> i64 {
    i64::from(client + 1) * 1_000_000_000 + n as i64
}
