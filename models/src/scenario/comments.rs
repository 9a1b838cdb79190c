//! `comments`: a reply is never shown without the comment it replies to (taught as causal).
//!
//! Every user posts comments, replies to other users' newest comments and views other users'
//! newest replies, all on its own replica (or wherever its protocol routes it):
//!
//! - **post**: write `comment(me, k)` (retried until acknowledged), then the pointer
//!   `latest(me) = k`;
//! - **reply**: read `latest(p)` of another user `p`, read `comment(p, k)`, and if it is there,
//!   write `reply(me) = "r<me>.<j>><comment key>"` — the reply names the comment it answers;
//! - **view**: read `reply(r)` of another user `r`, then read the comment it names.
//!
//! The checker flags every view that saw a reply and then read its comment as absent (`nil`).
//! A reply is written only after its author saw the comment, so under causal consistency (and
//! anything stronger) the comment is visible wherever the reply is. Eventual consistency
//! pushes each write separately: right after the heal, a reply to a comment from the other
//! side reaches a replica by direct push long before anti-entropy brings it the comment.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;
use sim_core::history::Outcome;

use super::{by_time, describe, ops_by_node, read_value, Violation};
use crate::client::{Ctx, Script};
use crate::op::{Key, KvHistory, Op, Ret, Value};

/// Key of user `p`'s pointer to its newest comment.
pub fn latest_key(p: u32) -> i64 {
    i64::from(p)
}

/// Key of user `r`'s newest reply (`clients` = number of users).
pub fn reply_key(r: u32, clients: u32) -> i64 {
    i64::from(clients + r)
}

/// Key of user `p`'s `k`-th comment (written once).
pub fn comment_key(p: u32, k: u64) -> i64 {
    1_000_000 + i64::from(p) * 100_000 + k as i64
}

/// The value of a reply: who wrote it (user, sequence number) and which comment it answers.
///
/// ```
/// use models::scenario::comments::{decode_reply, encode_reply};
/// let v = encode_reply(3, 17, 1_200_005);
/// assert_eq!(v.to_string(), "\"r3.17>1200005\"");
/// assert_eq!(decode_reply(&v), Some(1_200_005));
/// ```
pub fn encode_reply(replier: u32, j: u64, comment: i64) -> Value {
    Value::Str(format!("r{replier}.{j}>{comment}"))
}

/// The comment key a reply value names, if it is a reply.
pub fn decode_reply(v: &Value) -> Option<i64> {
    match v {
        Value::Str(s) => s.split_once('>').and_then(|(_, c)| c.parse().ok()),
        _ => None,
    }
}

#[derive(Clone, Debug)]
enum Step {
    Idle,
    /// Posting comment k: its write (retried), then the pointer.
    Post(u64),
    Pointer(u64),
    /// Replying to user p: read the pointer, the comment, then write the reply.
    ReplyPointer(u32),
    ReplyComment(i64),
    ReplyWrite(i64),
    /// Viewing user r's reply, then the comment it names.
    ViewReply(u32),
    ViewComment(i64),
}

/// One user of the comments scenario (a [`Script`]).
#[derive(Clone, Debug)]
pub struct User {
    me: u32,
    clients: u32,
    comments: u64,
    replies: u64,
    step: Step,
}

