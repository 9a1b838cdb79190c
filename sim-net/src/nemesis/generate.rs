//! Jepsen-style generated schedules: every `interval`, for `duration`, one random fault.

use rand::seq::IndexedRandom;
use rand::Rng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::error::{check_probability, NetError};
use crate::latency::Latency;
use crate::link::{LinkPatch, Links};
use crate::nemesis::fault::Fault;
use crate::nemesis::schedule::Schedule;
use crate::partition::PartitionSpec;

/// The kinds of fault a [`Generator`] draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Random halves (undone by heal).
    Halves,
    /// One random node isolated.
    Isolate,
    /// Random halves, one way only.
    OneWay,
    /// Two halves sharing a bridge node.
    Bridge,
    /// Jepsen's majorities ring.
    MajoritiesRing,
    /// Random halves clogged: messages held, then released.
    Clog,
    /// A random node crashes, then restarts.
    Crash,
    /// A random node pauses, then resumes.
    Pause,
    /// A random node's clock jumps by up to `max_clock_offset_ms`, then is reset.
    ClockJump,
    /// A random node's clock drifts by up to `max_drift_ppm`, then is reset.
    ClockDrift,
    /// Links from a random node get `slow_latency`, then are reset.
    SlowLinks,
    /// Every link between the nodes loses `lossy_loss` of messages, then is reset.
    LossyLinks,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 12] = [
        FaultKind::Halves,
        FaultKind::Isolate,
        FaultKind::OneWay,
        FaultKind::Bridge,
        FaultKind::MajoritiesRing,
        FaultKind::Clog,
        FaultKind::Crash,
        FaultKind::Pause,
        FaultKind::ClockJump,
        FaultKind::ClockDrift,
        FaultKind::SlowLinks,
        FaultKind::LossyLinks,
    ];
}

/// Draws a schedule: from `start_ms` to `end_ms`, every `interval_ms` a window opens; with
/// probability `probability` it gets one fault of a random enabled kind, applied at the window
/// start and undone `duration_ms` later. With `final_heal`, a [`Fault::HealAll`] at `end_ms`
/// leaves the system healed so that the protocol can converge.
///
/// ```
/// use sim_net::{Generator, FaultKind};
/// use sim_core::{rng::{stream, Purpose}, NodeId};
/// let g = Generator::new((0..5).map(NodeId), 20_000)
///     .kinds([FaultKind::Halves, FaultKind::Crash])
///     .every(2_000, 1_000);
/// let a = g.generate(&mut stream(9, Purpose::Nemesis)).unwrap();
/// let b = g.generate(&mut stream(9, Purpose::Nemesis)).unwrap();
/// assert_eq!(a, b);
/// assert!(a.len() >= 2 * 9);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Generator {
    /// Enabled kinds.
    pub kinds: Vec<FaultKind>,
    /// Nodes the faults act on (e.g. replicas only).
    pub nodes: Vec<NodeId>,
    /// First window.
    pub start_ms: u64,
    /// No window opens at or after this; the final heal happens here.
    pub end_ms: u64,
    /// Time between window starts (Jepsen's "every X").
    pub interval_ms: u64,
    /// How long each fault lasts (Jepsen's "for Y"); at most `interval_ms`.
    pub duration_ms: u64,
    /// Probability that a window gets a fault.
    pub probability: f64,
    /// Largest clock jump, either direction.
    pub max_clock_offset_ms: f64,
    /// Largest drift, either direction.
    pub max_drift_ppm: i32,
    /// Latency of slowed links.
    pub slow_latency: Latency,
    /// Loss probability of lossy links.
    pub lossy_loss: f64,
    /// Links patch applied at `start_ms` and kept between faults (swarm background noise).
    pub baseline: Option<LinkPatch>,
    /// End with a heal-everything at `end_ms`.
    pub final_heal: bool,
}

