//! The key-value state machine the log is applied to.

use std::collections::BTreeMap;

use sim_core::NodeId;

use super::*;
use crate::op::{Key, Op, Ret, Value};

/// The key-value state machine the log is applied to.
///
/// ```
/// use models::raft::{Command, Store};
/// use models::op::{Op, Ret, Value};
/// use sim_core::NodeId;
/// let mut s = Store::default();
/// let w = Command::Client { client: NodeId(9), id: 1, op: Op::write(0, 5) };
/// assert_eq!(s.apply(&w), Some(Ret::Ok));
/// assert_eq!(s.apply(&w), None); // the same request id again: skipped
/// assert_eq!(s.get(&0.into()), Value::Int(5));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Store {
    data: BTreeMap<Key, Value>,
    last_id: BTreeMap<NodeId, u64>,
}

impl Store {
    /// The value of `key` (`Nil` if absent).
    pub fn get(&self, key: &Key) -> Value {
        self.data.get(key).cloned().unwrap_or_default()
    }

    /// Applies a command; returns what the client is told, or `None` for a no-op or a request
    /// id already applied (at most once per id).
    pub fn apply(&mut self, command: &Command) -> Option<Ret> {
        let Command::Client { client, id, op } = command else {
            return None;
        };
        let last = self.last_id.entry(*client).or_insert(0);
        if *id <= *last {
            return None;
        }
        *last = *id;
        Some(match op {
            Op::Write { key, value } => {
                self.data.insert(key.clone(), value.clone());
                Ret::Ok
            }
            Op::Cas { key, old, new } => {
                if self.get(key) == *old {
                    self.data.insert(key.clone(), new.clone());
                    Ret::Ok
                } else {
                    Ret::CasFailed
                }
            }
            Op::Read { key } => Ret::Value(self.get(key)),
            // Protocols only log writes and cas (see `is_logged`).
            _ => Ret::Ok,
        })
    }
}

/// Whether an operation goes through the log (writes and cas).
pub fn is_logged(op: &Op) -> bool {
    matches!(op, Op::Write { .. } | Op::Cas { .. })
}
