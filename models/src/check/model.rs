//! Sequential specifications ([`Model`]) and the compiled key-value models the checkers use.
//!
//! A [`Model`] says how an operation changes a state, and whether what it returned is possible.
//! The built-in models compile [`Op`](crate::op::Op)/[`Ret`](crate::op::Ret) pairs into small
//! integer form: values are interned (`u32`, 0 = nil), so a state is a `u32` for one key
//! ([`RegisterModel`]) or a short vector for several keys ([`MultiRegisterModel`]).
//!
//! ```
//! use models::check::model::{compile, Interner, Model, MultiRegisterModel};
//! use models::op::{Op, Ret, Value};
//! let mut values = Interner::new();
//! let keys = vec![0.into()];
//! let w = compile(&Op::write(0, 5), Some(&Ret::Ok), &keys, &mut values).unwrap();
//! let r = compile(&Op::read(0), Some(&Ret::Value(Value::Int(5))), &keys, &mut values).unwrap();
//! let mut m = MultiRegisterModel::new(values, vec![0]);
//! let s0 = m.init();
//! let s1 = m.step(&s0, &w, None).unwrap();
//! assert!(m.step(&s1, &r, None).is_some());
//! assert!(m.step(&s0, &r, None).is_none());
//! ```

use std::collections::HashMap;
use std::hash::Hash;

use super::hash::FxBuild;
use crate::op::{Key, Op, Ret, TxnOp, Value};

/// A sequential specification for the linearizability and sequential-consistency searches.
pub trait Model {
    /// An operation (its input).
    type Op;
    /// What an operation returned.
    type Ret;
    /// A model state: small, cheap to clone and hash.
    type State: Clone + Eq + Hash;
    /// The initial state.
    fn init(&mut self) -> Self::State;
    /// The state after `op` returns `ret` in `state`, or `None` if that is impossible.
    /// `ret` is `None` for an indeterminate operation (it took effect; its result is unknown).
    fn step(
        &mut self,
        state: &Self::State,
        op: &Self::Op,
        ret: Option<&Self::Ret>,
    ) -> Option<Self::State>;
}

/// The id of nil in an [`Interner`].
pub const NIL_ID: u32 = 0;
/// The state of a held mutex.
pub const LOCKED: u32 = u32::MAX;
/// "Any value": an unconstrained read.
const ANY: u32 = u32::MAX - 1;

/// Interns values as `u32` ids (0 = nil) and memoizes string concatenation for `append`.
///
/// Strings made by `append` are hash-consed ropes: a concatenation is a node (left, right) with
/// its length and a polynomial hash, so a step never copies strings. Ids are canonical by
/// content: two ropes with the same hash are compared byte by byte before they share an id, so
/// equal strings always have equal ids (reads compare ids) and different strings never do.
///
/// ```
/// use models::check::model::Interner;
/// use models::op::Value;
/// let mut i = Interner::new();
/// let ab = i.id(&Value::from("ab"));
/// let a = i.id(&Value::from("a"));
/// let b = i.id(&Value::from("b"));
/// assert_eq!(i.concat(a, b), ab);
/// let abab = i.concat(ab, ab);
/// assert_eq!(i.value(abab), Value::from("abab"));
/// ```
#[derive(Clone, Debug)]
pub struct Interner {
    nodes: Vec<Node>,
    ids: HashMap<Value, u32, FxBuild>,
    by_content: HashMap<(u64, u64), u32, FxBuild>,
    content_next: Vec<u32>,
    concat: HashMap<(u32, u32), u32, FxBuild>,
}

#[derive(Clone, Debug)]
struct Node {
    /// Leaf value, or the two halves of a concatenation.
    kind: NodeKind,
    /// String length in bytes (strings only).
    len: u64,
    /// Polynomial hash of the bytes modulo 2^61-1 (strings only).
    h: u64,
    /// BASE^len modulo 2^61-1.
    pw: u64,
}

#[derive(Clone, Debug)]
enum NodeKind {
    Leaf(Value),
    Concat(u32, u32),
}

const P61: u64 = (1 << 61) - 1;
const BASE: u64 = 0x1F35_A7BD_0DD3_9A1B % P61;
const NONE: u32 = u32::MAX;

#[inline]
fn mulmod(a: u64, b: u64) -> u64 {
    let x = u128::from(a) * u128::from(b);
    let r = ((x >> 61) as u64) + ((x as u64) & P61);
    if r >= P61 {
        r - P61
    } else {
        r
    }
}

