//! Application scenarios: what each consistency level means to a user, shown under partitions.
//!
//! The consistency spectrum is usually taught with four everyday applications. Each one here is
//! a workload of application clients ([`Client`](crate::client::Client) running a [`Script`](crate::client::Script)) on
//! top of the key-value protocols, with its own invariant checker that reads the history and
//! reports every violation with the operations involved and their virtual times:
//!
//! | scenario | the application needs | taught as needing |
//! |---|---|---|
//! | [`dns`] | an updated record reaches every resolver eventually; stale answers meanwhile are fine | eventual |
//! | [`comments`] | a reply is never shown without the comment it replies to | causal |
//! | [`feed`] | one friend's posts always appear in the order that friend wrote them | sequential |
//! | [`password`] | once a password change is acknowledged, no later login accepts the old one | linearizable |
//!
//! Every scenario runs under the cap experiment ([`Experiment::default`]: 5 replicas, 2 clients
//! per replica, a majority `{n0, n1, n2}` / minority `{n3, n4}` partition from 2 s to 12 s) —
//! or any other nemesis — with one change: application clients keep working for
//! [`ScenarioExperiment::after_heal`] (2 s) after the heal, because the moment a partition heals
//! is when a weak protocol shows a reply before its comment, or a friend's newest post before
//! the ones written during the partition. Then come the quiet phase and the final reads.
//!
//! What a run over the four protocols shows (`actsim scenario all`, 10 seeds):
//! - `comments` and `feed` break on eventual only: causal delivery (which causal, sequential
//!   and linearizable all give) is exactly what they need.
//! - `password` breaks on eventual, causal and sequential — a stale replica or follower accepts
//!   the old password — and never on linearizable, whose minority side is unavailable instead.
//! - `dns` never breaks (after the heal every replica answers the newest acknowledged record);
//!   its cost is the staleness window, and on sequential and linearizable its updates are
//!   unavailable on the minority side.
//!
//! The full table, what each column means and why each row comes out as it does:
//! `docs/scenarios.md`. One example per scenario: `examples/scenario_{dns,comments,feed,password}.rs`.
//!
//! ```
//! use models::linearizable::Linearizable;
//! use models::scenario::{Scenario, ScenarioExperiment};
//!
//! let mut s = ScenarioExperiment::new(Scenario::Password, Linearizable::default());
//! s.experiment.setup.faulty = std::time::Duration::from_secs(2); // a short run for the doctest
//! let out = s.run(1, None).unwrap();
//! assert!(out.violations.is_empty());
//! ```

pub mod comments;
pub mod dns;
pub mod feed;
pub mod password;
pub mod report;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_core::history::{Operation, Outcome as OpOutcome, Recorder};
use sim_core::{NodeId, RunSummary, SimEnv, SimTime};

use crate::check::availability::{availability, ClientGroup, Counts, Window};
use crate::check::Model;
use crate::client::ClientTimer;
use crate::experiment::{Cluster, Experiment, ExperimentError, Outcome, Setup, Side};
use crate::kv::KvMsg;
use crate::op::{KvHistory, Op, Ret};
use crate::protocol::Protocol;

use crate::client::{Client, Script};

/// One of the four application scenarios.
///
/// ```
/// use models::scenario::Scenario;
/// let s: Scenario = "comments".parse().unwrap();
/// assert_eq!(s.taught_as().name(), "causal");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// DNS records and resolvers.
    Dns,
    /// Comments and replies.
    Comments,
    /// A social feed: per-author posts.
    Feed,
    /// A password record, changes and logins.
    Password,
}

impl Scenario {
    /// All four, in the order of the consistency they are taught as needing.
    pub const ALL: [Scenario; 4] = [
        Scenario::Dns,
        Scenario::Comments,
        Scenario::Feed,
        Scenario::Password,
    ];

    /// The name (as on the command line).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Dns => "dns",
            Scenario::Comments => "comments",
            Scenario::Feed => "feed",
            Scenario::Password => "password",
        }
    }

    /// The invariant the application needs, in one sentence.
    pub fn invariant(self) -> &'static str {
        match self {
            Scenario::Dns => "an updated record reaches every resolver eventually (once healed)",
            Scenario::Comments => "a reply is never shown without the comment it replies to",
            Scenario::Feed => {
                "one friend's posts always appear in the order that friend wrote them"
            }
            Scenario::Password => {
                "once a password change is acknowledged, no later login accepts the old one"
            }
        }
    }

    /// The consistency level the scenario is taught as needing.
    pub fn taught_as(self) -> Model {
        match self {
            Scenario::Dns => Model::Eventual,
            Scenario::Comments => Model::Causal,
            Scenario::Feed => Model::Sequential,
            Scenario::Password => Model::Linearizable,
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scenario name that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario {0:?} (expected dns, comments, feed or password)")]
pub struct UnknownScenario(pub String);

impl FromStr for Scenario {
    type Err = UnknownScenario;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| UnknownScenario(s.to_string()))
    }
}

