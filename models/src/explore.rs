//! Coverage-guided exploration: keep the runs that reach protocol-visible states no earlier
//! run reached, and branch new runs from their prefixes (Antithesis, moonpool, AFL).
//!
//! Every run records its coverage ([`sim_core::coverage`]): the edges between the kinds of
//! each node's consecutive messages and timers, and the points the protocol reports with
//! [`Env::cover`](sim_core::Env::cover). A run that hits a point no earlier run hit joins the
//! *corpus*, remembered with the virtual times of its new points. Each later run is either
//!
//! - **fresh**: the next seed under the per-seed portfolio ([`Strategy::Portfolio`], or the
//!   experiment's own strategy), or
//! - **a branch** of a corpus run: the same seed (so the same client operations and the same
//!   message fates, both keyed by identity), the same faults up to a moment `t`, and something
//!   new from `t` on: the fault schedule of another strategy, one node isolated, crashed or
//!   paused right at `t`, or one message delayed far beyond normal. `t` is usually just before
//!   one of the parent's new points, the moment it did something no run had done; everything
//!   before `t` is the parent's run exactly.
//!
//! The search is a pure function of its start: candidates are drawn in batches of
//! [`BATCH`] from the corpus as it stood before the batch, and results are taken in order, so
//! the number of threads changes the speed, never the runs. Every run is an ordinary seed and
//! setup: a failure comes as a replay file ([`Repro`]) that `actsim replay` or
//! `ACTSIM_REPLAY=file` reruns exactly, and that shrinks like any other.
//!
//! ```no_run
//! use models::experiment::Experiment;
//! use models::explore::Explore;
//! use models::linearizable::Linearizable;
//! let bug = Linearizable { bug: true, ..Linearizable::default() };
//! let found = Experiment::new(bug).explore(&Explore::new(0, 200)).unwrap();
//! if let Some(f) = found.failures.first() {
//!     println!("run {}: {}", f.run, f.violation);
//! }
//! ```

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use sim_core::hash::stable_hash;
use sim_core::{NodeId, SimTime};
use sim_net::fate::SendDelay;
use sim_net::{Entry, Fault, PartitionSpec, Schedule};

use crate::experiment::{Experiment, ExperimentError, Nemesis, Run, Setup};
use crate::kv::KvMsg;
use crate::protocol::Protocol;
use crate::runner::{Runner, SeedOutcome, Seeds};
use crate::shrink::Repro;
use crate::strategy::Strategy;

/// How many candidates are drawn from one state of the corpus (fixed, so the search does not
/// depend on the number of threads).
pub const BATCH: u64 = 8;

/// A coverage-guided search: where it starts and how long it runs.
///
/// ```
/// use models::explore::Explore;
/// let e = Explore::new(1_000, 50);
/// assert_eq!((e.start, e.runs, e.stop_at_first), (1_000, 50, false));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explore {
    /// The first fresh seed (fresh runs take `start`, `start + 1`, ...); also seeds the
    /// search's own choices.
    pub start: u64,
    /// Runs at most.
    pub runs: u64,
    /// Stop after the batch of the first failing run.
    pub stop_at_first: bool,
    /// Threads (`None`: one per core). Never changes which runs are made.
    pub jobs: Option<usize>,
}

impl Explore {
    /// `runs` runs from `start`, not stopping at failures, one thread per core.
    pub fn new(start: u64, runs: u64) -> Explore {
        Explore {
            start,
            runs,
            stop_at_first: false,
            jobs: None,
        }
    }

    /// Stops after the batch of the first failing run.
    pub fn stop_at_first(mut self) -> Explore {
        self.stop_at_first = true;
        self
    }
}

/// What a search did and found.
#[derive(Clone, Debug, Default)]
pub struct Exploration {
    /// Runs made.
    pub runs: u64,
    /// Of which fresh seeds (the rest branched from the corpus).
    pub fresh: u64,
    /// The failing runs, in run order.
    pub failures: Vec<Found>,
    /// Distinct coverage points reached by all runs.
    pub points: usize,
    /// Runs kept because they reached new points.
    pub corpus: usize,
    /// Coverage points reached after each batch (the growth curve).
    pub growth: Vec<usize>,
    /// Wall-clock seconds the runs took (measured by the runner; never steers the search).
    pub elapsed_s: f64,
    /// Virtual seconds the runs simulated.
    pub simulated_s: f64,
}

/// A failing run of a search.
#[derive(Clone, Debug)]
pub struct Found {
    /// Its number in the search, from 1.
    pub run: u64,
    /// The run as a replay file: its seed and its whole setup.
    pub repro: Repro,
    /// What failed.
    pub violation: String,
    /// How it was made: `fresh` or what the branch changed, and when.
    pub how: String,
}

