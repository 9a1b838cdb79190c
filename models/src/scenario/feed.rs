//! `feed`: one friend's posts always appear in the order that friend wrote them (taught as
//! sequential).
//!
//! Every friend posts and reads the others' feeds:
//!
//! - **post**: write `post(me, j)` (retried until acknowledged, so post `j` exists before post
//!   `j + 1` is written), then the pointer `latest(me) = j`;
//! - **read a feed page**: read `latest(a)` of another friend `a`, then the newest three posts
//!   `post(a, k)`, `post(a, k - 1)`, `post(a, k - 2)`, newest first.
//!
//! The checker flags every reader that saw a friend's post and afterwards found an earlier post
//! of the same friend — one acknowledged before the later one was written — absent. Causal
//! consistency already forbids it (a friend's writes are in its session order), so does
//! everything stronger. Eventual consistency does not: after the heal, a friend's new post is
//! pushed to the other side at once, while the posts it wrote during the partition wait for
//! anti-entropy, and a reader there sees the newest post with a hole below it.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;
use sim_core::history::{Operation, Outcome};

use super::{by_time, describe, ops_by_node, read_value, Violation};
use crate::client::{Ctx, Script};
use crate::op::{Key, KvHistory, Op, Ret, Value};

/// Key of friend `a`'s pointer to its newest post.
pub fn latest_key(a: u32) -> i64 {
    i64::from(a)
}

/// Key of friend `a`'s `j`-th post (written once).
pub fn post_key(a: u32, j: u64) -> i64 {
    1_000_000 + i64::from(a) * 100_000 + j as i64
}

/// The (friend, number) of a post key.
///
/// ```
/// use models::scenario::feed::{post_key, parse_post_key};
/// assert_eq!(parse_post_key(post_key(3, 42)), Some((3, 42)));
/// assert_eq!(parse_post_key(7), None);
/// ```
pub fn parse_post_key(k: i64) -> Option<(u32, u64)> {
    if k < 1_000_000 {
        return None;
    }
    let r = k - 1_000_000;
    Some(((r / 100_000) as u32, (r % 100_000) as u64))
}

/// Posts shown per feed page.
const PAGE: u64 = 3;

#[derive(Clone, Debug)]
enum Step {
    Idle,
    Post(u64),
    Pointer(u64),
    Latest(u32),
    /// Reading friend a's post j; posts down to `last` follow.
    Page {
        a: u32,
        j: u64,
        last: u64,
    },
}

/// One friend of the feed scenario (a [`Script`]).
#[derive(Clone, Debug)]
pub struct Friend {
    me: u32,
    clients: u32,
    posts: u64,
    step: Step,
}

impl Friend {
    /// Friend `me` of `clients`.
    pub fn new(me: u32, clients: u32) -> Self {
        Friend {
            me,
            clients,
            posts: 0,
            step: Step::Idle,
        }
    }

    fn other(&self, ctx: &mut Ctx) -> u32 {
        if self.clients < 2 {
            return self.me;
        }
        let o = ctx.rng.random_range(0..self.clients - 1);
        if o >= self.me {
            o + 1
        } else {
            o
        }
    }
}

impl Script for Friend {
    fn next_op(&mut self, ctx: &mut Ctx) -> Op {
        if let Step::Idle = self.step {
            self.step = if ctx.rng.random_bool(0.3) {
                self.posts += 1;
                Step::Post(self.posts)
            } else {
                Step::Latest(self.other(ctx))
            };
        }
        match self.step {
            Step::Idle => unreachable!("chosen above"),
            Step::Post(j) => Op::write(
                post_key(self.me, j),
                crate::workload::unique_value(self.me, j),
            ),
            Step::Pointer(j) => Op::write(latest_key(self.me), j as i64),
            Step::Latest(a) => Op::read(latest_key(a)),
            Step::Page { a, j, .. } => Op::read(post_key(a, j)),
        }
    }

    fn completed(&mut self, _op: &Op, outcome: &Outcome<Ret>, ctx: &mut Ctx) -> Duration {
        let ok = matches!(outcome, Outcome::Ok(_));
        let (next, wait) = match (&self.step, outcome) {
            (Step::Post(j), _) if !ok => (Step::Post(*j), Duration::from_millis(50)),
            (Step::Post(j), _) => (Step::Pointer(*j), Duration::ZERO),
            (Step::Latest(a), Outcome::Ok(Ret::Value(Value::Int(k)))) if *k >= 1 => {
                let k = *k as u64;
                let last = k.saturating_sub(PAGE - 1).max(1);
                (Step::Page { a: *a, j: k, last }, Duration::ZERO)
            }
            (Step::Page { a, j, last }, _) if *j > *last => (
                Step::Page {
                    a: *a,
                    j: *j - 1,
                    last: *last,
                },
                Duration::ZERO,
            ),
            _ => (
                Step::Idle,
                Duration::from_millis(ctx.rng.random_range(0..=20)),
            ),
        };
        self.step = next;
        wait
    }
}

