//! One experiment run: replicas of a protocol, clients running a workload, a nemesis, a heal, a
//! quiet period and final reads — everything a checker and the availability report need.
//!
//! The default [`Experiment`] is the consistency x availability experiment: 5 replicas and 10
//! clients (2 homed on each replica), 4 keys, 50% reads; 2 s healthy, 10 s partitioned into a
//! majority `{n0, n1, n2}` and a minority `{n3, n4}` (clients reach only replicas on their own
//! side), heal, 5 s quiet, then final reads of every key on every replica.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_core::history::Recorder;
use sim_core::rng::Purpose;
use sim_core::{NodeId, RunSummary, Sim, SimEnv, SimError, SimTime};
use sim_net::{
    FaultKind, FaultyNetwork, Generator, LinkConfig, NetConfig, PartitionSpec, Schedule, Swarm,
};

pub use crate::check::eventual::FinalRead;
use crate::client::{Client, ClientConfig, ClientTimer, Routing};
use crate::msg::Msg;
use crate::op::{Key, KvHistory};
use crate::protocol::Protocol;
use crate::workload::Workload;

/// Which faults an experiment injects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Nemesis {
    /// The consistency x availability partition: majority / minority for the partition phase.
    CapPartition,
    /// No faults at all.
    None,
    /// Random faults of these kinds on the replicas during the fault phase (Jepsen-style),
    /// drawn from the seed, then a full heal.
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
    /// Partitions, crashes/restarts and pauses of random replicas: the fault mix under which every
    /// bug-free protocol must pass its checkers.
    pub fn standard() -> Nemesis {
        Nemesis::Random {
            kinds: vec![
                FaultKind::Halves,
                FaultKind::Isolate,
                FaultKind::MajoritiesRing,
                FaultKind::Crash,
                FaultKind::Pause,
            ],
            interval_ms: 1_500,
            duration_ms: 1_000,
        }
    }
}

/// An experiment's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// The protocol under test.
    pub protocol: Protocol,
    /// Whether its planted bug is on.
    pub bug: bool,
    /// Number of replicas.
    pub replicas: u32,
    /// Clients homed on each replica.
    pub clients_per_replica: u32,
    /// Replicas on the minority side of the partition (the last ones).
    pub minority: u32,
    /// What clients do.
    pub workload: Workload,
    /// Client timeout (an operation without a reply by then is indeterminate).
    #[serde(with = "crate::serde_ms", rename = "client_timeout_ms")]
    pub client_timeout: Duration,
    /// Healthy phase before the faults.
    #[serde(with = "crate::serde_ms", rename = "healthy_ms")]
    pub healthy: Duration,
    /// Fault (partition) phase.
    #[serde(with = "crate::serde_ms", rename = "faulty_ms")]
    pub faulty: Duration,
    /// Quiet phase after the heal, before the final reads (no new operations).
    #[serde(with = "crate::serde_ms", rename = "quiet_ms")]
    pub quiet: Duration,
    /// Every link's behaviour.
    pub link: LinkConfig,
    /// Faults.
    pub nemesis: Nemesis,
}

impl Default for Experiment {
    fn default() -> Self {
        Experiment {
            protocol: Protocol::Linearizable,
            bug: false,
            replicas: 5,
            clients_per_replica: 2,
            minority: 2,
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
        }
    }
}

/// Which side of the partition a node is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// With the majority of replicas.
    Majority,
    /// With the minority.
    Minority,
}

/// Everything one run produced.
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
    /// If the run ended in an error (an actor panic), what it was: results up to then are kept.
    pub error: Option<String>,
    /// Every event's hash, if the simulation was asked to keep them.
    #[serde(skip)]
    pub event_hashes: Option<Vec<u64>>,
}

/// An experiment that cannot run as configured.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A configuration value is invalid.
    #[error("invalid experiment: {0}")]
    Config(String),
    /// The network or nemesis rejected its configuration.
    #[error("{0}")]
    Net(#[from] sim_net::NetError),
}