/// A run kept for reaching new points.
#[derive(Clone, Debug)]
struct Kept {
    seed: u64,
    setup: Setup,
    /// The points it reached first, with their virtual times.
    new: Vec<(u16, SimTime)>,
    sends: u64,
    picked: u32,
}

/// One run to make.
struct Candidate {
    seed: u64,
    setup: Setup,
    how: String,
    fresh: bool,
}

impl<P: Protocol> Experiment<P> {
    /// Runs a coverage-guided search (see the [module docs](self)).
    pub fn explore(&self, e: &Explore) -> Result<Exploration, ExperimentError> {
        self.setup.validate()?;
        let fresh_strategy = match self.strategy {
            Some(Strategy::Coverage) | None => Strategy::Portfolio,
            Some(s) => s,
        };
        let plain = Experiment {
            strategy: None,
            ..self.clone()
        };
        let mut rng = Pcg64::seed_from_u64(stable_hash(&(e.start, "explore")));
        // How many runs hit each point: rare points make their runs worth branching.
        let mut hits = vec![0u32; sim_core::coverage::MAP_SIZE];
        let mut corpus: Vec<Kept> = Vec::new();
        let mut out = Exploration::default();
        let mut next_fresh = e.start;
        // Runs kept in the last batches: while the corpus grows, branching pays; once coverage
        // stops growing, the search turns to fresh seeds (it never does much worse than the
        // portfolio it starts from).
        let mut recent: std::collections::VecDeque<u64> = std::collections::VecDeque::new();
        while out.runs < e.runs {
            let n = BATCH.min(e.runs - out.runs);
            let window: u64 = recent.iter().sum();
            let seen_runs = (recent.len() as u64 * BATCH).max(1);
            let branch_p = (0.1 + 2.0 * window as f64 / seen_runs as f64).min(0.5);
            let batch: Vec<Candidate> = (0..n)
                .map(|_| {
                    if corpus.is_empty() || !rng.random_bool(branch_p) {
                        let seed = next_fresh;
                        next_fresh = next_fresh.wrapping_add(1);
                        Candidate {
                            seed,
                            setup: fresh_strategy.setup(&self.setup, seed),
                            how: format!("fresh seed {seed} ({fresh_strategy})"),
                            fresh: true,
                        }
                    } else {
                        branch(&self.setup, &mut corpus, &hits, &mut rng)
                    }
                })
                .collect();
            let runner = Runner::new("explore").seed_set(Seeds::range(0..n));
            let runner = match e.jobs {
                Some(j) => runner.jobs(j),
                None => runner,
            };
            let report = runner.run(|k, _| {
                let c = &batch[k as usize];
                let exp = plain.clone().setup(c.setup.clone());
                let r = exp
                    .simulate_with(c.seed, |sim| sim.enable_coverage(KvMsg::<P::Message>::kind))
                    .map(|outcome| Run {
                        promised: exp.protocol.model(),
                        evaluation: exp.evaluate(&outcome),
                        outcome,
                    });
                SeedOutcome {
                    seed: k,
                    violation: None,
                    value: Some(r),
                    ..SeedOutcome::default()
                }
            });
            out.elapsed_s += report.elapsed_s;
            let kept_before = corpus.len();
            for (k, o) in report.outcomes.into_iter().enumerate() {
                let c = &batch[k];
                out.runs += 1;
                out.fresh += u64::from(c.fresh);
                let run = match o.value {
                    Some(r) => r?,
                    // The run's own code panicked outside the simulation (a checker): a failure.
                    None => {
                        out.failures.push(found(
                            self,
                            c,
                            out.runs,
                            o.violation.unwrap_or_default(),
                        ));
                        continue;
                    }
                };
                let mut new = Vec::new();
                for &(i, t) in run
                    .outcome
                    .coverage
                    .as_ref()
                    .map_or(&[][..], |c| c.points())
                {
                    let h = &mut hits[usize::from(i)];
                    if *h == 0 {
                        new.push((i, t));
                        out.points += 1;
                    }
                    *h = h.saturating_add(1);
                }
                out.simulated_s += run.outcome.summary.end_time.as_secs_f64();
                if let Some(v) = run.violation() {
                    out.failures.push(found(self, c, out.runs, v));
                    continue;
                }
                if !new.is_empty() {
                    let mut setup = c.setup.clone();
                    setup.nemesis = Nemesis::Schedule(run.outcome.schedule.clone());
                    corpus.push(Kept {
                        seed: c.seed,
                        setup,
                        new,
                        sends: run.outcome.summary.counters.sent,
                        picked: 0,
                    });
                }
            }
            out.growth.push(out.points);
            recent.push_back((corpus.len() - kept_before) as u64);
            if recent.len() > 4 {
                recent.pop_front();
            }
            if e.stop_at_first && !out.failures.is_empty() {
                break;
            }
        }
        out.corpus = corpus.len();
        Ok(out)
    }
}

