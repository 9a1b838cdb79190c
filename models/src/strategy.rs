//! Exploration strategies: how each seed's run is made hostile, over the same actors.
//!
//! A strategy turns an experiment's [`Setup`] into the setup one seed runs in, drawing its
//! choices from that seed (a stream of its own: the workload, network and nemesis streams are
//! untouched). The result is an ordinary setup, so a failing seed is reproduced, written as a
//! replay file and shrunk like any other.
//!
//! - [`Strategy::Random`]: Jepsen-style random partitions, crashes and pauses (the setup's own
//!   generated nemesis, or [`Nemesis::standard`] for the cap partition or none);
//! - [`Strategy::Swarm`]: the seed also picks which fault kinds and rates are on (TigerBeetle);
//! - [`Strategy::Delays`]: delay-bounded / PCT-style: the random nemesis plus one to three
//!   chosen messages delayed far beyond the normal range (0.2–3 s), the rest normal;
//! - [`Strategy::LinkSwarm`]: every replica-to-replica link gets its own latency, some with
//!   long (Pareto) tails;
//! - [`Strategy::Isolation`]: one node at a time isolated, crashed or paused, often and briefly
//!   (most partition failures need only one isolated node: TaxDC, NEAT);
//! - [`Strategy::Buggify`]: the random nemesis with the protocol's BUGGIFY fault points on
//!   ([`sim_core::Env::buggify`]);
//! - [`Strategy::Partial`]: partial partitions, often and briefly: majorities rings, bridges
//!   and one-way cuts, where every node reaches some others but not every pair can talk
//!   (Alquraan et al., OSDI'18: partial partitions cause a large share of partition failures;
//!   Jepsen's majorities ring);
//! - [`Strategy::Portfolio`]: each seed runs one of five families, chosen from the seed, so a
//!   sweep mixes them: random (with delays, and with BUGGIFY, each on for half of its seeds:
//!   alone, each is the random nemesis plus a little), swarm, link-swarm, isolation and
//!   partial;
//! - [`Strategy::Coverage`]: not a per-seed setup but a search ([`crate::explore`]): fresh
//!   portfolio seeds, plus runs branched from the prefixes of earlier runs that reached
//!   protocol-visible states no run had reached. Sweeps and the bug benchmark run the search;
//!   one seed on its own runs as the portfolio runs it.
//!
//! ```
//! use models::experiment::Setup;
//! use models::strategy::Strategy;
//! let s: Strategy = "delays".parse().unwrap();
//! let setup = s.setup(&Setup::default(), 7);
//! assert!(!setup.delays.is_empty());
//! assert_eq!(setup, s.setup(&Setup::default(), 7)); // a function of the seed
//! ```

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use sim_core::NodeId;
use sim_net::fate::SendDelay;
use sim_net::{FaultKind, Latency, LinkPatch, LinkRule, Links};

use crate::experiment::{Nemesis, Setup};

/// How a seed's run is made hostile. See the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Random partitions, crashes and pauses.
    Random,
    /// Swarm: fault kinds and rates drawn per seed.
    Swarm,
    /// A few messages delayed far beyond normal (PCT-style), on top of random faults.
    Delays,
    /// Per-link latencies with long tails.
    LinkSwarm,
    /// Single nodes isolated, crashed or paused, often.
    Isolation,
    /// Random faults with BUGGIFY fault points on.
    Buggify,
    /// Partial partitions, often: majorities rings, bridges, one-way cuts.
    Partial,
    /// One of the others per seed.
    Portfolio,
    /// Coverage-guided search: the portfolio's seeds plus branches of runs that reached new
    /// states ([`crate::explore`]).
    Coverage,
}

impl Strategy {
    /// The per-seed strategies: each turns one seed's setup into a hostile one on its own.
    pub const PER_SEED: [Strategy; 7] = [
        Strategy::Random,
        Strategy::Swarm,
        Strategy::Delays,
        Strategy::LinkSwarm,
        Strategy::Isolation,
        Strategy::Buggify,
        Strategy::Partial,
    ];