impl User {
    /// User `me` of `clients`.
    pub fn new(me: u32, clients: u32) -> Self {
        User {
            me,
            clients,
            comments: 0,
            replies: 0,
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

    fn think(ctx: &mut Ctx) -> Duration {
        Duration::from_millis(ctx.rng.random_range(0..=20))
    }
}

impl Script for User {
    fn next_op(&mut self, ctx: &mut Ctx) -> Op {
        if let Step::Idle = self.step {
            let roll: f64 = ctx.rng.random();
            self.step = if roll < 0.2 {
                self.comments += 1;
                Step::Post(self.comments)
            } else if roll < 0.6 {
                Step::ReplyPointer(self.other(ctx))
            } else {
                Step::ViewReply(self.other(ctx))
            };
        }
        match self.step {
            Step::Idle => unreachable!("chosen above"),
            Step::Post(k) => Op::write(
                comment_key(self.me, k),
                crate::workload::unique_value(self.me, k),
            ),
            Step::Pointer(k) => Op::write(latest_key(self.me), k as i64),
            Step::ReplyPointer(p) => Op::read(latest_key(p)),
            Step::ReplyComment(c) | Step::ViewComment(c) => Op::read(c),
            Step::ReplyWrite(c) => Op::write(
                reply_key(self.me, self.clients),
                encode_reply(self.me, self.replies, c),
            ),
            Step::ViewReply(r) => Op::read(reply_key(r, self.clients)),
        }
    }

    fn completed(&mut self, _op: &Op, outcome: &Outcome<Ret>, ctx: &mut Ctx) -> Duration {
        let ok = matches!(outcome, Outcome::Ok(_));
        let read = match outcome {
            Outcome::Ok(Ret::Value(v)) => Some(v.clone()),
            _ => None,
        };
        let (next, wait) = match (&self.step, read) {
            // A comment is retried until acknowledged, so that its pointer never names a
            // comment that does not exist.
            (Step::Post(k), _) if !ok => (Step::Post(*k), Duration::from_millis(50)),
            (Step::Post(k), _) => (Step::Pointer(*k), Duration::ZERO),
            (Step::ReplyPointer(p), Some(Value::Int(k))) => (
                Step::ReplyComment(comment_key(*p, k.max(0) as u64)),
                Duration::ZERO,
            ),
            (Step::ReplyComment(c), Some(v)) if !v.is_nil() => {
                self.replies += 1;
                (Step::ReplyWrite(*c), Duration::ZERO)
            }
            (Step::ViewReply(_), Some(v)) => match decode_reply(&v) {
                Some(c) => (Step::ViewComment(c), Duration::ZERO),
                None => (Step::Idle, Self::think(ctx)),
            },
            _ => (Step::Idle, Self::think(ctx)),
        };
        self.step = next;
        wait
    }
}

/// Every view that showed a reply and then found its comment absent.
pub fn check(history: &KvHistory) -> Vec<Violation> {
    let ops = history.operations().unwrap_or_default();
    // Who wrote each reply value, and the first acknowledged write of each comment.
    let mut reply_writes = BTreeMap::new();
    let mut comment_writes = BTreeMap::new();
    for o in &ops {
        if let (
            Op::Write {
                key: Key::Int(k),
                value,
            },
            Outcome::Ok(_),
        ) = (&o.op, &o.outcome)
        {
            if decode_reply(value).is_some() {
                reply_writes.entry(value.clone()).or_insert(o);
            } else if *k >= 1_000_000 {
                comment_writes.entry(*k).or_insert(o);
            }
        }
    }
    let mut out = Vec::new();
    for (_, node_ops) in ops_by_node(history) {
        // Comment key -> the read that showed a reply naming it (this client's latest).
        let mut shown = BTreeMap::new();
        for o in &node_ops {
            let Some(v) = read_value(o) else { continue };
            let Op::Read { key: Key::Int(k) } = &o.op else {
                continue;
            };
            if let Some(c) = decode_reply(v) {
                shown.insert(c, o.clone());
            } else if v.is_nil() {
                if let Some(view) = shown.get(k) {
                    let mut lines = Vec::new();
                    if let Some(w) = reply_writes.get(read_value(view).unwrap_or(&Value::Nil)) {
                        lines.push(format!("reply written:   {}", describe(w)));
                    }
                    lines.push(format!("reply shown:     {}", describe(view)));
                    lines.push(format!("comment missing: {}", describe(o)));
                    if let Some(w) = comment_writes.get(k) {
                        lines.push(format!("comment written: {}", describe(w)));
                    }
                    out.push(Violation {
                        time: o.complete_time.unwrap_or(o.invoke_time),
                        what: format!(
                            "{} showed a reply to comment {k} without the comment",
                            o.node.map_or("?".into(), |n| n.to_string())
                        ),
                        ops: lines,
                    });
                }
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
    fn a_reply_without_its_comment_is_flagged_and_with_it_is_not() {
        let t = SimTime::from_millis;
        let c = comment_key(0, 1);
        let reply = encode_reply(1, 1, c);
        let mut h = KvHistory::new();
        h.invoke(t(0), Some(NodeId(5)), 0, Op::write(c, 1));
        h.ok(t(1), Some(NodeId(5)), 0, Ret::Ok);
        h.invoke(
            t(2),
            Some(NodeId(6)),
            1,
            Op::write(reply_key(1, 2), reply.clone()),
        );
        h.ok(t(3), Some(NodeId(6)), 1, Ret::Ok);
        // n7 sees the reply, then the comment: fine. n8 sees the reply, then no comment.
        for (n, p, seen) in [(7, 2, Value::Int(1)), (8, 3, Value::Nil)] {
            h.invoke(t(4), Some(NodeId(n)), p, Op::read(reply_key(1, 2)));
            h.ok(t(5), Some(NodeId(n)), p, Ret::Value(reply.clone()));
            h.invoke(t(6), Some(NodeId(n)), p, Op::read(c));
            h.ok(t(7), Some(NodeId(n)), p, Ret::Value(seen));
        }
        let v = check(&h);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].what.starts_with("n8"), "{}", v[0]);
        assert_eq!(v[0].ops.len(), 4);
    }
}