fn found<P: Protocol>(exp: &Experiment<P>, c: &Candidate, run: u64, violation: String) -> Found {
    Found {
        run,
        repro: Repro {
            protocol: exp.protocol.name().to_string(),
            bug: None,
            seed: c.seed,
            setup: c.setup.clone(),
            violation: Some(violation.clone()),
        },
        violation,
        how: c.how.clone(),
    }
}

/// A branch of a corpus run: its prefix up to a moment, then something new.
fn branch(base: &Setup, corpus: &mut [Kept], hits: &[u32], rng: &mut Pcg64) -> Candidate {
    // How rare a point is: 1 / the runs that hit it.
    let rarity = |i: u16| 1.0 / f64::from(hits[usize::from(i)].max(1));
    // Runs that reached rarer states first, and were branched less, are picked more often.
    let weight =
        |k: &Kept| k.new.iter().map(|&(i, _)| rarity(i)).sum::<f64>() / f64::from(1 + k.picked);
    let total: f64 = corpus.iter().map(weight).sum();
    let mut x = rng.random_range(0.0..total.max(f64::MIN_POSITIVE));
    let mut pick = corpus.len() - 1;
    for (i, k) in corpus.iter().enumerate() {
        x -= weight(k);
        if x <= 0.0 {
            pick = i;
            break;
        }
    }
    let parent = &mut corpus[pick];
    parent.picked += 1;
    let (start, end) = (
        base.fault_start().as_nanos() / 1_000_000,
        base.fault_end().as_nanos() / 1_000_000,
    );
    // Around the moment it reached a state first (rarer states more often), or anywhere in
    // the fault phase.
    let t = if rng.random_bool(0.7) {
        let total: f64 = parent.new.iter().map(|&(i, _)| rarity(i)).sum();
        let mut x = rng.random_range(0.0..total.max(f64::MIN_POSITIVE));
        let mut at = parent.new[parent.new.len() - 1].1;
        for &(i, t) in &parent.new {
            x -= rarity(i);
            if x <= 0.0 {
                at = t;
                break;
            }
        }
        let ms = at.as_nanos() / 1_000_000;
        (ms + rng.random_range(0..=500)).saturating_sub(300)
    } else {
        rng.random_range(start..end.max(start + 1))
    };
    let t = t.clamp(start, end.saturating_sub(1).max(start));
    let mut setup = parent.setup.clone();
    // The parent's faults (kept runs hold their installed schedule).
    let mut entries = match &setup.nemesis {
        Nemesis::Schedule(s) => s.entries.clone(),
        _ => Vec::new(),
    };
    let how = match rng.random_range(0..3) {
        // Another strategy's faults from t on.
        0 => {
            let donor = Strategy::PER_SEED[rng.random_range(0..Strategy::PER_SEED.len())];
            let donor_seed = rng.random::<u64>();
            let d = donor.setup(base, donor_seed);
            let mut drng = Pcg64::seed_from_u64(stable_hash(&(donor_seed, "branch")));
            let suffix = d.schedule(&mut drng).map(|s| s.entries).unwrap_or_default();
            entries.retain(|e| e.at_ms < t);
            entries.extend(suffix.into_iter().filter(|e| e.at_ms >= t));
            setup.nemesis = Nemesis::Schedule(Schedule { entries });
            format!("{donor}'s faults from {:.3} s", t as f64 / 1e3)
        }
        // One node cut off, crashed or paused right at t, the rest of the schedule kept.
        1 => {
            let node = NodeId(rng.random_range(0..base.replicas));
            let lasts = rng.random_range(100..1_500u64);
            let until = (t + lasts).min(end);
            let (on, off, what) = match rng.random_range(0..3) {
                0 => (
                    Fault::Partition(PartitionSpec::Isolate { node }),
                    Fault::Heal,
                    "isolated",
                ),
                1 => (Fault::Crash { node }, Fault::Restart { node }, "crashed"),
                _ => (Fault::Pause { node }, Fault::Resume { node }, "paused"),
            };
            entries.push(Entry {
                at_ms: t,
                fault: on,
            });
            entries.push(Entry {
                at_ms: until,
                fault: off,
            });
            entries.sort_by_key(|e| e.at_ms);
            setup.nemesis = Nemesis::Schedule(Schedule { entries });
            format!("{node} {what} at {:.3} s for {lasts} ms", t as f64 / 1e3)
        }
        // One message delayed far beyond normal.
        _ => {
            let send = rng.random_range(0..parent.sends.max(1));
            let ms = rng.random_range(200.0..3_000.0);
            setup.delays.push(SendDelay { send, ms });
            format!("send #{send} delayed {ms:.0} ms")
        }
    };
    Candidate {
        seed: parent.seed,
        setup,
        how: format!("branch of seed {}: {how}", parent.seed),
        fresh: false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::linearizable::Linearizable;

    fn small(bug: bool) -> Experiment<Linearizable> {
        Experiment::new(Linearizable {
            bug,
            ..Linearizable::default()
        })
        .replicas(3)
        .clients(4)
        .phases(
            Duration::from_secs(1),
            Duration::from_secs(4),
            Duration::from_secs(1),
        )
        .nemesis(Nemesis::standard())
    }

    #[test]
    fn a_search_is_a_function_of_its_start_whatever_the_threads() {
        let exp = small(true);
        let search = |jobs| {
            let e = Explore {
                jobs: Some(jobs),
                ..Explore::new(5, 24)
            };
            exp.explore(&e).expect("runs")
        };
        let (one, two) = (search(1), search(2));
        assert_eq!(one.growth, two.growth);
        assert_eq!(
            (one.points, one.corpus, one.fresh),
            (two.points, two.corpus, two.fresh)
        );
        let runs = |x: &Exploration| {
            x.failures
                .iter()
                .map(|f| (f.run, f.how.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(runs(&one), runs(&two));
        assert!(one.points > 0 && one.corpus > 0, "coverage is recorded");
        assert!(one.fresh < one.runs, "some runs are branches");
        // Every failure replays from its file, the same way.
        for f in &one.failures {
            let again = exp.replay(&f.repro).expect("replays");
            assert_eq!(
                again.violation().as_deref(),
                Some(f.violation.as_str()),
                "{}",
                f.how
            );
        }
    }

    #[test]
    fn recording_coverage_does_not_change_the_run() {
        let exp = small(false).strategy(Strategy::Isolation).materialize(3);
        let plain = exp.simulate(3, None).expect("runs");
        let covered = exp
            .simulate_with(3, |sim| {
                sim.enable_coverage(KvMsg::<<Linearizable as Protocol>::Message>::kind)
            })
            .expect("runs");
        assert_eq!(plain.summary.trace_hash, covered.summary.trace_hash);
        assert!(plain.coverage.is_none());
        let points = covered.coverage.expect("recorded").points().len();
        assert!(points > 50, "edges and Raft's own points: {points}");
    }

    #[test]
    fn a_branch_is_its_parent_up_to_the_branch_point() {
        let base = small(false).setup;
        let exp = small(false);
        let parent_seed = 11;
        let setup = Strategy::Random.setup(&base, parent_seed);
        let first = exp
            .clone()
            .setup(setup.clone())
            .run(parent_seed)
            .expect("runs");
        let mut kept_setup = setup.clone();
        kept_setup.nemesis = Nemesis::Schedule(first.outcome.schedule.clone());
        let points: Vec<(u16, SimTime)> = first
            .outcome
            .coverage
            .clone()
            .map(|c| c.points().to_vec())
            .unwrap_or_else(|| vec![(1, SimTime::from_millis(2_500))]);
        let mut corpus = vec![Kept {
            seed: parent_seed,
            setup: kept_setup,
            new: points,
            sends: first.outcome.summary.counters.sent,
            picked: 0,
        }];
        let hits = vec![1u32; sim_core::coverage::MAP_SIZE];
        let mut rng = Pcg64::seed_from_u64(1);
        for _ in 0..12 {
            let c = branch(&base, &mut corpus, &hits, &mut rng);
            assert_eq!(c.seed, parent_seed);
            assert!(c.setup.validate().is_ok(), "{}", c.how);
            // The earliest moment the child can differ: its first fault or delayed send not
            // in the parent.
            let child = exp
                .clone()
                .setup(c.setup.clone())
                .run(c.seed)
                .expect("runs");
            let sched = |r: &Run| r.outcome.schedule.entries.clone();
            let (p, q) = (sched(&first), sched(&child));
            let common = p.iter().zip(&q).take_while(|(a, b)| a == b).count();
            let t_ms = q
                .get(common)
                .map_or(u64::MAX, |e| e.at_ms)
                .min(p.get(common).map_or(u64::MAX, |e| e.at_ms));
            if !c.setup.delays.is_empty() {
                continue; // a delayed send: the prefix is the sends before it
            }
            let before = |r: &Run| {
                r.outcome
                    .history
                    .operations()
                    .expect("well formed")
                    .into_iter()
                    .filter(|o| {
                        o.complete_time
                            .is_some_and(|t| t.as_nanos() < t_ms * 1_000_000)
                    })
                    .map(|o| {
                        format!(
                            "{:?} {:?} {:?} {:?}",
                            o.node, o.op, o.outcome, o.invoke_time
                        )
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                before(&first),
                before(&child),
                "{}: the same up to {t_ms} ms",
                c.how
            );
        }
    }
}