impl Experiment {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ExperimentError> {
        let bad = |s: String| Err(ExperimentError::Config(s));
        if self.replicas == 0 {
            return bad("replicas: must be at least 1".into());
        }
        if self.minority >= self.replicas {
            return bad(format!(
                "minority: {} leaves no majority of {} replicas",
                self.minority, self.replicas
            ));
        }
        if self.client_timeout.is_zero() {
            return bad("client_timeout: must be positive".into());
        }
        self.workload
            .validate()
            .map_err(|e| ExperimentError::Config(e.to_string()))?;
        self.link.validate("link")?;
        Ok(())
    }

    /// The initial value of every key (the protocols start empty: nil).
    pub fn workload_init(&self) -> crate::op::Value {
        crate::op::Value::Nil
    }

    /// The replica ids: `n0..n{replicas}`.
    pub fn replica_ids(&self) -> Vec<NodeId> {
        (0..self.replicas).map(NodeId).collect()
    }

    /// The side of each node under the cap partition.
    pub fn sides(&self) -> BTreeMap<NodeId, Side> {
        let majority = self.replicas - self.minority;
        let mut sides = BTreeMap::new();
        for r in 0..self.replicas {
            sides.insert(
                NodeId(r),
                if r < majority {
                    Side::Majority
                } else {
                    Side::Minority
                },
            );
        }
        for c in 0..self.replicas * self.clients_per_replica {
            let home = c / self.clients_per_replica.max(1);
            sides.insert(NodeId(self.replicas + c), sides[&NodeId(home)]);
        }
        sides
    }

    fn ms(d: Duration) -> u64 {
        d.as_millis() as u64
    }

    /// The fault schedule this experiment installs for `seed`.
    pub fn schedule(&self, sim: &Sim<Msg>) -> Result<Schedule, ExperimentError> {
        let start = Self::ms(self.healthy);
        let end = start + Self::ms(self.faulty);
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
                let groups = vec![group(Side::Majority), group(Side::Minority)];
                Schedule::new()
                    .at(
                        start,
                        sim_net::Fault::Partition(PartitionSpec::Split { groups }),
                    )
                    .at(end, sim_net::Fault::Heal)
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
                g.generate(&mut sim.rng(Purpose::Nemesis))?
            }
            Nemesis::Swarm => {
                let mut s = Swarm::new(replicas, end);
                s.start_ms = start;
                s.draw(&mut sim.rng(Purpose::Nemesis))?.1
            }
        })
    }

    /// The configuration of key-value client `c` (`0..replicas * clients_per_replica`), homed
    /// on replica `c / clients_per_replica`.
    pub fn client_config(&self, c: u32) -> ClientConfig {
        let replicas = self.replica_ids();
        let home =
            replicas[((c / self.clients_per_replica.max(1)) as usize).min(replicas.len() - 1)];
        let routing = if self.protocol.sticky_clients() {
            Routing::Sticky { home }
        } else {
            Routing::Leader { home, replicas }
        };
        ClientConfig {
            index: c,
            clients: self.replicas * self.clients_per_replica,
            routing,
            timeout: self.client_timeout,
            workload: self.workload.clone(),
            cas_supported: self.protocol.offers_cas(),
            stop_at: self.fault_end(),
        }
    }

    /// End of the fault phase: the heal, and when clients stop invoking operations.
    pub fn fault_end(&self) -> SimTime {
        SimTime::ZERO + self.healthy + self.faulty
    }

    /// Builds the simulation: network, replicas, and the fault schedule (installed by
    /// [`Cluster::finish`]) — but no clients. Add
    /// clients as nodes `replicas..` (the cap partition puts client `c` on the side of its home
    /// replica `c / clients_per_replica`), then call [`Cluster::finish`]. [`Experiment::run`]
    /// does all of it with the key-value clients.
    pub fn build(
        &self,
        seed: u64,
        trace: Option<Box<dyn Write>>,
    ) -> Result<Cluster, ExperimentError> {
        self.build_with(seed, |sim| {
            if let Some(w) = trace {
                sim.set_trace_writer(w);
            }
        })
    }

    /// [`Experiment::build`] with a hook that configures the simulation before any node is
    /// added (trace writer, per-event hashes, event limit).
    pub fn build_with(
        &self,
        seed: u64,
        configure: impl FnOnce(&mut Sim<Msg>),
    ) -> Result<Cluster, ExperimentError> {
        self.validate()?;
        let replicas = self.replica_ids();
        let nodes = (self.replicas + self.replicas * self.clients_per_replica) as usize;
        let net = FaultyNetwork::new(NetConfig::new(nodes).with_default(self.link.clone()))?;
        let mut sim: Sim<Msg> = Sim::with_network(seed, net);
        configure(&mut sim);
        for i in 0..replicas.len() {
            self.protocol.add_replica(&mut sim, i, &replicas, self.bug);
        }
        let schedule = self.schedule(&sim)?;
        Ok(Cluster {
            sim,
            experiment: self.clone(),
            replicas,
            schedule,
            history: Recorder::new(),
        })
    }

    /// Runs the experiment for `seed` with the key-value clients. With `trace`, every event is
    /// written there as JSON lines.
    pub fn run(
        &self,
        seed: u64,
        trace: Option<Box<dyn Write>>,
    ) -> Result<Outcome, ExperimentError> {
        self.run_with(seed, |sim| {
            if let Some(w) = trace {
                sim.set_trace_writer(w);
            }
        })
    }

    /// [`Experiment::run`] with a hook that configures the simulation first.
    pub fn run_with(
        &self,
        seed: u64,
        configure: impl FnOnce(&mut Sim<Msg>),
    ) -> Result<Outcome, ExperimentError> {
        let mut cluster = self.build_with(seed, configure)?;
        for c in 0..self.replicas * self.clients_per_replica {
            let cfg = self.client_config(c);
            let rec = cluster.history.clone();
            cluster.sim.add_node(
                format!("client{c}"),
                (),
                move |env: SimEnv<Msg, ClientTimer>, _| Client::new(env, cfg.clone(), rec.clone()),
            );
        }
        cluster.finish()
    }
}

