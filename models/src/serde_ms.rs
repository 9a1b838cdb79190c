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

/// Reads milliseconds (integer or fractional, not negative, at most
/// [`SimTime::MAX_MILLIS`](sim_core::SimTime::MAX_MILLIS): a longer duration would be clamped
/// when added to a virtual time, so it is an error here; serde_json adds the line and column).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let ms = f64::deserialize(d)?;
    if sim_core::SimTime::checked_from_millis_f64(ms).is_none() {
        return Err(serde::de::Error::custom(format!(
            "{ms} ms is negative, not a number, or exceeds the limit of {} ms (the u64 \
             nanosecond clock)",
            sim_core::SimTime::MAX_MILLIS
        )));
    }
    Duration::try_from_secs_f64(ms / 1e3)
        .map_err(|e| serde::de::Error::custom(format!("{ms} ms: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct T {
        #[serde(with = "super")]
        #[allow(dead_code)] // only deserialized
        d: Duration,
    }

    #[test]
    fn durations_past_the_clock_are_errors() {
        assert!(serde_json::from_str::<T>(r#"{"d": 1.5}"#).is_ok());
        for bad in ["-1", "1e300", "18446744073709551615"] {
            let e = serde_json::from_str::<T>(&format!(r#"{{"d": {bad}}}"#))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("exceeds the limit"), "{bad}: {e:?}");
        }
    }
}
