//! History file parsers: actsim JSON, Jepsen EDN, Porcupine etcd and kv logs.
//!
//! Every parser produces a [`KvHistory`](crate::op::KvHistory); malformed input gives a
//! [`ParseError`] naming the file, the line and what was expected, never a panic.
//!
//! ```
//! use models::parse::{parse_str, Format};
//! let p = parse_str(Format::Edn, "h.edn", "[{:process 0 :type :invoke :f :write :value 1}]").unwrap();
//! assert_eq!(p.history.len(), 1);
//! let e = parse_str(Format::Edn, "h.edn", "[{:process 0 :type :invoke :f :write}]").unwrap_err();
//! assert!(e.to_string().starts_with("h.edn:1: expected"));
//! ```

pub mod edn;
pub mod jepsen;
pub mod json;
pub mod porcupine;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::op::{KvHistory, Value};

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// actsim's `History<Op, Ret>` as JSON.
    Json,
    /// Jepsen EDN (a vector/list of event maps, or one map per line).
    Edn,
    /// Porcupine/Jepsen etcd logs (a CAS register, initially nil).
    PorcupineEtcd,
    /// Porcupine kv logs (get/put/append on string keys, initially "").
    PorcupineKv,
}

impl Format {
    /// All formats with their command-line names.
    pub const ALL: [(Format, &'static str); 4] = [
        (Format::Json, "json"),
        (Format::Edn, "edn"),
        (Format::PorcupineEtcd, "porcupine-etcd"),
        (Format::PorcupineKv, "porcupine-kv"),
    ];

    /// The initial register value this format implies (`""` for kv logs, nil otherwise).
    pub fn default_init(self) -> Value {
        match self {
            Format::PorcupineKv => Value::Str(String::new()),
            _ => Value::Nil,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Format::ALL
            .iter()
            .find(|(x, _)| x == self)
            .map_or("?", |(_, n)| n);
        f.write_str(name)
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(f, _)| *f)
            .ok_or_else(|| {
                format!("unknown format {s:?}: expected json, edn, porcupine-etcd or porcupine-kv")
            })
    }
}

/// An error at a line of some input (the file is added by [`ParseError`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected {expected}, found {found}")]
pub struct LineError {
    /// 1-based line.
    pub line: usize,
    /// What was expected.
    pub expected: String,
    /// What was found.
    pub found: String,
}

impl LineError {
    /// A new error.
    pub fn new(line: usize, expected: &str, found: &str) -> Self {
        LineError {
            line,
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }
}

/// A history file could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The content is malformed.
    #[error("{file}:{line}: expected {expected}, found {found}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
}

/// A parsed history with the initial value its format implies.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The history.
    pub history: KvHistory,
    /// The initial value of every key (override with `CheckOptions::init`).
    pub init: Value,
}

/// Parses `text` (named `file` in errors).
pub fn parse_str(format: Format, file: &str, text: &str) -> Result<Parsed, ParseError> {
    let r = match format {
        Format::Json => json::parse_json(text),
        Format::PorcupineEtcd => porcupine::parse_etcd(text),
        Format::PorcupineKv => porcupine::parse_kv(text),
        Format::Edn => edn::read_all(text)
            .map_err(|e| LineError::new(e.line, &e.expected, &e.found))
            .and_then(|forms| {
                let rules = jepsen::EventRules {
                    nil_read_unknown: true,
                };
                jepsen::events_to_history(&forms, &rules)
                    .map_err(|e| LineError::new(e.line, &e.expected, &e.found))
            }),
    };
    match r {
        Ok(history) => Ok(Parsed {
            history,
            init: format.default_init(),
        }),
        Err(e) => Err(ParseError::Syntax {
            file: file.to_string(),
            line: e.line,
            expected: e.expected,
            found: e.found,
        }),
    }
}

/// Reads and parses a file.
pub fn parse_file(format: Format, path: &Path) -> Result<Parsed, ParseError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ParseError::Io {
        file: file.clone(),
        source,
    })?;
    parse_str(format, &file, &text)
}
