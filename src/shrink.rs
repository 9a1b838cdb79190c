//! Shrinking a failing run: delta-debug its fault schedule and its workload length while it
//! still fails, so what remains is the smallest story that still shows the bug.

use std::time::Duration;

use models::cluster::{Experiment, Nemesis};
use serde::{Deserialize, Serialize};
use sim_net::Schedule;

/// A reproducible run: a seed and an experiment whose faults are an explicit schedule.
/// Saved as JSON by `actsim shrink`, run by `actsim replay`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Repro {
    /// The seed (workload, network and protocol randomness).
    pub seed: u64,
    /// The experiment, with `nemesis` = the schedule to replay.
    pub experiment: Experiment,
    /// What failed, when it was saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<String>,
}

/// The result of shrinking.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smallest failing run found.
    pub repro: Repro,
    /// Fault entries before and after.
    pub faults_before: usize,
    /// See `faults_before`.
    pub faults_after: usize,
    /// Fault-phase length (workload length) before and after.
    pub faulty_before: Duration,
    /// See `faulty_before`.
    pub faulty_after: Duration,
    /// Runs tried.
    pub runs: usize,
}

/// Shrinks `exp` at `seed` while `fails(experiment, seed)` returns a violation. `schedule` is
/// the schedule the failing run installed (from its `Outcome`). Returns `None` if the run with
/// that explicit schedule does not fail in the first place.
pub fn shrink(
    exp: &Experiment,
    seed: u64,
    schedule: Schedule,
    mut fails: impl FnMut(&Experiment, u64) -> Option<String>,
) -> Option<Shrunk> {
    let mut runs = 0;
    let mut try_run = |e: &Experiment| {
        runs += 1;
        fails(e, seed)
    };
    let with = |entries: &[sim_net::Entry], faulty: Duration| {
        let mut e = exp.clone();
        e.nemesis = Nemesis::Schedule(Schedule {
            entries: entries.to_vec(),
        });
        e.faulty = faulty;
        e
    };
    let mut entries = schedule.entries.clone();
    let mut faulty = exp.faulty;
    let mut violation = try_run(&with(&entries, faulty))?;
    let faults_before = entries.len();

    // ddmin over the fault entries: try removing chunks of decreasing size while it still fails.
    let mut chunk = entries.len().div_ceil(2).max(1);
    while !entries.is_empty() {
        let mut removed_any = false;
        let mut start = 0;
        while start < entries.len() {
            let end = (start + chunk).min(entries.len());
            let mut candidate = entries.clone();
            candidate.drain(start..end);
            if let Some(v) = try_run(&with(&candidate, faulty)) {
                entries = candidate;
                violation = v;
                removed_any = true;
            } else {
                start = end;
            }
        }
        if !removed_any {
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        chunk = chunk.min(entries.len().max(1));
    }

    // Shorten the workload: the fault phase (clients stop at its end) by halving steps, never
    // cutting before the last remaining fault.
    let healthy = exp.healthy.as_millis() as u64;
    let floor = entries
        .iter()
        .map(|e| Duration::from_millis((e.at_ms + 1).saturating_sub(healthy)))
        .max()
        .unwrap_or_default();
    let mut step = faulty / 2;
    while step >= Duration::from_millis(50) {
        // Whole milliseconds keep the written file readable.
        let shorter =
            Duration::from_millis(faulty.saturating_sub(step).max(floor).as_millis() as u64);
        if shorter < faulty {
            if let Some(v) = try_run(&with(&entries, shorter)) {
                faulty = shorter;
                violation = v;
                continue;
            }
        }
        step /= 2;
    }

    Some(Shrunk {
        faults_after: entries.len(),
        repro: Repro {
            seed,
            experiment: with(&entries, faulty),
            violation: Some(violation),
        },
        faults_before,
        faulty_before: exp.faulty,
        faulty_after: faulty,
        runs,
    })
}
