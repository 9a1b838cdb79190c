//! Shrinking a failing run: delta-debug its fault schedule and its workload length while it
//! still fails the same way, so what remains is the smallest story that still shows the bug.
//!
//! The experiment's structure (the heal at the end of the fault phase, the quiet phase, the
//! final reads) is not part of the schedule, so shrinking cannot remove it: a shrunk run
//! fails for the reason the original did, never because it was left unhealed.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sim_net::Schedule;

use crate::check::Model;
use crate::experiment::{Experiment, ExperimentError, Nemesis, Run, Setup};
use crate::protocol::Protocol;

/// A reproducible run: a protocol's name, a seed and a setup whose faults are an explicit
/// schedule. Written by shrinking, run by `actsim replay` or `ACTSIM_REPLAY=file cargo test`.
///
/// ```
/// use models::experiment::Setup;
/// use models::shrink::Repro;
/// let r = Repro { protocol: "eventual".into(), bug: None, seed: 3, setup: Setup::default(), violation: None };
/// let back: Repro = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
/// assert_eq!(back.seed, 3);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Repro {
    /// The protocol's name.
    pub protocol: String,
    /// The planted bug that was on, if any (command-line protocols only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bug: Option<String>,
    /// The seed (workload, network and protocol randomness).
    pub seed: u64,
    /// The setup, with `nemesis` = the schedule to replay.
    pub setup: Setup,
    /// What failed, when it was saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<String>,
}

/// A replay file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReproError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a replay file.
    #[error("{path}: line {line}, column {column}: {message}")]
    Json {
        /// The file.
        path: String,
        /// Where.
        line: usize,
        /// Where.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

impl Repro {
    /// Reads a replay file.
    pub fn read(path: &Path) -> Result<Repro, ReproError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ReproError::Io {
            path: name.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| ReproError::Json {
            path: name,
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }

    /// Writes the replay file (pretty JSON).
    pub fn write(&self, path: &Path) -> Result<(), ReproError> {
        let io = |source| ReproError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json = serde_json::to_string_pretty(self).map_err(|e| io(e.into()))?;
        std::fs::write(path, json + "\n").map_err(io)
    }

    /// The story of what is left: faults with their times, and the fault phase's length.
    pub fn story(&self) -> String {
        let s = &self.setup;
        let mut out = String::new();
        if let Nemesis::Schedule(sched) = &s.nemesis {
            out.push_str(&format!(
                "{} faults in a {:.1} s fault phase (then heal, {:.1} s quiet, final reads):",
                sched.entries.len(),
                s.faulty.as_secs_f64(),
                s.quiet.as_secs_f64()
            ));
            for e in &sched.entries {
                out.push_str(&format!("\n  at {:>6} ms  {}", e.at_ms, e.fault));
            }
        }
        out
    }
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
/// that explicit schedule does not fail in the first place. [`Experiment::shrink`] calls it
/// with "the same model is still violated" as the predicate.
pub fn shrink<P: Protocol>(
    exp: &Experiment<P>,
    seed: u64,
    schedule: Schedule,
    mut fails: impl FnMut(&Experiment<P>, u64) -> Option<String>,
) -> Option<Shrunk> {
    let mut runs = 0;
    let mut try_run = |e: &Experiment<P>| {
        runs += 1;
        fails(e, seed)
    };
    let with = |entries: &[sim_net::Entry], faulty: Duration| {
        let mut e = exp.clone();
        e.setup.nemesis = Nemesis::Schedule(Schedule {
            entries: entries.to_vec(),
        });
        e.setup.faulty = faulty;
        e
    };
    let mut entries = schedule.entries.clone();
    let mut faulty = exp.setup.faulty;
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
    let healthy = exp.setup.healthy.as_millis() as u64;
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
            protocol: exp.protocol.name().to_string(),
            bug: None,
            setup: with(&entries, faulty).setup,
            violation: Some(violation),
        },
        faults_before,
        faulty_before: exp.setup.faulty,
        faulty_after: faulty,
        runs,
    })
}

impl<P: Protocol> Experiment<P> {
    /// Shrinks the failure of `seed`: the smallest schedule and fault phase found that still
    /// violate the same model. `Ok(None)` if the seed does not fail.
    pub fn shrink(&self, seed: u64) -> Result<Option<Shrunk>, ExperimentError> {
        let first = self.run(seed)?;
        let Some(model) = first_violated(&first) else {
            return Ok(None);
        };
        let exp = self.clone().checks([model]);
        let fails = |e: &Experiment<P>, seed: u64| {
            let run = e.run(seed).ok()?;
            if run.evaluation.error.is_some() && first.evaluation.error.is_none() {
                return None; // a different failure
            }
            run.evaluation.violation(model)
        };
        Ok(shrink(&exp, seed, first.outcome.schedule, fails))
    }

    /// Runs a replay file's seed and setup with this experiment's protocol and checks.
    pub fn replay(&self, repro: &Repro) -> Result<Run, ExperimentError> {
        self.clone().setup(repro.setup.clone()).run(repro.seed)
    }
}

/// The first checked model a run's protocol is failed for (its own or a weaker one).
pub fn first_violated(run: &Run) -> Option<Model> {
    let ev = &run.evaluation;
    ev.checks
        .keys()
        .copied()
        .filter(|&m| run.promised.implies(m))
        .find(|&m| ev.violation(m).is_some())
}
