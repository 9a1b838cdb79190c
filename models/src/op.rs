//! The universal operation and return types of actsim histories.
//!
//! Protocol clients record `History<Op, Ret>`; the parsers turn Jepsen EDN and Porcupine logs into
//! the same types; every checker reads them. One type covers registers and key-value stores
//! (read/get, write/put, cas, append), a mutex (acquire/release) and multi-register transactions.
//!
//! ```
//! use models::op::{Op, Ret, Value};
//! let w = Op::write(3, 17);
//! assert_eq!(w.to_string(), "write(3, 17)");
//! let r = Ret::Value(Value::Nil);
//! assert_eq!(r.to_string(), "nil");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// A key: protocols use small integers, Porcupine kv logs use strings.
///
/// ```
/// use models::op::Key;
/// assert_eq!(Key::from(3), Key::Int(3));
/// assert_eq!(Key::from("x").to_string(), "\"x\"");
/// assert!(Key::Int(9) < Key::from("a"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Key {
    /// An integer key.
    Int(i64),
    /// A string key.
    Str(String),
}

impl Default for Key {
    /// The key of single-register histories (Jepsen register and etcd logs have no key).
    fn default() -> Self {
        Key::Int(0)
    }
}

impl From<i64> for Key {
    fn from(k: i64) -> Self {
        Key::Int(k)
    }
}
impl From<i32> for Key {
    fn from(k: i32) -> Self {
        Key::Int(i64::from(k))
    }
}
impl From<u32> for Key {
    fn from(k: u32) -> Self {
        Key::Int(i64::from(k))
    }
}
impl From<u64> for Key {
    fn from(k: u64) -> Self {
        Key::Int(k as i64)
    }
}
impl From<&str> for Key {
    fn from(k: &str) -> Self {
        Key::Str(k.to_string())
    }
}
impl From<String> for Key {
    fn from(k: String) -> Self {
        Key::Str(k)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(i) => write!(f, "{i}"),
            Key::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// A register value: nil (absent), an integer or a string. JSON: `null`, a number, a string.
///
/// ```
/// use models::op::Value;
/// assert_eq!(serde_json::to_string(&Value::Nil).unwrap(), "null");
/// assert_eq!(serde_json::from_str::<Value>("7").unwrap(), Value::Int(7));
/// assert_eq!(Value::from("ab").to_string(), "\"ab\"");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// Absent / nil.
    #[default]
    Nil,
    /// An integer.
    Int(i64),
    /// A string (append concatenates strings).
    Str(String),
}

impl Value {
    /// True for [`Value::Nil`].
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// One micro-operation of a multi-register transaction (Jepsen `[:read k v]` / `[:write k v]`).
///
/// In an invocation, reads carry `value: None`; in the completion they carry what was read.
/// A read whose value is `None` in the completion is unconstrained (Knossos: nil reads are legal).
///
/// ```
/// use models::op::{TxnOp, Value};
/// let r = TxnOp::Read { key: 1.into(), value: Some(Value::Int(4)) };
/// assert_eq!(r.to_string(), "r(1)=4");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "lowercase")]
pub enum TxnOp {
    /// Read `key`; `value` is what was read (in a completion).
    Read {
        /// The key.
        key: Key,
        /// The value read, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Value>,
    },
    /// Write `value` to `key`.
    Write {
        /// The key.
        key: Key,
        /// The value written.
        value: Value,
    },
}

impl TxnOp {
    /// The key this micro-operation touches.
    pub fn key(&self) -> &Key {
        match self {
            TxnOp::Read { key, .. } | TxnOp::Write { key, .. } => key,
        }
    }
}

impl fmt::Display for TxnOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnOp::Read { key, value: None } => write!(f, "r({key})"),
            TxnOp::Read {
                key,
                value: Some(v),
            } => write!(f, "r({key})={v}"),
            TxnOp::Write { key, value } => write!(f, "w({key}, {value})"),
        }
    }
}

/// An operation as invoked. JSON: `{"f": "read", "key": 0}`, `{"f": "write", "key": 0, "value": 5}`, ...
///
/// ```
/// use models::op::Op;
/// let op = Op::cas(0, 1, 2);
/// assert_eq!(serde_json::to_string(&op).unwrap(), r#"{"f":"cas","key":0,"old":1,"new":2}"#);
/// assert!(Op::read(0).is_read_only());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "lowercase")]
pub enum Op {
    /// Read (get) a key.
    Read {
        /// The key.
        key: Key,
    },
    /// Write (put) a value.
    Write {
        /// The key.
        key: Key,
        /// The value.
        value: Value,
    },
    /// Compare-and-set: if the value is `old`, set it to `new`.
    Cas {
        /// The key.
        key: Key,
        /// Expected value.
        old: Value,
        /// New value.
        new: Value,
    },
    /// Append a string to the key's string value.
    Append {
        /// The key.
        key: Key,
        /// The suffix.
        value: Value,
    },
    /// Acquire a mutex (fails the model if it is held).
    Acquire {
        /// The lock's name.
        #[serde(default)]
        key: Key,
    },
    /// Release a mutex (fails the model if it is free).
    Release {
        /// The lock's name.
        #[serde(default)]
        key: Key,
    },
    /// A multi-register transaction, applied atomically in order.
    Txn {
        /// The micro-operations.
        ops: Vec<TxnOp>,
    },
}