#[inline]
fn addmod(a: u64, b: u64) -> u64 {
    let r = a + b;
    if r >= P61 {
        r - P61
    } else {
        r
    }
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl Interner {
    /// An interner knowing only nil.
    pub fn new() -> Self {
        let mut i = Interner {
            nodes: Vec::new(),
            ids: HashMap::default(),
            by_content: HashMap::default(),
            content_next: Vec::new(),
            concat: HashMap::default(),
        };
        i.id(&Value::Nil);
        i
    }

    /// The id of `v`, interning it if new.
    pub fn id(&mut self, v: &Value) -> u32 {
        if let Some(&i) = self.ids.get(v) {
            return i;
        }
        let i = match v {
            Value::Str(s) => {
                let (mut h, mut pw) = (0u64, 1u64);
                for &b in s.as_bytes() {
                    h = addmod(mulmod(h, BASE), u64::from(b) + 1);
                    pw = mulmod(pw, BASE);
                }
                let node = Node {
                    kind: NodeKind::Leaf(v.clone()),
                    len: s.len() as u64,
                    h,
                    pw,
                };
                self.intern_string(node)
            }
            _ => self.push(Node {
                kind: NodeKind::Leaf(v.clone()),
                len: 0,
                h: 0,
                pw: 1,
            }),
        };
        self.ids.insert(v.clone(), i);
        i
    }

    fn push(&mut self, node: Node) -> u32 {
        let i = self.nodes.len() as u32;
        self.nodes.push(node);
        self.content_next.push(NONE);
        i
    }

    /// Returns the id of an existing string with the same content, or adds `node`.
    fn intern_string(&mut self, node: Node) -> u32 {
        let key = (node.len, node.h);
        let first = self.by_content.get(&key).copied().unwrap_or(NONE);
        let mut c = first;
        if c != NONE {
            let mut mine = Vec::new();
            self.bytes_of_node(&node, &mut mine);
            while c != NONE {
                let mut theirs = Vec::new();
                self.bytes(c, &mut theirs);
                if theirs == mine {
                    return c;
                }
                c = self.content_next[c as usize];
            }
        }
        let i = self.push(node);
        self.content_next[i as usize] = first;
        self.by_content.insert(key, i);
        i
    }

    fn bytes_of_node(&self, node: &Node, out: &mut Vec<u8>) {
        match &node.kind {
            NodeKind::Leaf(v) => self.leaf_bytes(v, out),
            NodeKind::Concat(a, b) => {
                self.bytes(*a, out);
                self.bytes(*b, out);
            }
        }
    }

    fn leaf_bytes(&self, v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Nil => {}
            Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Value::Str(s) => out.extend_from_slice(s.as_bytes()),
        }
    }

    /// Appends the text of `id` to `out` (iteratively: ropes can be deep).
    fn bytes(&self, id: u32, out: &mut Vec<u8>) {
        let mut stack = vec![id];
        while let Some(i) = stack.pop() {
            match self.nodes.get(i as usize).map(|n| &n.kind) {
                Some(NodeKind::Leaf(v)) => self.leaf_bytes(v, out),
                Some(NodeKind::Concat(a, b)) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                None => {}
            }
        }
    }

    /// The value of an id.
    pub fn value(&self, id: u32) -> Value {
        match self.nodes.get(id as usize).map(|n| &n.kind) {
            _ if id == LOCKED => Value::Str("<locked>".into()),
            Some(NodeKind::Leaf(v)) => v.clone(),
            Some(NodeKind::Concat(..)) => {
                let mut b = Vec::new();
                self.bytes(id, &mut b);
                Value::Str(String::from_utf8_lossy(&b).into_owned())
            }
            None => Value::Nil,
        }
    }

    /// The id of a string-like operand: nil is "", an integer is its decimal text.
    fn as_string(&mut self, id: u32) -> u32 {
        match self.nodes.get(id as usize).map(|n| &n.kind) {
            Some(NodeKind::Leaf(Value::Nil)) => self.id(&Value::Str(String::new())),
            Some(NodeKind::Leaf(Value::Int(i))) => {
                let s = Value::Str(i.to_string());
                self.id(&s)
            }
            _ => id,
        }
    }

    /// The id of `value(a) ++ value(b)` (nil is "", integers are their decimal text).
    pub fn concat(&mut self, a: u32, b: u32) -> u32 {
        if let Some(&c) = self.concat.get(&(a, b)) {
            return c;
        }
        let (sa, sb) = (self.as_string(a), self.as_string(b));
        let (na, nb) = (&self.nodes[sa as usize], &self.nodes[sb as usize]);
        let c = if na.len == 0 {
            sb
        } else if nb.len == 0 {
            sa
        } else {
            let node = Node {
                kind: NodeKind::Concat(sa, sb),
                len: na.len + nb.len,
                h: addmod(mulmod(na.h, nb.pw), nb.h),
                pw: mulmod(na.pw, nb.pw),
            };
            self.intern_string(node)
        };
        self.concat.insert((a, b), c);
        c
    }
}