/// One breach of a scenario's invariant, as the application saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// When the application saw it (virtual time).
    pub time: SimTime,
    /// What went wrong, in the application's words.
    pub what: String,
    /// The operations involved, one line each: time, client, process, operation and result.
    pub ops: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.time, self.what)?;
        for o in &self.ops {
            write!(f, "\n    {o}")?;
        }
        Ok(())
    }
}

/// One line describing an operation of the history (for [`Violation::ops`]).
pub fn describe(o: &Operation<Op, Ret>) -> String {
    let node = o.node.map_or("?".to_string(), |n| n.to_string());
    let end = match (&o.outcome, o.complete_time) {
        (OpOutcome::Ok(r), Some(t)) => format!("-> {r} at {t}"),
        (OpOutcome::Fail, Some(t)) => format!("-> fail at {t}"),
        (OpOutcome::Info, Some(t)) => format!("-> timeout at {t}"),
        (_, None) => "-> never completed".to_string(),
    };
    format!("{} {node} p{} {} {end}", o.invoke_time, o.process, o.op)
}

/// Availability of the scenario's operations on one side during the partition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideCounts {
    /// Reads (lookups, logins, feed and reply views): ok / all.
    pub reads_ok: usize,
    /// See `reads_ok`.
    pub reads: usize,
    /// Writes (updates, posts, replies, password changes): ok / all.
    pub writes_ok: usize,
    /// See `writes_ok`.
    pub writes: usize,
}

impl SideCounts {
    fn from_counts(reads: Counts, writes: Counts) -> Self {
        SideCounts {
            reads_ok: reads.ok,
            reads: reads.total(),
            writes_ok: writes.ok,
            writes: writes.total(),
        }
    }

    /// Adds another run's counts.
    pub fn add(&mut self, o: &SideCounts) {
        self.reads_ok += o.reads_ok;
        self.reads += o.reads;
        self.writes_ok += o.writes_ok;
        self.writes += o.writes;
    }
}

/// The scenario's operations invoked during the partition, per side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioAvailability {
    /// Clients on the majority side.
    pub majority: SideCounts,
    /// Clients on the minority side.
    pub minority: SideCounts,
}

impl ScenarioAvailability {
    /// Measures `outcome`'s history over its fault window.
    pub fn of(outcome: &Outcome) -> Self {
        let group = |side: Side, name: &str| ClientGroup {
            name: name.into(),
            nodes: outcome
                .sides
                .iter()
                .filter(|(n, s)| **s == side && !outcome.replicas.contains(n))
                .map(|(n, _)| *n)
                .collect(),
        };
        let groups = [
            group(Side::Majority, "majority"),
            group(Side::Minority, "minority"),
        ];
        let window = Window {
            name: "partitioned".into(),
            start: outcome.fault_window.0,
            end: outcome.fault_window.1,
        };
        let r = availability(&outcome.history, &groups, &[window]);
        let side = |i: usize| {
            r.window_groups
                .get(i)
                .map(|(_, _, s)| SideCounts::from_counts(s.reads, s.writes))
                .unwrap_or_default()
        };
        ScenarioAvailability {
            majority: side(0),
            minority: side(1),
        }
    }
}

/// Everything one scenario run produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioOutcome {
    /// The scenario.
    pub scenario: Scenario,
    /// The name of the protocol it ran on.
    pub protocol: String,
    /// Seed, trace hash, counters.
    pub summary: RunSummary,
    /// Every breach of the scenario's invariant, in time order.
    pub violations: Vec<Violation>,
    /// Availability of the scenario's operations on each side during the partition.
    pub availability: ScenarioAvailability,
    /// `dns` only: for every acknowledged update, the time until every replica answered it
    /// (or a newer value); `None` for an update some replica never answered by the end.
    pub staleness: Vec<Option<Duration>>,
    /// The run's full record (history, final reads, schedule, sides).
    pub outcome: Outcome,
}

/// A scenario on one protocol: the experiment it runs in, and how long clients keep going.
#[derive(Clone, Debug)]
pub struct ScenarioExperiment<P> {
    /// The scenario.
    pub scenario: Scenario,
    /// Replicas, clients, faults, phases (the cap experiment by default).
    pub experiment: Experiment<P>,
    /// Application clients keep invoking operations this long after the fault phase ends.
    pub after_heal: Duration,
    /// `dns`: how often every replica's records are sampled for the staleness window.
    pub sample_every: Duration,
}

