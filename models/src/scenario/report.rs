//! Scenario results over many seeds: one [`Row`] per scenario and protocol, and the table.

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Scenario, ScenarioAvailability, ScenarioOutcome, Violation};

/// The first violating seed of a row, with its first violation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FirstViolation {
    /// The seed.
    pub seed: u64,
    /// How many violations that seed had.
    pub count: usize,
    /// The first of them.
    pub violation: Violation,
}

/// Staleness windows of acknowledged `dns` updates, over all seeds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staleness {
    /// Acknowledged updates measured.
    pub updates: usize,
    /// Of those, updates some replica never answered by the end of the run.
    pub never: usize,
    /// Median window (of the updates that did reach every replica).
    pub p50: Option<Duration>,
    /// 99th percentile.
    pub p99: Option<Duration>,
    /// Longest.
    pub max: Option<Duration>,
}

impl Staleness {
    /// Summarizes windows (`None` = never reached every replica).
    pub fn of(windows: &[Option<Duration>]) -> Staleness {
        let mut d: Vec<Duration> = windows.iter().flatten().copied().collect();
        d.sort_unstable();
        let pct = |p: f64| {
            if d.is_empty() {
                return None;
            }
            let rank = ((p * d.len() as f64).ceil() as usize).clamp(1, d.len());
            Some(d[rank - 1])
        };
        Staleness {
            updates: windows.len(),
            never: windows.iter().filter(|w| w.is_none()).count(),
            p50: pct(0.5),
            p99: pct(0.99),
            max: d.last().copied(),
        }
    }
}

/// One scenario on one protocol, over seeds.
///
/// ```
/// use models::scenario::report::Row;
/// use models::scenario::Scenario;
/// let row = Row::new(Scenario::Feed, "causal");
/// assert_eq!(row.verdict(), "0/0");
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// The scenario.
    pub scenario: Scenario,
    /// The protocol.
    pub protocol: String,
    /// Seeds run.
    pub seeds: usize,
    /// Seeds with at least one violation, in the order added.
    pub violating_seeds: Vec<u64>,
    /// Violations in all seeds.
    pub violations: usize,
    /// The first violating seed (lowest seed added first wins).
    pub first: Option<FirstViolation>,
    /// Availability during the partition, summed over seeds.
    pub availability: ScenarioAvailability,
    /// `dns`: the staleness windows.
    pub staleness: Option<Staleness>,
    /// Seeds whose run ended in an error (an actor panic), with the error.
    pub errors: Vec<(u64, String)>,
    #[serde(skip)]
    windows: Vec<Option<Duration>>,
}

impl Row {
    /// An empty row.
    pub fn new(scenario: Scenario, protocol: impl Into<String>) -> Self {
        Row {
            scenario,
            protocol: protocol.into(),
            seeds: 0,
            violating_seeds: Vec::new(),
            violations: 0,
            first: None,
            availability: ScenarioAvailability::default(),
            staleness: None,
            errors: Vec::new(),
            windows: Vec::new(),
        }
    }

    /// Adds one seed's run (add seeds in increasing order for a meaningful `first`).
    pub fn add(&mut self, seed: u64, o: &ScenarioOutcome) {
        self.seeds += 1;
        if let Some(e) = &o.outcome.error {
            self.errors.push((seed, e.clone()));
        }
        if let Some(v) = o.violations.first() {
            self.violating_seeds.push(seed);
            self.violations += o.violations.len();
            if self.first.is_none() {
                self.first = Some(FirstViolation {
                    seed,
                    count: o.violations.len(),
                    violation: v.clone(),
                });
            }
        }
        self.availability.majority.add(&o.availability.majority);
        self.availability.minority.add(&o.availability.minority);
        if o.scenario == Scenario::Dns {
            self.windows.extend(o.staleness.iter().copied());
            self.staleness = Some(Staleness::of(&self.windows));
        }
    }

    /// "violating seeds / seeds run".
    pub fn verdict(&self) -> String {
        format!("{}/{}", self.violating_seeds.len(), self.seeds)
    }
}

fn pct(ok: usize, all: usize) -> String {
    if all == 0 {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * ok as f64 / all as f64)
    }
}

fn dur(d: Option<Duration>) -> String {
    match d {
        None => "-".into(),
        Some(d) if d < Duration::from_secs(1) => format!("{}ms", d.as_millis()),
        Some(d) => format!("{:.2}s", d.as_secs_f64()),
    }
}

/// The table: scenario x protocol -> violating seeds / seeds, the first violating seed,
/// availability of reads and writes on each side during the partition, and for `dns` the
/// staleness window; then, per violating row, its first violation and `reproduce(row, seed)`.
pub fn table(rows: &[Row], reproduce: impl Fn(&Row, u64) -> String) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9} {:<13} {:>10} {:>6}   {:>15}   {:>15}   staleness p50 / p99 / max",
        "scenario", "protocol", "violations", "first", "majority r / w", "minority r / w",
    );
    for r in rows {
        let a = &r.availability;
        let side = |s: &super::SideCounts| {
            format!(
                "{:>5} / {:>5}",
                pct(s.reads_ok, s.reads),
                pct(s.writes_ok, s.writes)
            )
        };
        let stale = r.staleness.map_or(String::new(), |s| {
            let mut t = format!("{} / {} / {}", dur(s.p50), dur(s.p99), dur(s.max));
            if s.never > 0 {
                let _ = write!(t, " ({} never)", s.never);
            }
            t
        });
        let line = format!(
            "{:<9} {:<13} {:>10} {:>6}   {:>15}   {:>15}   {}",
            r.scenario.name(),
            r.protocol,
            r.verdict(),
            r.first.as_ref().map_or("-".into(), |f| f.seed.to_string()),
            side(&a.majority),
            side(&a.minority),
            stale
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for r in rows {
        if let Some(f) = &r.first {
            let _ = writeln!(
                out,
                "\n{} on {}: seed {} ({} violations), first {}\n  reproduce: {}",
                r.scenario,
                r.protocol,
                f.seed,
                f.count,
                f.violation,
                reproduce(r, f.seed)
            );
        }
        for (seed, e) in &r.errors {
            let _ = writeln!(
                out,
                "\n{} on {}: seed {seed} ended early: {e}\n  reproduce: {}",
                r.scenario,
                r.protocol,
                reproduce(r, *seed)
            );
        }
    }
    out
}
