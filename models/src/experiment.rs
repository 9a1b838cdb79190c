//! An experiment: replicas of any [`Protocol`], clients running a workload, a nemesis, a heal, a
//! quiet period and final reads — run from a seed, checked against consistency models.
//!
//! The default [`Setup`] is the consistency x availability experiment: 5 replicas and 10
//! clients (2 homed on each replica), 4 keys, 50% reads; 2 s healthy, 10 s partitioned into a
//! majority `{n0, n1, n2}` and a minority `{n3, n4}` (clients reach only replicas on their own
//! side), heal, 5 s quiet, then final reads of every key on every replica.
//!
//! The phases are the experiment's structure, not faults: whatever the nemesis (a generated
//! one, a saved schedule, a shrunk one), everything is healed when the fault phase ends
//! (partitions, clogs, link changes, paused and crashed replicas, clocks), so the quiet phase
//! and the final reads always see a healed cluster.
//!
//! ```no_run
//! use models::experiment::{Experiment, Nemesis};
//! use models::linearizable::Linearizable;
//! use sim_net::FaultKind;
//!
//! let run = Experiment::new(Linearizable::default())
//!     .replicas(3)
//!     .clients(6)
//!     .nemesis(Nemesis::random([FaultKind::Halves, FaultKind::Pause]))
//!     .run(7)
//!     .unwrap();
//! assert!(run.violation().is_none(), "{:?}", run.violation());
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_core::history::Recorder;
use sim_core::rng::Purpose;
use sim_core::{NodeId, RunSummary, SimEnv, SimError, SimTime};
use sim_net::{
    Fault, FaultKind, FaultyNetwork, Generator, LinkConfig, NetConfig, PartitionSpec, Schedule,
    Swarm,
};

pub use crate::check::eventual::FinalRead;
use crate::check::{Budget, Model};
use crate::client::{Client, ClientConfig, ClientTimer, KvScript, Routing};
use crate::evaluate::{evaluate, EvalOptions, Evaluation};
use crate::kv::KvMsg;
use crate::op::{Key, KvHistory, Op, Ret};
use crate::protocol::{add_replica, local_value, ClientRouting, Protocol, ProtocolSim};
use crate::workload::Workload;

/// Which faults an experiment injects during its fault phase.
///
/// ```
/// use models::experiment::Nemesis;
/// use sim_net::FaultKind;
/// let n = Nemesis::random([FaultKind::Isolate, FaultKind::Crash]);
/// assert!(matches!(n, Nemesis::Random { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Nemesis {
    /// The consistency x availability partition: majority / minority for the fault phase.
    CapPartition,
    /// No faults at all.
    None,
    /// Random faults of these kinds on the replicas during the fault phase (Jepsen-style),
    /// drawn from the seed.
    Random {
        /// Fault kinds to draw from.
        kinds: Vec<FaultKind>,
        /// A fault starts every this many ms...
        interval_ms: u64,
        /// ...and lasts this long.
        duration_ms: u64,
    },
    /// The seed also chooses which fault kinds and rates are enabled (TigerBeetle-style swarm).
    Swarm,
    /// Exactly this schedule (a saved or shrunk one).
    Schedule(Schedule),
}

impl Nemesis {
    /// Random faults of `kinds`: one starts every 1.5 s and lasts 1 s.
    pub fn random(kinds: impl IntoIterator<Item = FaultKind>) -> Nemesis {
        Nemesis::Random {
            kinds: kinds.into_iter().collect(),
            interval_ms: 1_500,
            duration_ms: 1_000,
        }
    }

    /// Partitions, crashes/restarts and pauses of random replicas: the fault mix under which
    /// every bug-free protocol must pass its checkers.
    pub fn standard() -> Nemesis {
        Nemesis::random([
            FaultKind::Halves,
            FaultKind::Isolate,
            FaultKind::MajoritiesRing,
            FaultKind::Crash,
            FaultKind::Pause,
        ])
    }
}