/// A built experiment: the simulation with its replicas and nemesis, waiting for clients.
pub struct Cluster {
    /// The simulation.
    pub sim: Sim<Msg>,
    /// The experiment it was built from.
    pub experiment: Experiment,
    /// The replicas.
    pub replicas: Vec<NodeId>,
    /// The installed fault schedule.
    pub schedule: Schedule,
    /// Where the key-value clients record (scenario clients may keep their own history).
    pub history: Recorder<crate::op::Op, crate::op::Ret>,
}

impl Cluster {
    /// Runs to the end of the quiet phase, takes the final reads of every key on every replica
    /// that is up, and returns everything. An actor panic ends the run early; what was recorded
    /// until then is kept and the error is reported in [`Outcome::error`].
    pub fn finish(mut self) -> Result<Outcome, ExperimentError> {
        self.schedule.install(&mut self.sim)?;
        let exp = &self.experiment;
        let final_time = exp.fault_end() + exp.quiet;
        let mut error = self.sim.run_until(final_time).err().map(|e| e.to_string());
        let mut final_reads = Vec::new();
        if error.is_none() {
            'reads: for &r in &self.replicas {
                for k in 0..exp.workload.keys {
                    let key = Key::Int(i64::from(k));
                    match exp.protocol.local_value(&mut self.sim, r, &key) {
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
        Ok(Outcome {
            summary: self.sim.summary(),
            history: self.history.take(),
            final_reads,
            schedule: self.schedule,
            sides: exp.sides(),
            fault_window: (SimTime::ZERO + exp.healthy, exp.fault_end()),
            final_time,
            event_hashes: self.sim.event_hashes().map(<[u64]>::to_vec),
            replicas: self.replicas,
            error,
        })
    }
}