impl Op {
    /// A read of `key`.
    pub fn read(key: impl Into<Key>) -> Op {
        Op::Read { key: key.into() }
    }
    /// A write of `value` to `key`.
    pub fn write(key: impl Into<Key>, value: impl Into<Value>) -> Op {
        Op::Write {
            key: key.into(),
            value: value.into(),
        }
    }
    /// A compare-and-set of `key` from `old` to `new`.
    pub fn cas(key: impl Into<Key>, old: impl Into<Value>, new: impl Into<Value>) -> Op {
        Op::Cas {
            key: key.into(),
            old: old.into(),
            new: new.into(),
        }
    }
    /// An append of `value` to `key`.
    pub fn append(key: impl Into<Key>, value: impl Into<Value>) -> Op {
        Op::Append {
            key: key.into(),
            value: value.into(),
        }
    }
    /// Acquire the (single, key 0) mutex.
    pub fn acquire() -> Op {
        Op::Acquire {
            key: Key::default(),
        }
    }
    /// Release the (single, key 0) mutex.
    pub fn release() -> Op {
        Op::Release {
            key: Key::default(),
        }
    }
    /// A transaction.
    pub fn txn(ops: Vec<TxnOp>) -> Op {
        Op::Txn { ops }
    }

    /// The keys this operation touches, in order of first appearance.
    pub fn keys(&self) -> Vec<&Key> {
        match self {
            Op::Read { key }
            | Op::Write { key, .. }
            | Op::Cas { key, .. }
            | Op::Append { key, .. }
            | Op::Acquire { key }
            | Op::Release { key } => vec![key],
            Op::Txn { ops } => {
                let mut ks: Vec<&Key> = Vec::new();
                for o in ops {
                    if !ks.contains(&o.key()) {
                        ks.push(o.key());
                    }
                }
                ks
            }
        }
    }

    /// True if the operation never changes the state (a read, or a transaction of reads only).
    pub fn is_read_only(&self) -> bool {
        match self {
            Op::Read { .. } => true,
            Op::Txn { ops } => ops.iter().all(|o| matches!(o, TxnOp::Read { .. })),
            _ => false,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Read { key } => write!(f, "read({key})"),
            Op::Write { key, value } => write!(f, "write({key}, {value})"),
            Op::Cas { key, old, new } => write!(f, "cas({key}, {old}, {new})"),
            Op::Append { key, value } => write!(f, "append({key}, {value})"),
            Op::Acquire { key } => write!(f, "acquire({key})"),
            Op::Release { key } => write!(f, "release({key})"),
            Op::Txn { ops } => {
                write!(f, "txn[")?;
                for (i, o) in ops.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{o}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// What a completed operation returned. JSON: `{"value": 5}`, `"ok"`, `"cas-failed"`, `{"txn": [...]}`.
///
/// ```
/// use models::op::{Ret, Value};
/// assert_eq!(serde_json::to_string(&Ret::Ok).unwrap(), r#""ok""#);
/// assert_eq!(serde_json::to_string(&Ret::Value(Value::Int(3))).unwrap(), r#"{"value":3}"#);
/// assert_eq!(Ret::read(None::<i64>), Ret::Value(Value::Nil));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ret {
    /// A read returned this value (`Nil` = absent).
    Value(Value),
    /// A write, append, successful cas, acquire or release took effect.
    Ok,
    /// A cas completed without effect because the value was not `old` (an observation).
    CasFailed,
    /// A transaction completed; reads carry the values read.
    Txn(Vec<TxnOp>),
}

impl Ret {
    /// The result of a read.
    pub fn read(value: impl Into<Value>) -> Ret {
        Ret::Value(value.into())
    }
}

impl fmt::Display for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ret::Value(v) => write!(f, "{v}"),
            Ret::Ok => write!(f, "ok"),
            Ret::CasFailed => write!(f, "cas-failed"),
            Ret::Txn(ops) => {
                write!(f, "[")?;
                for (i, o) in ops.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{o}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// The history type of actsim's key-value protocols.
pub type KvHistory = sim_core::history::History<Op, Ret>;