impl<P: Protocol> ScenarioExperiment<P> {
    /// `scenario` on `protocol` under the cap experiment.
    pub fn new(scenario: Scenario, protocol: P) -> Self {
        let mut experiment = Experiment::new(protocol);
        // Final reads cover the scenario's small keys (records, pointers, accounts).
        experiment.setup.workload.keys = Self::final_keys(scenario, &experiment.setup);
        ScenarioExperiment {
            scenario,
            experiment,
            after_heal: Duration::from_secs(2),
            sample_every: Duration::from_millis(10),
        }
    }

    fn final_keys(scenario: Scenario, e: &Setup) -> u32 {
        let clients = e.clients;
        match scenario {
            Scenario::Dns => dns::records(e),
            Scenario::Comments => 2 * clients,
            Scenario::Feed | Scenario::Password => clients,
        }
        .max(1)
    }

    /// When application clients stop invoking operations.
    pub fn stop_at(&self) -> SimTime {
        self.experiment.setup.fault_end() + self.after_heal
    }

    /// Runs the scenario for `seed`; with `trace`, every event is written there as JSON lines.
    pub fn run(
        &self,
        seed: u64,
        trace: Option<Box<dyn Write>>,
    ) -> Result<ScenarioOutcome, ExperimentError> {
        let exp = &self.experiment.setup;
        if self.after_heal > exp.quiet {
            return Err(ExperimentError::Config {
                field: "after_heal".into(),
                reason: format!(
                    "{:?} is longer than the quiet phase {:?}",
                    self.after_heal, exp.quiet
                ),
            });
        }
        if self.sample_every.is_zero() {
            return Err(ExperimentError::Config {
                field: "sample_every".into(),
                reason: "must be positive".into(),
            });
        }
        let mut cluster = self.experiment.build(seed, |sim| {
            if let Some(w) = trace {
                sim.set_trace_writer(w);
            }
        })?;
        let clients = exp.clients;
        let mut sampler = None;
        for c in 0..clients {
            match self.scenario {
                Scenario::Dns => self.add(&mut cluster, c, dns::Resolver::new(c, exp)),
                Scenario::Comments => self.add(&mut cluster, c, comments::User::new(c, clients)),
                Scenario::Feed => self.add(&mut cluster, c, feed::Friend::new(c, clients)),
                Scenario::Password => self.add(&mut cluster, c, password::User::new(c, clients)),
            }
        }
        if self.scenario == Scenario::Dns {
            sampler = Some(dns::Sampler::install::<P>(
                &mut cluster.sim,
                exp,
                self.sample_every,
            ));
        }
        let outcome = cluster.finish()?;
        let (violations, staleness) = match self.scenario {
            Scenario::Dns => {
                let samples = sampler.map(|s| s.take()).unwrap_or_default();
                (
                    dns::check(&outcome, exp),
                    dns::staleness(&outcome.history, &samples),
                )
            }
            Scenario::Comments => (comments::check(&outcome.history), Vec::new()),
            Scenario::Feed => (feed::check(&outcome.history), Vec::new()),
            Scenario::Password => (password::check(&outcome.history), Vec::new()),
        };
        Ok(ScenarioOutcome {
            scenario: self.scenario,
            protocol: self.experiment.protocol.name().to_string(),
            summary: outcome.summary.clone(),
            availability: ScenarioAvailability::of(&outcome),
            violations,
            staleness,
            outcome,
        })
    }

    fn add<S: Script>(&self, cluster: &mut Cluster<P>, c: u32, script: S) {
        let mut cfg = cluster.experiment.client_config(c);
        cfg.stop_at = self.stop_at();
        let rec: Recorder<Op, Ret> = cluster.history.clone();
        cluster.sim.add_node(
            format!("client{c}"),
            (),
            move |env: SimEnv<KvMsg<P::Message>, ClientTimer>, _| {
                Client::with_script(env, cfg.clone(), script.clone(), rec.clone())
            },
        );
    }
}

/// The history's operations, by client node, each node's in invocation order (malformed
/// histories, which the app client never records, give an empty list).
pub(crate) fn ops_by_node(history: &KvHistory) -> BTreeMap<NodeId, Vec<Operation<Op, Ret>>> {
    let mut by: BTreeMap<NodeId, Vec<Operation<Op, Ret>>> = BTreeMap::new();
    for o in history.operations().unwrap_or_default() {
        if let Some(n) = o.node {
            by.entry(n).or_default().push(o);
        }
    }
    by
}

/// The value an `Ok` read returned.
pub(crate) fn read_value(o: &Operation<Op, Ret>) -> Option<&crate::op::Value> {
    match (&o.op, &o.outcome) {
        (Op::Read { .. }, OpOutcome::Ok(Ret::Value(v))) => Some(v),
        _ => None,
    }
}

/// Sorts violations by time and returns them.
pub(crate) fn by_time(mut v: Vec<Violation>) -> Vec<Violation> {
    v.sort_by_key(|x| x.time);
    v
}