/// One compiled micro-step on one key (index into the partition's keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Micro {
    /// The value must be this id ([`ANY`] = unconstrained).
    Read(u32),
    /// Set the value.
    Write(u32),
    /// Compare-and-set; `ok` is the observed outcome (`None` = indeterminate).
    Cas {
        /// Expected.
        old: u32,
        /// New.
        new: u32,
        /// Observed outcome.
        ok: Option<bool>,
    },
    /// Append (concatenate).
    Append(u32),
    /// Take the lock.
    Acquire,
    /// Free the lock.
    Release,
}

/// A compiled operation: micro-steps applied atomically in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// (key index, step).
    pub steps: Vec<(u32, Micro)>,
}

/// Why an operation cannot be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The return value does not fit the operation.
    BadReturn,
}

/// Compiles `op` with its result (`None` = indeterminate) for a partition with these `keys`.
pub fn compile(
    op: &Op,
    ret: Option<&Ret>,
    keys: &[Key],
    values: &mut Interner,
) -> Result<Compiled, CompileError> {
    let k = |key: &Key| keys.iter().position(|x| x == key).unwrap_or(0) as u32;
    let mut steps = Vec::with_capacity(1);
    match (op, ret) {
        (Op::Read { key }, Some(Ret::Value(v))) => steps.push((k(key), Micro::Read(values.id(v)))),
        (Op::Read { key }, None) => steps.push((k(key), Micro::Read(ANY))),
        (Op::Write { key, value }, None | Some(Ret::Ok)) => {
            steps.push((k(key), Micro::Write(values.id(value))))
        }
        (Op::Append { key, value }, None | Some(Ret::Ok)) => {
            steps.push((k(key), Micro::Append(values.id(value))))
        }
        (Op::Cas { key, old, new }, r @ (None | Some(Ret::Ok | Ret::CasFailed))) => {
            let ok = r.map(|r| *r == Ret::Ok);
            steps.push((
                k(key),
                Micro::Cas {
                    old: values.id(old),
                    new: values.id(new),
                    ok,
                },
            ))
        }
        (Op::Acquire { key }, None | Some(Ret::Ok)) => steps.push((k(key), Micro::Acquire)),
        (Op::Release { key }, None | Some(Ret::Ok)) => steps.push((k(key), Micro::Release)),
        (Op::Txn { ops }, r) => {
            let results: Option<&Vec<TxnOp>> = match r {
                None => None,
                Some(Ret::Txn(t)) if t.len() == ops.len() => Some(t),
                Some(_) => return Err(CompileError::BadReturn),
            };
            for (i, o) in ops.iter().enumerate() {
                let done = results.map(|t| &t[i]);
                match (o, done) {
                    (TxnOp::Read { key, .. }, None) => steps.push((k(key), Micro::Read(ANY))),
                    (TxnOp::Read { key, .. }, Some(TxnOp::Read { key: k2, value }))
                        if k2 == key =>
                    {
                        let id = value.as_ref().map_or(ANY, |v| values.id(v));
                        steps.push((k(key), Micro::Read(id)));
                    }
                    (TxnOp::Write { key, value }, None | Some(TxnOp::Write { .. })) => {
                        steps.push((k(key), Micro::Write(values.id(value))))
                    }
                    _ => return Err(CompileError::BadReturn),
                }
            }
        }
        _ => return Err(CompileError::BadReturn),
    }
    Ok(Compiled { steps })
}

#[inline]
fn apply(values: &mut Interner, v: u32, m: &Micro) -> Option<u32> {
    match *m {
        Micro::Read(x) => (x == ANY || x == v).then_some(v),
        Micro::Write(x) => Some(x),
        Micro::Cas { old, new, ok } => match ok {
            Some(true) => (v == old).then_some(new),
            Some(false) => (v != old).then_some(v),
            None => Some(if v == old { new } else { v }),
        },
        Micro::Append(x) => Some(if v == LOCKED {
            return None;
        } else {
            values.concat(v, x)
        }),
        Micro::Acquire => (v != LOCKED).then_some(LOCKED),
        Micro::Release => (v == LOCKED).then_some(NIL_ID),
    }
}

