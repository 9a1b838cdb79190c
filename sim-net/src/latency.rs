//! Latency distributions: how long a message spends on a link.
//!
//! Distributions are configured in milliseconds (floats, so `0.25` is 250 µs) and sampled in
//! whole nanoseconds from the network's seeded stream. `rand_distr` is not a dependency: the
//! exponential and Pareto distributions are sampled by inverse transform, the log-normal by the
//! Box–Muller transform (one normal per draw, the second one is discarded so that sampling keeps
//! no state between draws).

use std::time::Duration;

use rand::Rng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use sim_core::SimTime;

use crate::error::NetError;

/// A latency distribution, in milliseconds.
///
/// In JSON: `{"dist": "uniform", "min_ms": 1.0, "max_ms": 10.0}`.
///
/// ```
/// use sim_net::Latency;
/// let l = Latency::uniform_ms(1.0, 10.0);
/// assert!(l.validate("latency").is_ok());
/// assert_eq!(l.mean_ms(), Some(5.5));
/// let bad = Latency::uniform_ms(10.0, 1.0);
/// assert_eq!(bad.validate("latency").unwrap_err().field(), "latency.max_ms");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case")]
pub enum Latency {
    /// Always `ms`.
    Constant {
        /// The latency.
        ms: f64,
    },
    /// Uniform in `[min_ms, max_ms]`.
    Uniform {
        /// Lower bound.
        min_ms: f64,
        /// Upper bound (inclusive).
        max_ms: f64,
    },
    /// `floor_ms` plus an exponential tail, so that the mean is `mean_ms`.
    Exponential {
        /// The minimum latency.
        floor_ms: f64,
        /// The mean latency (at least `floor_ms`).
        mean_ms: f64,
    },
    /// Pareto (power-law tail): at least `scale_ms`, `P(X > x) = (scale/x)^shape`, optionally
    /// capped at `max_ms`. The mean is finite only for `shape > 1`.
    Pareto {
        /// The minimum latency (the Pareto scale).
        scale_ms: f64,
        /// The tail index: smaller means a heavier tail.
        shape: f64,
        /// Optional cap.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_ms: Option<f64>,
    },
    /// Log-normal: `median_ms * exp(sigma * Z)` with `Z` standard normal, optionally capped.
    LogNormal {
        /// The median latency.
        median_ms: f64,
        /// The standard deviation of the underlying normal.
        sigma: f64,
        /// Optional cap.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_ms: Option<f64>,
    },
}

impl Default for Latency {
    /// Uniform 1–10 ms.
    fn default() -> Self {
        Latency::uniform_ms(1.0, 10.0)
    }
}

fn check_ms(field: &str, name: &str, v: f64) -> Result<(), NetError> {
    if v.is_finite() && v >= 0.0 {
        check_limit(field, name, v)
    } else {
        Err(NetError::Latency {
            field: format!("{field}.{name}"),
            reason: format!("{v} ms is negative or not finite"),
        })
    }
}

/// A latency longer than the virtual clock would be clamped when sampled: rejected.
fn check_limit(field: &str, name: &str, ms: f64) -> Result<(), NetError> {
    if SimTime::checked_from_millis_f64(ms).is_some() {
        Ok(())
    } else {
        Err(NetError::TimeOverflow {
            field: format!("{field}.{name}"),
            value: ms.to_string(),
            max_ms: SimTime::MAX_MILLIS,
        })
    }
}

fn check_positive(field: &str, name: &str, v: f64) -> Result<(), NetError> {
    if v.is_finite() && v > 0.0 {
        check_limit(field, name, v)
    } else {
        Err(NetError::Latency {
            field: format!("{field}.{name}"),
            reason: format!("{v} must be positive and finite"),
        })
    }
}

fn check_order(field: &str, name: &str, lo: f64, hi: f64, lo_name: &str) -> Result<(), NetError> {
    if hi >= lo {
        Ok(())
    } else {
        Err(NetError::Latency {
            field: format!("{field}.{name}"),
            reason: format!("{hi} is below {lo_name} ({lo})"),
        })
    }
}

impl Latency {
    /// A constant latency.
    pub fn constant_ms(ms: f64) -> Self {
        Latency::Constant { ms }
    }

    /// A uniform latency in `[min_ms, max_ms]`.
    pub fn uniform_ms(min_ms: f64, max_ms: f64) -> Self {
        Latency::Uniform { min_ms, max_ms }
    }

    /// Checks the parameters; errors name `field.<parameter>`.
    pub fn validate(&self, field: &str) -> Result<(), NetError> {
        match *self {
            Latency::Constant { ms } => check_ms(field, "ms", ms),
            Latency::Uniform { min_ms, max_ms } => {
                check_ms(field, "min_ms", min_ms)?;
                check_ms(field, "max_ms", max_ms)?;
                check_order(field, "max_ms", min_ms, max_ms, "min_ms")
            }
            Latency::Exponential { floor_ms, mean_ms } => {
                check_ms(field, "floor_ms", floor_ms)?;
                check_ms(field, "mean_ms", mean_ms)?;
                check_order(field, "mean_ms", floor_ms, mean_ms, "floor_ms")
            }
            Latency::Pareto {
                scale_ms,
                shape,
                max_ms,
            } => {
                check_positive(field, "scale_ms", scale_ms)?;
                check_positive(field, "shape", shape)?;
                if let Some(max) = max_ms {
                    check_ms(field, "max_ms", max)?;
                    check_order(field, "max_ms", scale_ms, max, "scale_ms")?;
                }
                Ok(())
            }
            Latency::LogNormal {
                median_ms,
                sigma,
                max_ms,
            } => {
                check_positive(field, "median_ms", median_ms)?;
                check_ms(field, "sigma", sigma)?;
                if let Some(max) = max_ms {
                    check_ms(field, "max_ms", max)?;
                }
                Ok(())
            }
        }
    }

