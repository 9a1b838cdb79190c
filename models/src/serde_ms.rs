//! Serde helper: a `Duration` as a number of milliseconds (human-editable experiment files).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Serializes `d` as (fractional) milliseconds.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    let ms = d.as_secs_f64() * 1e3;
    if ms.fract() == 0.0 && ms < u64::MAX as f64 {
        s.serialize_u64(ms as u64)
    } else {
        s.serialize_f64(ms)
    }
}

/// Reads milliseconds (integer or fractional, not negative).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let ms = f64::deserialize(d)?;
    Duration::try_from_secs_f64(ms / 1e3)
        .map_err(|e| serde::de::Error::custom(format!("{ms} ms: {e}")))
}