/// An experiment's shape: everything but the protocol. Saved in replay files.
///
/// ```
/// use models::experiment::Setup;
/// let s = Setup::default();
/// assert_eq!((s.replicas, s.clients, s.minority()), (5, 10, 2));
/// assert!(s.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// Number of replicas (nodes `n0..`).
    pub replicas: u32,
    /// Number of clients (nodes after the replicas); client `c` is homed on replica
    /// `c * replicas / clients`.
    pub clients: u32,
    /// Replicas on the minority side of the cap partition (the last ones); `None`: half of
    /// the replicas, rounded down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minority: Option<u32>,
    /// What clients do.
    pub workload: Workload,
    /// Client timeout (an operation without a reply by then is indeterminate).
    #[serde(with = "crate::serde_ms", rename = "client_timeout_ms")]
    pub client_timeout: Duration,
    /// Healthy phase before the faults.
    #[serde(with = "crate::serde_ms", rename = "healthy_ms")]
    pub healthy: Duration,
    /// Fault phase; clients stop invoking operations at its end, when everything is healed.
    #[serde(with = "crate::serde_ms", rename = "faulty_ms")]
    pub faulty: Duration,
    /// Quiet phase after the heal, before the final reads (no new operations).
    #[serde(with = "crate::serde_ms", rename = "quiet_ms")]
    pub quiet: Duration,
    /// Every link's behaviour.
    pub link: LinkConfig,
    /// Faults.
    pub nemesis: Nemesis,
    /// Per-link overrides of `link` (later rules win), e.g. a latency swarm's long tails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link_rules: Vec<sim_net::LinkRule>,
    /// Sends delayed far beyond their link's latency (delay-bounded exploration).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delays: Vec<sim_net::fate::SendDelay>,
    /// BUGGIFY fault points on ([`sim_core::Env::buggify`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub buggify: bool,
    /// A replay's explicit nondeterminism (message anomalies, client operations left out);
    /// `None`: drawn from the seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit: Option<Explicit>,
}

/// What a replay pins down besides the fault schedule: exactly which messages are dropped,
/// duplicated or delayed (matched by identity; no other loss or duplication is drawn), and
/// which client operations run when. Everything else still comes from the seed, keyed by
/// identity, so removing an entry changes only what that entry did.
///
/// ```
/// use models::experiment::Explicit;
/// let e = Explicit::default();
/// assert!(e.messages.is_empty() && e.ops.is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Explicit {
    /// The message anomalies.
    #[serde(default)]
    pub messages: Vec<sim_net::Anomaly>,
    /// The client operations to run (`None`: every operation the workload draws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<Vec<PinnedOp>>,
}

/// A client operation a replay runs: client `client`'s `n`-th workload operation, invoked at
/// `at_ns` of virtual time (or as soon as the client's previous operation completes).
///
/// ```
/// use models::experiment::PinnedOp;
/// let op = PinnedOp { client: 2, n: 7, at_ns: 1_500_000_000 };
/// assert_eq!(op.at_ns / 1_000_000, 1_500);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PinnedOp {
    /// The client's index (`0..clients`).
    pub client: u32,
    /// Which of its workload's operations.
    pub n: u64,
    /// When it is invoked, ns of virtual time.
    pub at_ns: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            replicas: 5,
            clients: 10,
            minority: None,
            workload: Workload::default(),
            client_timeout: Duration::from_secs(1),
            healthy: Duration::from_secs(2),
            faulty: Duration::from_secs(10),
            quiet: Duration::from_secs(5),
            link: LinkConfig {
                latency: sim_net::Latency::Uniform {
                    min_ms: 1.0,
                    max_ms: 10.0,
                },
                ..LinkConfig::default()
            },
            nemesis: Nemesis::CapPartition,
            link_rules: Vec::new(),
            delays: Vec::new(),
            buggify: false,
            explicit: None,
        }
    }
}

/// The longest run an experiment may simulate (its phases added up): one year of virtual time.
pub const MAX_RUN: Duration = Duration::from_secs(365 * 24 * 3600);

/// Which side of the cap partition a node is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// With the majority of replicas.
    Majority,
    /// With the minority.
    Minority,
}

