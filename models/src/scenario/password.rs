//! `password`: once a password change is acknowledged, no later login (from any client)
//! accepts the old password (taught as linearizable).
//!
//! Every user owns one account, whose record `account(u)` holds the current password's
//! version (`nil` = version 0, the initial password). The owner changes its password every
//! 200–400 ms — a write of the next version — and every user logs in to random accounts every
//! few milliseconds. A login is a read of the record: the service accepts the password of the
//! version it reads: a login that reads version `r` accepts password `r`, an old one whenever `r`
//! is older than the newest change.
//!
//! The checker works on real-time order in the history: a login whose invocation comes after
//! the acknowledgement of a change to version `v` (of the same account) and that read a version
//! older than `v` accepted an old password. Only linearizability rules this out: a stale
//! replica (eventual, causal) or a lagging follower (sequential) serves such a login; the
//! linearizable protocol makes the minority side unavailable instead.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;
use sim_core::history::Outcome;
use sim_core::SimTime;

use super::{by_time, describe, read_value, Violation};
use crate::client::{Ctx, Script};
use crate::op::{Key, KvHistory, Op, Ret, Value};

/// Key of user `u`'s account record.
pub fn account_key(u: u32) -> i64 {
    i64::from(u)
}

/// The password version a record value stands for (`nil` is the initial version 0).
pub fn version(v: &Value) -> Option<i64> {
    match v {
        Value::Nil => Some(0),
        Value::Int(i) => Some(*i),
        Value::Str(_) => None,
    }
}

/// One user of the password scenario (a [`Script`]).
#[derive(Clone, Debug)]
pub struct User {
    me: u32,
    clients: u32,
    version: i64,
    next_change: SimTime,
}

impl User {
    /// User `me` of `clients`.
    pub fn new(me: u32, clients: u32) -> Self {
        User {
            me,
            clients,
            version: 0,
            next_change: SimTime::ZERO,
        }
    }
}

impl Script for User {
    fn next_op(&mut self, ctx: &mut Ctx) -> Op {
        if ctx.now >= self.next_change {
            self.next_change = ctx.now + Duration::from_millis(ctx.rng.random_range(200..=400));
            // Every change is to a new version, whatever became of the previous one.
            self.version += 1;
            return Op::write(account_key(self.me), self.version);
        }
        Op::read(account_key(ctx.rng.random_range(0..self.clients.max(1))))
    }

    fn completed(&mut self, _op: &Op, _outcome: &Outcome<Ret>, ctx: &mut Ctx) -> Duration {
        Duration::from_millis(ctx.rng.random_range(0..=10))
    }
}

/// Every login that accepted a password older than an acknowledged change.
pub fn check(history: &KvHistory) -> Vec<Violation> {
    let ops = history.operations().unwrap_or_default();
    // Per account: acknowledged changes, in acknowledgement order: (event index, version, op).
    let mut changes: BTreeMap<i64, Vec<(usize, i64, usize)>> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        if let (
            Op::Write {
                key: Key::Int(k),
                value,
            },
            Outcome::Ok(_),
            Some(c),
        ) = (&o.op, &o.outcome, o.complete_index)
        {
            if let Some(v) = version(value) {
                changes.entry(*k).or_default().push((c, v, i));
            }
        }
    }
    for list in changes.values_mut() {
        list.sort_unstable();
    }
    let mut out = Vec::new();
    for login in &ops {
        let (Some(read), Op::Read { key: Key::Int(k) }) = (read_value(login), &login.op) else {
            continue;
        };
        let (Some(accepted), Some(list)) = (version(read), changes.get(k)) else {
            continue;
        };
        // The newest version acknowledged before this login was invoked.
        let newest = list
            .iter()
            .take_while(|(c, _, _)| *c < login.invoke_index)
            .max_by_key(|(_, v, _)| *v);
        if let Some(&(_, v, w)) = newest {
            if accepted < v {
                out.push(Violation {
                    time: login.complete_time.unwrap_or(login.invoke_time),
                    what: format!(
                        "login to account {k} accepted password version {accepted} after the change to version {v} was acknowledged"
                    ),
                    ops: vec![
                        format!("change acked: {}", describe(&ops[w])),
                        format!("login:        {}", describe(login)),
                    ],
                });
            }
        }
    }
    by_time(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::NodeId;

    #[test]
    fn only_logins_after_the_acknowledgement_count() {
        let t = SimTime::from_millis;
        let mut h = KvHistory::new();
        h.invoke(t(0), Some(NodeId(5)), 0, Op::write(0, 1));
        // A login concurrent with the change may accept the old password...
        h.invoke(t(1), Some(NodeId(6)), 1, Op::read(0));
        h.ok(t(2), Some(NodeId(5)), 0, Ret::Ok);
        h.ok(t(3), Some(NodeId(6)), 1, Ret::Value(Value::Nil));
        // ...a later one may not.
        h.invoke(t(4), Some(NodeId(7)), 2, Op::read(0));
        h.ok(t(5), Some(NodeId(7)), 2, Ret::Value(Value::Nil));
        h.invoke(t(6), Some(NodeId(7)), 2, Op::read(0));
        h.ok(t(7), Some(NodeId(7)), 2, Ret::Value(Value::Int(1)));
        let v = check(&h);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].time, t(5));
    }
}