/// Every reader that saw a friend's post and later found an earlier one of that friend absent.
pub fn check(history: &KvHistory) -> Vec<Violation> {
    let ops = history.operations().unwrap_or_default();
    // Per post key: its first acknowledged write and its first invocation.
    let mut acked: BTreeMap<i64, &Operation<Op, Ret>> = BTreeMap::new();
    let mut invoked: BTreeMap<i64, &Operation<Op, Ret>> = BTreeMap::new();
    for o in &ops {
        if let Op::Write {
            key: Key::Int(k), ..
        } = &o.op
        {
            if parse_post_key(*k).is_some() {
                invoked.entry(*k).or_insert(o);
                if matches!(o.outcome, Outcome::Ok(_)) {
                    acked.entry(*k).or_insert(o);
                }
            }
        }
    }
    // Post i was written before post j: i was acknowledged before j was first invoked.
    let before = |i: i64, j: i64| match (acked.get(&i), invoked.get(&j)) {
        (Some(a), Some(b)) => a.precedes(b),
        _ => false,
    };
    let mut out = Vec::new();
    for (_, node_ops) in ops_by_node(history) {
        // Per friend: the posts this reader has seen, with the read that showed each.
        let mut seen: BTreeMap<u32, BTreeMap<u64, &Operation<Op, Ret>>> = BTreeMap::new();
        for o in &node_ops {
            let (Some(v), Op::Read { key: Key::Int(k) }) = (read_value(o), &o.op) else {
                continue;
            };
            let Some((a, i)) = parse_post_key(*k) else {
                continue;
            };
            let shown = seen.entry(a).or_default();
            if !v.is_nil() {
                shown.insert(i, o);
                continue;
            }
            // The newest post seen that was written after this one.
            let later = shown
                .range(i + 1..)
                .rev()
                .find(|(j, _)| before(*k, post_key(a, **j)));
            if let Some((j, view)) = later {
                let mut lines = vec![
                    format!("post {j} shown:   {}", describe(view)),
                    format!("post {i} missing: {}", describe(o)),
                ];
                if let Some(w) = acked.get(k) {
                    lines.push(format!("post {i} written: {}", describe(w)));
                }
                if let Some(w) = acked.get(&post_key(a, *j)) {
                    lines.push(format!("post {j} written: {}", describe(w)));
                }
                out.push(Violation {
                    time: o.complete_time.unwrap_or(o.invoke_time),
                    what: format!(
                        "{} saw friend {a}'s post {j} but not their earlier post {i}",
                        o.node.map_or("?".into(), |n| n.to_string())
                    ),
                    ops: lines,
                });
            }
        }
    }
    by_time(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::{NodeId, SimTime};

    #[test]
    fn a_newer_post_above_a_hole_is_flagged() {
        let t = SimTime::from_millis;
        let (p1, p2) = (post_key(0, 1), post_key(0, 2));
        let mut h = KvHistory::new();
        h.invoke(t(0), Some(NodeId(5)), 0, Op::write(p1, 1));
        h.ok(t(1), Some(NodeId(5)), 0, Ret::Ok);
        h.invoke(t(2), Some(NodeId(5)), 0, Op::write(p2, 2));
        h.ok(t(3), Some(NodeId(5)), 0, Ret::Ok);
        // n6 reads post 1 absent *before* seeing post 2: fine (it arrived later).
        // n7 sees post 2, then post 1 absent: the feed is out of order.
        for (n, p, first, second) in [(6, 1, p1, p2), (7, 2, p2, p1)] {
            h.invoke(t(4), Some(NodeId(n)), p, Op::read(first));
            let v = if first == p2 {
                Value::Int(2)
            } else {
                Value::Nil
            };
            h.ok(t(5), Some(NodeId(n)), p, Ret::Value(v));
            h.invoke(t(6), Some(NodeId(n)), p, Op::read(second));
            let v = if second == p2 {
                Value::Int(2)
            } else {
                Value::Nil
            };
            h.ok(t(7), Some(NodeId(n)), p, Ret::Value(v));
        }
        let v = check(&h);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].what.starts_with("n7"), "{}", v[0]);
    }
}