/// An experiment that cannot run as configured; each names the field.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A configuration value is invalid.
    #[error("invalid experiment: {field}: {reason}")]
    Config {
        /// The field, e.g. `replicas` or `workload.keys`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The network or nemesis rejected its configuration.
    #[error("{0}")]
    Net(#[from] sim_net::NetError),
}

impl ExperimentError {
    fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ExperimentError::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl Setup {
    /// Replicas on the minority side of the cap partition.
    pub fn minority(&self) -> u32 {
        self.minority.unwrap_or(self.replicas / 2)
    }

    /// Checks every number: counts, fractions, phase lengths (which must add up to at most
    /// [`MAX_RUN`]), the links.
    pub fn validate(&self) -> Result<(), ExperimentError> {
        if self.replicas == 0 {
            return Err(ExperimentError::config("replicas", "must be at least 1"));
        }
        if self.replicas > 10_000 {
            return Err(ExperimentError::config("replicas", "at most 10000"));
        }
        if self.clients > 100_000 {
            return Err(ExperimentError::config("clients", "at most 100000"));
        }
        if self.minority() >= self.replicas {
            return Err(ExperimentError::config(
                "minority",
                format!(
                    "{} leaves no majority of {} replicas",
                    self.minority(),
                    self.replicas
                ),
            ));
        }
        if self.client_timeout.is_zero() {
            return Err(ExperimentError::config(
                "client_timeout",
                "must be positive",
            ));
        }
        let phases = [
            ("healthy", self.healthy),
            ("faulty", self.faulty),
            ("quiet", self.quiet),
        ];
        let mut total = Duration::ZERO;
        for (field, d) in phases {
            total = total
                .checked_add(d)
                .filter(|t| *t <= MAX_RUN)
                .ok_or_else(|| {
                    ExperimentError::config(
                        field,
                        format!(
                            "the phases add up to more than {} s of virtual time",
                            MAX_RUN.as_secs()
                        ),
                    )
                })?;
        }
        if self.client_timeout > MAX_RUN {
            return Err(ExperimentError::config(
                "client_timeout",
                format!("at most {} s", MAX_RUN.as_secs()),
            ));
        }
        if let Nemesis::Random {
            kinds,
            interval_ms,
            duration_ms,
        } = &self.nemesis
        {
            if kinds.is_empty() {
                return Err(ExperimentError::config("nemesis.kinds", "is empty"));
            }
            if *interval_ms == 0 {
                return Err(ExperimentError::config(
                    "nemesis.interval_ms",
                    "must be positive",
                ));
            }
            if *duration_ms > MAX_RUN.as_millis() as u64 {
                return Err(ExperimentError::config(
                    "nemesis.duration_ms",
                    format!("at most {} ms", MAX_RUN.as_millis()),
                ));
            }
        }
        let bad_ms = |ms: f64| !ms.is_finite() || !(0.0..=MAX_RUN.as_millis() as f64).contains(&ms);
        for (i, d) in self.delays.iter().enumerate() {
            if bad_ms(d.ms) {
                return Err(ExperimentError::config(
                    format!("delays[{i}].ms"),
                    format!(
                        "{} is not a latency from 0 to {} ms",
                        d.ms,
                        MAX_RUN.as_millis()
                    ),
                ));
            }
        }
        if let Some(x) = &self.explicit {
            for (i, m) in x.messages.iter().enumerate() {
                if let sim_net::Fate::Delayed { ms } = m.fate {
                    if bad_ms(ms) {
                        return Err(ExperimentError::config(
                            format!("explicit.messages[{i}].fate.ms"),
                            format!("{ms} is not a latency from 0 to {} ms", MAX_RUN.as_millis()),
                        ));
                    }
                }
            }
            if let Some(ops) = &x.ops {
                let max_ns = MAX_RUN.as_nanos() as u64;
                if let Some((i, o)) = ops
                    .iter()
                    .enumerate()
                    .find(|(_, o)| o.at_ns > max_ns || o.client >= self.clients)
                {
                    return Err(ExperimentError::config(
                        format!("explicit.ops[{i}]"),
                        format!(
                            "client {} at {} ns: clients are 0..{} and times at most {max_ns} ns",
                            o.client, o.at_ns, self.clients
                        ),
                    ));
                }
            }
        }
        for (i, r) in self.link_rules.iter().enumerate() {
            if let Some(l) = &r.patch.latency {
                l.validate(&format!("link_rules[{i}].patch.latency"))?;
            }
        }
        self.workload.validate().map_err(|e| {
            ExperimentError::config(format!("workload.{}", e.field), e.reason.clone())
        })?;
        self.link.validate("link")?;
        Ok(())
    }

    /// The replica ids: `n0..n{replicas}`.
    pub fn replica_ids(&self) -> Vec<NodeId> {
        (0..self.replicas).map(NodeId).collect()
    }

    /// The home replica of client `c`.
    pub fn home(&self, c: u32) -> NodeId {
        let home = u64::from(c) * u64::from(self.replicas) / u64::from(self.clients.max(1));
        NodeId((home as u32).min(self.replicas.saturating_sub(1)))
    }

    /// The node id of client `c`.
    pub fn client_id(&self, c: u32) -> NodeId {
        NodeId(self.replicas + c)
    }

    /// The side of each replica and client under the cap partition (a client is on its home
    /// replica's side).
    pub fn sides(&self) -> BTreeMap<NodeId, Side> {
        let majority = self.replicas - self.minority().min(self.replicas);
        let side = |r: u32| {
            if r < majority {
                Side::Majority
            } else {
                Side::Minority
            }
        };
        let mut sides: BTreeMap<NodeId, Side> =
            (0..self.replicas).map(|r| (NodeId(r), side(r))).collect();
        for c in 0..self.clients {
            sides.insert(self.client_id(c), side(self.home(c).0));
        }
        sides
    }

    /// Start of the fault phase.
    pub fn fault_start(&self) -> SimTime {
        SimTime::ZERO + self.healthy
    }

    /// End of the fault phase: the heal, and when clients stop invoking operations.
    pub fn fault_end(&self) -> SimTime {
        SimTime::ZERO + self.healthy + self.faulty
    }

    /// When the final reads are taken.
    pub fn final_time(&self) -> SimTime {
        self.fault_end() + self.quiet
    }

    /// The fault schedule for a run, drawing from `rng` (the seed's nemesis stream).
    pub fn schedule(&self, rng: &mut rand_pcg::Pcg64) -> Result<Schedule, ExperimentError> {
        let start = self.healthy.as_millis() as u64;
        let end = (self.healthy + self.faulty).as_millis() as u64;
        let replicas = self.replica_ids();
        Ok(match &self.nemesis {
            Nemesis::None => Schedule::new(),
            Nemesis::Schedule(s) => s.clone(),
            Nemesis::CapPartition => {
                let sides = self.sides();
                let group = |side| {
                    sides
                        .iter()
                        .filter(|(_, s)| **s == side)
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                };
                let groups: Vec<Vec<NodeId>> = [group(Side::Majority), group(Side::Minority)]
                    .into_iter()
                    .filter(|g| !g.is_empty())
                    .collect();
                if groups.len() < 2 {
                    Schedule::new()
                } else {
                    Schedule::new()
                        .at(start, Fault::Partition(PartitionSpec::Split { groups }))
                        .at(end, Fault::Heal)
                }
            }
            Nemesis::Random {
                kinds,
                interval_ms,
                duration_ms,
            } => {
                let mut g = Generator::new(replicas, end)
                    .kinds(kinds.iter().copied())
                    .every(*interval_ms, *duration_ms);
                g.start_ms = start;
                g.generate(rng)?
            }
            Nemesis::Swarm => {
                let mut s = Swarm::new(replicas, end);
                s.start_ms = start;
                s.draw(rng)?.1
            }
        })
    }
}

/// A protocol, the setup to run it in, and what to check: runs from a seed.
///
/// Build one with [`Experiment::new`] and the setters; [`Experiment::run`] gives one seed's
/// [`Run`]; `Runner`'s sweeps and the shrinker take an `Experiment` too.
///
/// ```no_run
/// use models::experiment::Experiment;
/// use models::eventual::Eventual;
/// let run = Experiment::new(Eventual::default()).run(1).unwrap();
/// println!("{:?}", run.evaluation.checks);
/// ```
#[derive(Clone, Debug)]
pub struct Experiment<P> {
    /// The protocol under test.
    pub protocol: P,
    /// Its setup.
    pub setup: Setup,
    /// The models each run is checked against; `None`: the protocol's own model.
    pub checks: Option<Vec<Model>>,
    /// Budget of each search-based checker.
    pub budget: Budget,
    /// How each seed's setup is made hostile (`None`: the setup as it is).
    pub strategy: Option<crate::strategy::Strategy>,
}

impl<P: Protocol> Experiment<P> {
    /// `protocol` in its own setup ([`Protocol::setup`]: the cap experiment unless the
    /// protocol says otherwise), checked against its own model.
    pub fn new(protocol: P) -> Self {
        Experiment {
            setup: protocol.setup(),
            protocol,
            checks: None,
            budget: Budget {
                time: Some(Duration::from_secs(10)),
                steps: None,
            },
            strategy: None,
        }
    }

    /// Explore with `strategy`: each seed runs in the setup the strategy draws for it.
    pub fn strategy(mut self, strategy: crate::strategy::Strategy) -> Self {
        self.strategy = Some(strategy);
        self
    }

    /// This experiment as seed `seed` runs it: the strategy's setup for that seed, and no
    /// strategy left (what replay files and shrinking start from).
    pub fn materialize(&self, seed: u64) -> Experiment<P> {
        let mut e = self.clone();
        if let Some(st) = e.strategy.take() {
            e.setup = st.setup(&self.setup, seed);
        }
        e
    }

    /// Replaces the whole setup.
    pub fn setup(mut self, setup: Setup) -> Self {
        self.setup = setup;
        self
    }

    /// Number of replicas.
    pub fn replicas(mut self, n: u32) -> Self {
        self.setup.replicas = n;
        self
    }

    /// Number of clients (spread evenly over the replicas as their homes).
    pub fn clients(mut self, n: u32) -> Self {
        self.setup.clients = n;
        self
    }

    /// Replicas on the minority side of the cap partition.
    pub fn minority(mut self, n: u32) -> Self {
        self.setup.minority = Some(n);
        self
    }

    /// What the clients do.
    pub fn workload(mut self, w: Workload) -> Self {
        self.setup.workload = w;
        self
    }

    /// Number of keys the workload uses.
    pub fn keys(mut self, keys: u32) -> Self {
        self.setup.workload.keys = keys;
        self
    }

    /// Client timeout.
    pub fn client_timeout(mut self, d: Duration) -> Self {
        self.setup.client_timeout = d;
        self
    }

    /// Lengths of the healthy, fault and quiet phases.
    pub fn phases(mut self, healthy: Duration, faulty: Duration, quiet: Duration) -> Self {
        self.setup.healthy = healthy;
        self.setup.faulty = faulty;
        self.setup.quiet = quiet;
        self
    }

    /// Every link's behaviour (latency, loss, duplication, ordering).
    pub fn link(mut self, link: LinkConfig) -> Self {
        self.setup.link = link;
        self
    }

    /// The faults of the fault phase.
    pub fn nemesis(mut self, nemesis: Nemesis) -> Self {
        self.setup.nemesis = nemesis;
        self
    }

    /// Check each run against these models (default: the protocol's own).
    pub fn checks(mut self, models: impl IntoIterator<Item = Model>) -> Self {
        self.checks = Some(models.into_iter().collect());
        self
    }

    /// Wall-clock budget of each search-based check (a check out of budget is `unknown`).
    pub fn budget(mut self, time: Duration) -> Self {
        self.budget.time = Some(time);
        self
    }

    /// The models each run is checked against.
    pub fn models(&self) -> Vec<Model> {
        self.checks
            .clone()
            .unwrap_or_else(|| vec![self.protocol.model()])
    }

    /// Checks the setup and that the protocol runs with this many replicas.
    pub fn validate(&self) -> Result<(), ExperimentError> {
        self.setup.validate()?;
        self.protocol
            .check_replicas(self.setup.replicas)
            .map_err(|reason| ExperimentError::config("replicas", reason))
    }

    /// The configuration of key-value client `c`.
    pub fn client_config(&self, c: u32) -> ClientConfig {
        let s = &self.setup;
        let home = s.home(c);
        let routing = match self.protocol.routing() {
            ClientRouting::Sticky => Routing::Sticky { home },
            ClientRouting::FollowLeader => Routing::Leader {
                home,
                replicas: s.replica_ids(),
            },
        };
        ClientConfig {
            index: c,
            clients: s.clients,
            routing,
            timeout: s.client_timeout,
            workload: s.workload.clone(),
            cas_supported: self.protocol.offers_cas(),
            stop_at: s.fault_end(),
        }
    }

    /// Builds the simulation for `seed`: network, replicas and the fault schedule (installed
    /// by [`Cluster::finish`]), but no clients: add them as nodes `replicas..`, then call
    /// [`Cluster::finish`]. `configure` runs on the simulation before any node is added (trace
    /// writer, per-event hashes, event limit). [`Experiment::simulate`] does all of it with
    /// the key-value clients.
    pub fn build(
        &self,
        seed: u64,
        configure: impl FnOnce(&mut ProtocolSim<P>),
    ) -> Result<Cluster<P>, ExperimentError> {
        if self.strategy.is_some() {
            return self.materialize(seed).build(seed, configure);
        }
        self.validate()?;
        let s = &self.setup;
        let replicas = s.replica_ids();
        let nodes = (s.replicas + s.clients) as usize;
        let mut config = NetConfig::new(nodes).with_default(s.link.clone());
        config.rules = s.link_rules.clone();
        let mut net = FaultyNetwork::new(config)?;
        if let Some(x) = &s.explicit {
            net.replay_anomalies(&x.messages);
        }
        net.delay_sends(&s.delays);
        let mut sim: ProtocolSim<P> = sim_core::Sim::with_network(seed, net);
        if s.buggify {
            sim.enable_buggify();
        }
        configure(&mut sim);
        for i in 0..replicas.len() {
            add_replica(&mut sim, &self.protocol, i, &replicas);
        }
        let schedule = s.schedule(&mut sim.rng(Purpose::Nemesis))?;
        Ok(Cluster {
            sim,
            experiment: self.clone(),
            replicas,
            schedule,
            history: Recorder::new(),
        })
    }

    /// Simulates `seed` with the key-value clients, without checking; `configure` as in
    /// [`Experiment::build`].
    pub fn simulate_with(
        &self,
        seed: u64,
        configure: impl FnOnce(&mut ProtocolSim<P>),
    ) -> Result<Outcome, ExperimentError> {
        let mut cluster = self.build(seed, configure)?;
        let pinned = self.setup.explicit.as_ref().and_then(|x| x.ops.as_ref());
        for c in 0..self.setup.clients {
            let cfg = self.client_config(c);
            let mut script = KvScript::new(cfg.workload.clone(), c, cfg.cas_supported);
            if let Some(ops) = pinned {
                script = script.pinned(
                    ops.iter()
                        .filter(|o| o.client == c)
                        .map(|o| (o.n, SimTime::from_nanos(o.at_ns))),
                );
            }
            let rec = cluster.history.clone();
            cluster.sim.add_node(
                format!("client{c}"),
                (),
                move |env: SimEnv<KvMsg<P::Message>, ClientTimer>, _| {
                    Client::with_script(env, cfg.clone(), script.clone(), rec.clone())
                },
            );
        }
        cluster.finish()
    }

    /// Simulates `seed`; with `trace`, every event is written there as JSON lines.
    pub fn simulate(
        &self,
        seed: u64,
        trace: Option<Box<dyn Write>>,
    ) -> Result<Outcome, ExperimentError> {
        self.simulate_with(seed, |sim| {
            if let Some(w) = trace {
                sim.set_trace_writer(w);
            }
        })
    }

    /// The options [`Experiment::evaluate`] checks with.
    pub fn eval_options(&self) -> EvalOptions {
        EvalOptions {
            models: self.models(),
            budget: self.budget.clone(),
            parallelism: 1,
        }
    }

    /// Judges a simulated outcome: availability per side, one verdict per checked model.
    pub fn evaluate(&self, outcome: &Outcome) -> Evaluation {
        evaluate(outcome, &self.eval_options())
    }

    /// Runs `seed`: simulates and checks it.
    pub fn run(&self, seed: u64) -> Result<Run, ExperimentError> {
        let outcome = self.simulate(seed, None)?;
        let evaluation = self.evaluate(&outcome);
        Ok(Run {
            promised: self.protocol.model(),
            outcome,
            evaluation,
        })
    }
}

/// One seed's run: what happened and what the checkers said.
#[derive(Clone, Debug)]
pub struct Run {
    /// The model the protocol promises.
    pub promised: Model,
    /// The history, final reads, installed schedule and trace hash.
    pub outcome: Outcome,
    /// Availability per side and one verdict per checked model.
    pub evaluation: Evaluation,
}

impl Run {
    /// The first problem: the run's error, or a checked model that the protocol promises
    /// (its own model or a weaker one) found violated.
    pub fn violation(&self) -> Option<String> {
        self.evaluation.violation_of(self.promised)
    }
}

/// Everything one simulated run produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    /// Seed, trace hash, counters.
    pub summary: RunSummary,
    /// What clients saw.
    pub history: KvHistory,
    /// Every replica's value of every key at the end (empty if the run failed early).
    pub final_reads: Vec<FinalRead>,
    /// The fault schedule that was installed (replayable with [`Nemesis::Schedule`]).
    pub schedule: Schedule,
    /// Side of each client and replica, for the cap partition.
    pub sides: BTreeMap<NodeId, Side>,
    /// The fault phase: [start, end).
    pub fault_window: (SimTime, SimTime),
    /// When the final reads were taken.
    pub final_time: SimTime,
    /// The replicas.
    pub replicas: Vec<NodeId>,
    /// Messages dropped by loss, duplicated or delayed, in send order, by identity.
    #[serde(default)]
    pub anomalies: Vec<sim_net::Anomaly>,
    /// In a replay with message anomalies: every message sent on their links (identity, ms
    /// sent), what shrinking needs to follow an anomaly whose message's content changed.
    #[serde(skip)]
    pub replay_sends: Vec<(sim_net::MessageId, f64)>,
    /// If the run ended in an error (an actor panic), what it was: results up to then are kept.
    pub error: Option<String>,
    /// Every event's hash, if the simulation was asked to keep them.
    #[serde(skip)]
    pub event_hashes: Option<Vec<u64>>,
    /// The protocol-visible states the run reached, if the simulation recorded coverage
    /// ([`Experiment::explore`] does).
    #[serde(skip)]
    pub coverage: Option<sim_core::coverage::Coverage>,
}

/// A built experiment: the simulation with its replicas and nemesis, waiting for clients.
pub struct Cluster<P: Protocol> {
    /// The simulation.
    pub sim: ProtocolSim<P>,
    /// The experiment it was built from.
    pub experiment: Experiment<P>,
    /// The replicas.
    pub replicas: Vec<NodeId>,
    /// The fault schedule to install.
    pub schedule: Schedule,
    /// Where the key-value clients record (scenario clients may keep their own history).
    pub history: Recorder<Op, Ret>,
}

impl<P: Protocol> Cluster<P> {
    /// Installs the schedule and the heal at the end of the fault phase, runs to the end of the
    /// quiet phase, takes the final reads of every key on every replica that is up, and
    /// returns everything. An actor panic ends the run early; what was recorded until then is
    /// kept and the error is reported in [`Outcome::error`].
    pub fn finish(mut self) -> Result<Outcome, ExperimentError> {
        let s = self.experiment.setup.clone();
        self.schedule.install(&mut self.sim)?;
        // The structural heal: not part of the schedule, so no shrink can remove it.
        let heal = Fault::HealAll {
            nodes: self.replicas.clone(),
        };
        let end_ms = (s.healthy + s.faulty).as_millis() as u64;
        Schedule::new().at(end_ms, heal).install(&mut self.sim)?;
        let final_time = s.final_time();
        let mut error = self.sim.run_until(final_time).err().map(|e| e.to_string());
        let mut final_reads = Vec::new();
        if error.is_none() {
            'reads: for &r in &self.replicas {
                for k in 0..s.workload.keys {
                    let key = Key::Int(i64::from(k));
                    match local_value::<P>(&mut self.sim, r, &key) {
                        Ok(value) => final_reads.push(FinalRead {
                            node: r,
                            key,
                            value,
                        }),
                        Err(SimError::NodeState { .. }) => {} // down at the end: no final read
                        Err(e) => {
                            error = Some(e.to_string());
                            break 'reads;
                        }
                    }
                }
            }
        }
        if let Err(e) = self.sim.finish_trace() {
            error.get_or_insert(e.to_string());
        }
        let (anomalies, replay_sends) = sim_net::with_net(&mut self.sim, |net, _, _| {
            (net.anomalies().to_vec(), net.replay_link_sends().to_vec())
        })
        .unwrap_or_default();
        Ok(Outcome {
            anomalies,
            replay_sends,
            summary: self.sim.summary(),
            history: self.history.take(),
            final_reads,
            schedule: self.schedule,
            sides: s.sides(),
            fault_window: (s.fault_start(), s.fault_end()),
            final_time,
            event_hashes: self.sim.event_hashes().map(<[u64]>::to_vec),
            coverage: self.sim.take_coverage(),
            replicas: self.replicas,
            error,
        })
    }
}