/// One key: the state is the value id.
#[derive(Clone, Debug)]
pub struct RegisterModel {
    /// The value table.
    pub values: Interner,
    /// Initial value id.
    pub init: u32,
}

impl Model for RegisterModel {
    type Op = Compiled;
    type Ret = ();
    type State = u32;
    fn init(&mut self) -> u32 {
        self.init
    }
    #[inline]
    fn step(&mut self, state: &u32, op: &Compiled, _: Option<&()>) -> Option<u32> {
        let mut v = *state;
        for (_, m) in &op.steps {
            v = apply(&mut self.values, v, m)?;
        }
        Some(v)
    }
}

/// Several keys: the state holds one value id per key.
#[derive(Clone, Debug)]
pub struct MultiRegisterModel {
    /// The value table.
    pub values: Interner,
    /// Initial value id per key.
    pub init: Vec<u32>,
}

impl MultiRegisterModel {
    /// A model with these initial value ids.
    pub fn new(values: Interner, init: Vec<u32>) -> Self {
        MultiRegisterModel { values, init }
    }
}

impl Model for MultiRegisterModel {
    type Op = Compiled;
    type Ret = ();
    type State = Box<[u32]>;
    fn init(&mut self) -> Box<[u32]> {
        self.init.clone().into_boxed_slice()
    }
    #[inline]
    fn step(&mut self, state: &Box<[u32]>, op: &Compiled, _: Option<&()>) -> Option<Box<[u32]>> {
        if let [(k, Micro::Read(x))] = op.steps.as_slice() {
            // Reads are the common case: no copy.
            let v = state[*k as usize];
            return (*x == ANY || *x == v).then(|| state.clone());
        }
        let mut s = state.clone();
        for (k, m) in &op.steps {
            let slot = &mut s[*k as usize];
            *slot = apply(&mut self.values, *slot, m)?;
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_outcomes() {
        let mut vals = Interner::new();
        let keys = vec![Key::default()];
        let ok = compile(&Op::cas(0, 1, 2), Some(&Ret::Ok), &keys, &mut vals).unwrap();
        let failed = compile(&Op::cas(0, 1, 2), Some(&Ret::CasFailed), &keys, &mut vals).unwrap();
        let unknown = compile(&Op::cas(0, 1, 2), None, &keys, &mut vals).unwrap();
        let one = vals.id(&Value::Int(1));
        let two = vals.id(&Value::Int(2));
        let mut m = RegisterModel {
            values: vals,
            init: NIL_ID,
        };
        assert_eq!(m.step(&one, &ok, None), Some(two));
        assert_eq!(m.step(&NIL_ID, &ok, None), None);
        assert_eq!(m.step(&one, &failed, None), None);
        assert_eq!(m.step(&NIL_ID, &failed, None), Some(NIL_ID));
        assert_eq!(m.step(&one, &unknown, None), Some(two));
        assert_eq!(m.step(&NIL_ID, &unknown, None), Some(NIL_ID));
    }

    #[test]
    fn append_concatenates_and_mutex_alternates() {
        let mut vals = Interner::new();
        let keys = vec![Key::default()];
        let a = compile(&Op::append(0, "x"), Some(&Ret::Ok), &keys, &mut vals).unwrap();
        let r = compile(
            &Op::read(0),
            Some(&Ret::Value("ax".into())),
            &keys,
            &mut vals,
        )
        .unwrap();
        let init = vals.id(&Value::from("a"));
        let acq = compile(&Op::acquire(), Some(&Ret::Ok), &keys, &mut vals).unwrap();
        let rel = compile(&Op::release(), Some(&Ret::Ok), &keys, &mut vals).unwrap();
        let mut m = RegisterModel { values: vals, init };
        let s = m.step(&init, &a, None).unwrap();
        assert!(m.step(&s, &r, None).is_some());
        assert!(m.step(&init, &r, None).is_none());
        let l = m.step(&NIL_ID, &acq, None).unwrap();
        assert!(m.step(&l, &acq, None).is_none());
        assert!(m.step(&NIL_ID, &rel, None).is_none());
        assert_eq!(m.step(&l, &rel, None), Some(NIL_ID));
    }

    #[test]
    fn bad_returns_are_rejected() {
        let mut vals = Interner::new();
        let keys = vec![Key::default()];
        assert!(compile(
            &Op::write(0, 1),
            Some(&Ret::Value(Value::Nil)),
            &keys,
            &mut vals
        )
        .is_err());
        assert!(compile(&Op::read(0), Some(&Ret::Ok), &keys, &mut vals).is_err());
    }
}