    /// The theoretical mean in ms (uncapped), if finite.
    pub fn mean_ms(&self) -> Option<f64> {
        match *self {
            Latency::Constant { ms } => Some(ms),
            Latency::Uniform { min_ms, max_ms } => Some((min_ms + max_ms) / 2.0),
            Latency::Exponential { mean_ms, .. } => Some(mean_ms),
            Latency::Pareto {
                scale_ms, shape, ..
            } => (shape > 1.0).then(|| shape * scale_ms / (shape - 1.0)),
            Latency::LogNormal {
                median_ms, sigma, ..
            } => Some(median_ms * (sigma * sigma / 2.0).exp()),
        }
    }

    /// The theoretical `q`-quantile in ms, where it has a closed form (not for log-normal).
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let q = q.clamp(0.0, 1.0);
        match *self {
            Latency::Constant { ms } => Some(ms),
            Latency::Uniform { min_ms, max_ms } => Some(min_ms + q * (max_ms - min_ms)),
            Latency::Exponential { floor_ms, mean_ms } => {
                Some(floor_ms - (1.0 - q).ln() * (mean_ms - floor_ms))
            }
            Latency::Pareto {
                scale_ms,
                shape,
                max_ms,
            } => {
                let x = scale_ms * (1.0 - q).powf(-1.0 / shape);
                Some(max_ms.map_or(x, |m| x.min(m)))
            }
            Latency::LogNormal { .. } => None,
        }
    }

    /// Compiles the distribution to a sampler in nanoseconds (call [`Latency::validate`] first:
    /// invalid parameters are clamped, not reported).
    pub(crate) fn sampler(&self) -> Sampler {
        let ns = |ms: f64| -> u64 { (ms * 1e6).round().max(0.0) as u64 };
        let cap = |m: Option<f64>| m.map_or(u64::MAX, ns);
        match *self {
            Latency::Constant { ms } => Sampler::Constant(ns(ms)),
            Latency::Uniform { min_ms, max_ms } => {
                let (lo, hi) = (ns(min_ms), ns(max_ms));
                if lo >= hi {
                    Sampler::Constant(lo)
                } else {
                    Sampler::Uniform(lo, hi)
                }
            }
            Latency::Exponential { floor_ms, mean_ms } => Sampler::Exponential {
                floor: ns(floor_ms),
                scale_ns: ((mean_ms - floor_ms) * 1e6).max(0.0),
            },
            Latency::Pareto {
                scale_ms,
                shape,
                max_ms,
            } => Sampler::Pareto {
                scale_ns: scale_ms * 1e6,
                inv_shape: 1.0 / shape,
                cap: cap(max_ms),
            },
            Latency::LogNormal {
                median_ms,
                sigma,
                max_ms,
            } => Sampler::LogNormal {
                median_ns: median_ms * 1e6,
                sigma,
                cap: cap(max_ms),
            },
        }
    }

    /// Draws one latency from `rng` (for tests and tools; the network uses a compiled form).
    ///
    /// ```
    /// use sim_net::Latency;
    /// use rand_pcg::Pcg64;
    /// let mut rng = Pcg64::new(1, 1);
    /// let d = Latency::constant_ms(2.5).sample(&mut rng);
    /// assert_eq!(d.as_micros(), 2500);
    /// ```
    pub fn sample(&self, rng: &mut Pcg64) -> Duration {
        Duration::from_nanos(self.sampler().sample(rng))
    }
}

/// A latency distribution compiled for the hot path: parameters in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sampler {
    Constant(u64),
    Uniform(u64, u64),
    Exponential {
        floor: u64,
        scale_ns: f64,
    },
    Pareto {
        scale_ns: f64,
        inv_shape: f64,
        cap: u64,
    },
    LogNormal {
        median_ns: f64,
        sigma: f64,
        cap: u64,
    },
}

/// A uniform draw in `(0, 1]` (never zero, so its logarithm is finite).
#[inline]
fn open_unit(rng: &mut Pcg64) -> f64 {
    1.0 - rng.random::<f64>()
}

impl Sampler {
    /// One latency in nanoseconds.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut Pcg64) -> u64 {
        match *self {
            Sampler::Constant(ns) => ns,
            Sampler::Uniform(lo, hi) => rng.random_range(lo..=hi),
            Sampler::Exponential { floor, scale_ns } => {
                // Inverse transform: -ln(U) * mean is exponential for U uniform in (0, 1].
                floor.saturating_add((-open_unit(rng).ln() * scale_ns) as u64)
            }
            Sampler::Pareto {
                scale_ns,
                inv_shape,
                cap,
            } => {
                // Inverse transform: scale * U^(-1/shape) is Pareto for U uniform in (0, 1].
                let x = scale_ns * open_unit(rng).powf(-inv_shape);
                (x as u64).min(cap)
            }
            Sampler::LogNormal {
                median_ns,
                sigma,
                cap,
            } => {
                // Box–Muller: sqrt(-2 ln U1) cos(2 pi U2) is standard normal.
                let u1 = open_unit(rng);
                let u2: f64 = rng.random();
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                ((median_ns * (sigma * z).exp()) as u64).min(cap)
            }
        }
    }
}