impl Default for Generator {
    fn default() -> Self {
        Generator {
            kinds: FaultKind::ALL.to_vec(),
            nodes: Vec::new(),
            start_ms: 1_000,
            end_ms: 60_000,
            interval_ms: 5_000,
            duration_ms: 3_000,
            probability: 1.0,
            max_clock_offset_ms: 500.0,
            max_drift_ppm: 10_000,
            slow_latency: Latency::Exponential {
                floor_ms: 10.0,
                mean_ms: 200.0,
            },
            lossy_loss: 0.3,
            baseline: None,
            final_heal: true,
        }
    }
}

impl Generator {
    /// Every kind, acting on `nodes`, until `end_ms`, every 5 s for 3 s.
    pub fn new(nodes: impl IntoIterator<Item = NodeId>, end_ms: u64) -> Self {
        Generator {
            nodes: nodes.into_iter().collect(),
            end_ms,
            ..Generator::default()
        }
    }

    /// Enables exactly these kinds.
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = FaultKind>) -> Self {
        self.kinds = kinds.into_iter().collect();
        self
    }

    /// A window every `interval_ms`, each fault lasting `duration_ms`.
    pub fn every(mut self, interval_ms: u64, duration_ms: u64) -> Self {
        self.interval_ms = interval_ms;
        self.duration_ms = duration_ms;
        self
    }

    /// Checks the parameters; errors name the field.
    pub fn validate(&self) -> Result<(), NetError> {
        if self.kinds.is_empty() {
            return Err(NetError::invalid("kinds", "no fault kind enabled"));
        }
        if self.nodes.is_empty() {
            return Err(NetError::invalid("nodes", "no node to act on"));
        }
        if self.interval_ms == 0 {
            return Err(NetError::invalid("interval_ms", "must be positive"));
        }
        if self.duration_ms > self.interval_ms {
            return Err(NetError::invalid(
                "duration_ms",
                format!(
                    "{} exceeds interval_ms ({}): faults would overlap",
                    self.duration_ms, self.interval_ms
                ),
            ));
        }
        for (field, ms) in [
            ("start_ms", self.start_ms),
            ("end_ms", self.end_ms),
            ("interval_ms", self.interval_ms),
            ("duration_ms", self.duration_ms),
        ] {
            NetError::check_millis(field, ms)?;
        }
        if self.end_ms < self.start_ms {
            return Err(NetError::invalid("end_ms", "is before start_ms"));
        }
        check_probability("probability", self.probability)?;
        check_probability("lossy_loss", self.lossy_loss)?;
        if !(self.max_clock_offset_ms.is_finite() && self.max_clock_offset_ms >= 0.0) {
            return Err(NetError::invalid("max_clock_offset_ms", "must be >= 0"));
        }
        if !(0..1_000_000).contains(&self.max_drift_ppm) {
            return Err(NetError::invalid("max_drift_ppm", "must be in [0, 1e6)"));
        }
        self.slow_latency.validate("slow_latency")?;
        if let Some(b) = &self.baseline {
            b.validate("baseline")?;
        }
        Ok(())
    }

    /// Draws a schedule from `rng` (use `sim.rng(Purpose::Nemesis)` or a stream of your own).
    /// The schedule holds concrete faults only: it replays without the rng.
    pub fn generate(&self, rng: &mut Pcg64) -> Result<Schedule, NetError> {
        self.validate()?;
        let mut s = Schedule::new();
        let baseline = |s: &mut Schedule, at: u64| {
            if let Some(b) = &self.baseline {
                s.push(
                    at,
                    Fault::SetLinks {
                        links: Links::all(),
                        patch: b.clone(),
                    },
                );
            }
        };
        baseline(&mut s, self.start_ms);
        let mut t = self.start_ms;
        while t < self.end_ms {
            if rng.random_bool(self.probability) {
                let kind = *self.kinds.choose(rng).unwrap_or(&FaultKind::Halves);
                let undo_at = (t + self.duration_ms).min(self.end_ms);
                let (fault, undo) = self.draw(kind, rng);
                s.push(t, fault);
                for u in undo {
                    s.push(undo_at, u);
                }
                if matches!(kind, FaultKind::SlowLinks | FaultKind::LossyLinks) {
                    baseline(&mut s, undo_at);
                }
            }
            t += self.interval_ms;
        }
        if self.final_heal {
            s.push(
                self.end_ms,
                Fault::HealAll {
                    nodes: self.nodes.clone(),
                },
            );
        }
        Ok(s)
    }

    fn node(&self, rng: &mut Pcg64) -> NodeId {
        *self.nodes.choose(rng).unwrap_or(&NodeId(0))
    }

    /// One fault of `kind` and what undoes it.
    fn draw(&self, kind: FaultKind, rng: &mut Pcg64) -> (Fault, Vec<Fault>) {
        let nodes = &self.nodes;
        match kind {
            FaultKind::Halves => (
                Fault::Partition(PartitionSpec::random_halves(nodes, rng)),
                vec![Fault::Heal],
            ),
            FaultKind::Isolate => (
                Fault::Partition(PartitionSpec::Split {
                    groups: {
                        let node = self.node(rng);
                        vec![
                            vec![node],
                            nodes.iter().copied().filter(|&n| n != node).collect(),
                        ]
                    },
                }),
                vec![Fault::Heal],
            ),
            FaultKind::OneWay => {
                let (from, to) = match PartitionSpec::random_halves(nodes, rng) {
                    PartitionSpec::Split { mut groups } if groups.len() == 2 => {
                        let to = groups.pop().unwrap_or_default();
                        let from = groups.pop().unwrap_or_default();
                        (from, to)
                    }
                    _ => (Vec::new(), Vec::new()),
                };
                (
                    Fault::Partition(PartitionSpec::OneWay { from, to }),
                    vec![Fault::Heal],
                )
            }
            FaultKind::Bridge => (
                Fault::Partition(PartitionSpec::random_bridge(nodes, rng)),
                vec![Fault::Heal],
            ),
            FaultKind::MajoritiesRing => (
                Fault::Partition(PartitionSpec::random_majorities_ring(nodes, rng)),
                vec![Fault::Heal],
            ),
            FaultKind::Clog => (
                Fault::Clog(PartitionSpec::random_halves(nodes, rng)),
                vec![Fault::Unclog],
            ),
            FaultKind::Crash => {
                let node = self.node(rng);
                (Fault::Crash { node }, vec![Fault::Restart { node }])
            }
            FaultKind::Pause => {
                let node = self.node(rng);
                (Fault::Pause { node }, vec![Fault::Resume { node }])
            }
            FaultKind::ClockJump => {
                let node = self.node(rng);
                let m = self.max_clock_offset_ms;
                // Whole milliseconds keep the JSON short and exact.
                let offset_ms = if m >= 1.0 {
                    rng.random_range(-m..=m).round()
                } else {
                    0.0
                };
                (
                    Fault::Clock {
                        node,
                        offset_ms,
                        drift_ppm: 0,
                    },
                    vec![reset_clock(node)],
                )
            }
            FaultKind::ClockDrift => {
                let node = self.node(rng);
                let m = self.max_drift_ppm;
                (
                    Fault::Clock {
                        node,
                        offset_ms: 0.0,
                        drift_ppm: rng.random_range(-m..=m),
                    },
                    vec![reset_clock(node)],
                )
            }
            FaultKind::SlowLinks => {
                let node = self.node(rng);
                let patch = LinkPatch {
                    latency: Some(self.slow_latency.clone()),
                    ..LinkPatch::default()
                };
                (
                    Fault::SetLinks {
                        links: Links {
                            from: Some([node].into()),
                            to: None,
                        },
                        patch,
                    },
                    vec![Fault::ResetLinks],
                )
            }
            FaultKind::LossyLinks => (
                Fault::SetLinks {
                    links: Links::between(nodes.iter().copied(), nodes.iter().copied()),
                    patch: LinkPatch {
                        loss: Some(self.lossy_loss),
                        ..LinkPatch::default()
                    },
                },
                vec![Fault::ResetLinks],
            ),
        }
    }
}

fn reset_clock(node: NodeId) -> Fault {
    Fault::Clock {
        node,
        offset_ms: 0.0,
        drift_ppm: 0,
    }
}
