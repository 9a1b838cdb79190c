//! actsim's native history format: `History<Op, Ret>` as JSON (an array of events).
//!
//! ```
//! use models::parse::json::parse_json;
//! let h = parse_json(r#"[{"process":0,"time":0,"type":"invoke","op":{"f":"read","key":1}},
//!                        {"process":0,"time":5,"type":"ok","value":{"value":null}}]"#).unwrap();
//! assert_eq!(h.len(), 2);
//! ```

use super::LineError;
use crate::op::KvHistory;

/// Parses a JSON history; errors carry serde's line and message.
pub fn parse_json(text: &str) -> Result<KvHistory, LineError> {
    serde_json::from_str(text).map_err(|e| {
        LineError::new(
            e.line(),
            "a JSON array of history events ({\"process\",\"time\",\"type\",...})",
            &format!("column {}: {e}", e.column()),
        )
    })
}