    /// Every strategy; the per-seed ones first, then the portfolio and the coverage search.
    pub const ALL: [Strategy; 9] = {
        let mut all = [Strategy::Portfolio; 9];
        let mut i = 0;
        while i < Strategy::PER_SEED.len() {
            all[i] = Strategy::PER_SEED[i];
            i += 1;
        }
        all[8] = Strategy::Coverage;
        all
    };

    /// Its name (as on the command line and in `ACTSIM_STRATEGY`).
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Random => "random",
            Strategy::Swarm => "swarm",
            Strategy::Delays => "delays",
            Strategy::LinkSwarm => "link-swarm",
            Strategy::Isolation => "isolation",
            Strategy::Buggify => "buggify",
            Strategy::Partial => "partial",
            Strategy::Portfolio => "portfolio",
            Strategy::Coverage => "coverage",
        }
    }

    /// The setup seed `seed` runs in under this strategy.
    pub fn setup(self, base: &Setup, seed: u64) -> Setup {
        let mut s = base.clone();
        let rng = |part: &str| {
            Pcg64::seed_from_u64(sim_core::hash::stable_hash(&(seed, "strategy", part)))
        };
        match self {
            Strategy::Random => s.nemesis = random_nemesis(base),
            Strategy::Swarm => s.nemesis = Nemesis::Swarm,
            Strategy::Delays => {
                s.nemesis = random_nemesis(base);
                s.delays = far_delays(base, &mut rng("delays"));
            }
            Strategy::LinkSwarm => {
                s.nemesis = random_nemesis(base);
                s.link_rules.extend(link_swarm(base, &mut rng("links")));
            }
            Strategy::Isolation => s.nemesis = isolation(&mut rng("isolation")),
            Strategy::Partial => s.nemesis = partial(&mut rng("partial")),
            Strategy::Buggify => {
                s.nemesis = random_nemesis(base);
                s.buggify = true;
            }
            Strategy::Portfolio | Strategy::Coverage => {
                // One family per seed. Delays and BUGGIFY ride on the random family's seeds
                // (each on for half of them): alone, each is the random nemesis plus a little.
                let mut pick = rng("portfolio");
                match pick.random_range(0..5) {
                    0 => {
                        s.nemesis = random_nemesis(base);
                        if pick.random_bool(0.5) {
                            s.delays = far_delays(base, &mut rng("delays"));
                        }
                        s.buggify = pick.random_bool(0.5);
                    }
                    k => {
                        let family = [
                            Strategy::Swarm,
                            Strategy::LinkSwarm,
                            Strategy::Isolation,
                            Strategy::Partial,
                        ];
                        return family[k - 1].setup(base, seed);
                    }
                }
            }
        }
        s
    }
}

/// The setup's own generated nemesis, or [`Nemesis::standard`] for the cap partition or none.
fn random_nemesis(base: &Setup) -> Nemesis {
    match &base.nemesis {
        Nemesis::CapPartition | Nemesis::None => Nemesis::standard(),
        n => n.clone(),
    }
}

/// One to three sends delayed 0.2–3 s, among about as many sends as the run makes.
fn far_delays(base: &Setup, rng: &mut Pcg64) -> Vec<SendDelay> {
    // About how many messages a run sends: a few per client operation.
    let phase_ms = (base.healthy + base.faulty).as_millis() as u64;
    let sends = (u64::from(base.clients.max(1)) * phase_ms / 3).max(100);
    let n = rng.random_range(1..=3);
    (0..n)
        .map(|_| SendDelay {
            send: rng.random_range(0..sends),
            ms: rng.random_range(200.0..3_000.0),
        })
        .collect()
}

/// Every replica-to-replica link its own latency, three in ten with a Pareto tail.
fn link_swarm(base: &Setup, rng: &mut Pcg64) -> Vec<LinkRule> {
    let mut rules = Vec::new();
    for a in 0..base.replicas {
        for b in 0..base.replicas {
            if a == b {
                continue;
            }
            let latency = if rng.random_bool(0.3) {
                Latency::Pareto {
                    scale_ms: rng.random_range(1.0..10.0),
                    shape: rng.random_range(1.1..2.0),
                    max_ms: Some(2_000.0),
                }
            } else {
                let lo = rng.random_range(0.5..20.0);
                Latency::Uniform {
                    min_ms: lo,
                    max_ms: lo * rng.random_range(1.0..5.0),
                }
            };
            rules.push(LinkRule {
                links: Links::between([NodeId(a)], [NodeId(b)]),
                patch: LinkPatch {
                    latency: Some(latency),
                    ..LinkPatch::default()
                },
            });
        }
    }
    rules
}

