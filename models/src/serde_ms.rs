//! Serde helper: a `Duration` as a number of milliseconds (human-editable experiment files).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Serializes `d` as (fractional) milliseconds.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    if d.subsec_nanos() % 1_000_000 == 0 {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    } else {
        s.serialize_f64(d.as_secs_f64() * 1e3)
    }
}

/// Reads milliseconds (integer or fractional, not negative).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let ms = f64::deserialize(d)?;
    Duration::try_from_secs_f64(ms / 1e3)
        .map_err(|e| serde::de::Error::custom(format!("{ms} ms: {e}")))
}
