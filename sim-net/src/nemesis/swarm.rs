//! Swarm testing: the seed also chooses which fault kinds and rates are enabled.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::error::NetError;
use crate::latency::Latency;
use crate::link::LinkPatch;
use crate::nemesis::generate::{FaultKind, Generator};
use crate::nemesis::schedule::Schedule;

/// Draws a [`Generator`] itself from the seed (TigerBeetle's swarm testing): each fault kind is
/// enabled with probability one half (at least one is), and the window interval, fault
/// duration, fault probability, clock jump and drift sizes, slow latency, lossy rate and a
/// background loss/duplication level are drawn too. A sweep over seeds covers many mixes, some
/// of them gentle enough for rare interleavings to survive.
///
/// ```
/// use sim_net::Swarm;
/// use sim_core::{rng::{stream, Purpose}, NodeId};
/// let swarm = Swarm::new((0..3).map(NodeId), 30_000);
/// let (g1, s1) = swarm.draw(&mut stream(5, Purpose::Nemesis)).unwrap();
/// let (g2, s2) = swarm.draw(&mut stream(5, Purpose::Nemesis)).unwrap();
/// assert_eq!((g1, s1), (g2, s2));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Swarm {
    /// Nodes the faults act on.
    pub nodes: Vec<NodeId>,
    /// Kinds the swarm may enable.
    pub kinds: Vec<FaultKind>,
    /// First window.
    pub start_ms: u64,
    /// End of faults, and the final heal.
    pub end_ms: u64,
}

impl Swarm {
    /// Every kind, on `nodes`, from 1 s to `end_ms`.
    pub fn new(nodes: impl IntoIterator<Item = NodeId>, end_ms: u64) -> Self {
        Swarm {
            nodes: nodes.into_iter().collect(),
            kinds: FaultKind::ALL.to_vec(),
            start_ms: 1_000,
            end_ms,
        }
    }

    /// Draws the generator, then its schedule, both from `rng`.
    pub fn draw(&self, rng: &mut Pcg64) -> Result<(Generator, Schedule), NetError> {
        if self.kinds.is_empty() {
            return Err(NetError::invalid("kinds", "no fault kind to choose from"));
        }
        let mut kinds: Vec<FaultKind> = self
            .kinds
            .iter()
            .copied()
            .filter(|_| rng.random_bool(0.5))
            .collect();
        if kinds.is_empty() {
            let mut all = self.kinds.clone();
            all.shuffle(rng);
            kinds.push(all[0]);
        }
        let interval_ms = rng.random_range(500..=5_000u64);
        let duration_ms = interval_ms * rng.random_range(2..=9u64) / 10;
        let baseline = rng.random_bool(0.5).then(|| LinkPatch {
            loss: Some(f64::from(rng.random_range(0..=50u32)) / 1000.0),
            duplicate: Some(f64::from(rng.random_range(0..=50u32)) / 1000.0),
            ..LinkPatch::default()
        });
        let g = Generator {
            kinds,
            nodes: self.nodes.clone(),
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            interval_ms,
            duration_ms,
            probability: f64::from(rng.random_range(3..=10u32)) / 10.0,
            max_clock_offset_ms: f64::from(rng.random_range(1..=2_000u32)),
            max_drift_ppm: rng.random_range(100..=200_000),
            slow_latency: Latency::Exponential {
                floor_ms: 1.0,
                mean_ms: f64::from(rng.random_range(20..=1_000u32)),
            },
            lossy_loss: f64::from(rng.random_range(5..=80u32)) / 100.0,
            baseline,
            final_heal: true,
        };
        let s = g.generate(rng)?;
        Ok((g, s))
    }
}