/// Partial partitions every 0.4–1.2 s: every node still reaches some others, but not all
/// pairs can talk (OSDI'18's "partial network partitions"; Jepsen's majorities ring).
fn partial(rng: &mut Pcg64) -> Nemesis {
    frequent(
        vec![
            FaultKind::MajoritiesRing,
            FaultKind::Bridge,
            FaultKind::OneWay,
        ],
        rng,
    )
}

/// One node at a time isolated, crashed or paused, every 0.4–1.2 s.
fn isolation(rng: &mut Pcg64) -> Nemesis {
    frequent(
        vec![FaultKind::Isolate, FaultKind::Crash, FaultKind::Pause],
        rng,
    )
}

/// Faults of `kinds`, one every 0.4–1.2 s, each lasting a third of that or more.
fn frequent(kinds: Vec<FaultKind>, rng: &mut Pcg64) -> Nemesis {
    let interval_ms = rng.random_range(400..1_200);
    Nemesis::Random {
        kinds,
        interval_ms,
        duration_ms: rng.random_range(interval_ms / 3..interval_ms),
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A strategy name that does not exist.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy {0:?} (expected random, swarm, delays, link-swarm, isolation, buggify, partial, portfolio or coverage)")]
pub struct UnknownStrategy(pub String);

impl FromStr for Strategy {
    type Err = UnknownStrategy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Strategy::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| UnknownStrategy(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_draws_a_valid_setup_for_every_seed() {
        let small = Setup {
            replicas: 3,
            clients: 2,
            ..Setup::default()
        };
        for base in [Setup::default(), small] {
            for st in Strategy::ALL {
                for seed in 0..300 {
                    let s = st.setup(&base, seed);
                    assert!(s.validate().is_ok(), "{st} seed {seed}: {:?}", s.validate());
                    let mut rng = Pcg64::seed_from_u64(seed);
                    assert!(s.schedule(&mut rng).is_ok(), "{st} seed {seed}");
                    assert_eq!(s, st.setup(&base, seed), "{st} seed {seed}: deterministic");
                }
            }
        }
    }

    #[test]
    fn the_portfolio_mixes_every_family() {
        let base = Setup::default();
        let setups: Vec<Setup> = (0..200)
            .map(|seed| Strategy::Portfolio.setup(&base, seed))
            .collect();
        let kinds_of = |st: Strategy| match st.setup(&base, 0).nemesis {
            Nemesis::Random { kinds, .. } => kinds,
            n => panic!("{st}: {n:?}"),
        };
        let has_kinds = |s: &Setup, kinds: &[FaultKind]| matches!(&s.nemesis, Nemesis::Random { kinds: k, .. } if k == kinds);
        let (isolation, partial) = (kinds_of(Strategy::Isolation), kinds_of(Strategy::Partial));
        let count = |f: &dyn Fn(&Setup) -> bool| setups.iter().filter(|s| f(s)).count();
        let families = [
            ("swarm", count(&|s| s.nemesis == Nemesis::Swarm)),
            ("link-swarm", count(&|s| !s.link_rules.is_empty())),
            ("isolation", count(&|s| has_kinds(s, &isolation))),
            ("partial", count(&|s| has_kinds(s, &partial))),
            ("delays", count(&|s| !s.delays.is_empty())),
            ("buggify", count(&|s| s.buggify)),
        ];
        for (name, n) in families {
            // Each family gets a fifth of the seeds; delays and BUGGIFY a tenth each.
            assert!((10..=70).contains(&n), "{name}: {n} of 200 seeds");
        }
        // Delays and BUGGIFY ride on the random family only.
        for s in &setups {
            if s.buggify || !s.delays.is_empty() {
                assert_eq!(s.nemesis, Nemesis::standard());
                assert!(s.link_rules.is_empty());
            }
        }
    }
}
