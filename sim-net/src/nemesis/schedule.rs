//! Schedules: faults at virtual times, serializable, installed into a simulation.

use serde::{Deserialize, Serialize};
use sim_core::{Payload, Sim, SimTime};

use crate::error::NetError;
use crate::nemesis::fault::Fault;

/// One scheduled fault. In JSON the fault's fields sit beside the time:
/// `{"at_ms": 1500, "fault": "crash", "node": 2}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When, in milliseconds of virtual time since the start.
    pub at_ms: u64,
    /// What.
    #[serde(flatten)]
    pub fault: Fault,
}

impl Entry {
    /// The entry's virtual time, or an error naming `at_ms` if it does not fit the clock.
    pub fn checked_at(&self) -> Result<SimTime, NetError> {
        NetError::check_millis("at_ms", self.at_ms)
    }

    /// The entry's virtual time.
    ///
    /// # Panics
    ///
    /// If `at_ms` exceeds [`SimTime::MAX_MILLIS`]; [`Schedule::from_json`] and
    /// [`Schedule::validate`] reject such entries first.
    pub fn at(&self) -> SimTime {
        SimTime::from_millis(self.at_ms)
    }
}

/// A fault schedule. Entries at the same time are applied in list order.
///
/// ```
/// use sim_net::{Fault, PartitionSpec, Schedule, FaultyNetwork, NetConfig};
/// use sim_core::{NodeId, Sim};
///
/// let s = Schedule::new()
///     .at(1_000, Fault::Partition(PartitionSpec::Isolate { node: NodeId(0) }))
///     .at(3_000, Fault::Heal);
/// let json = s.to_json();
/// assert_eq!(Schedule::from_json(&json).unwrap(), s);
///
/// let mut sim: Sim<u8> = Sim::with_network(1, FaultyNetwork::new(NetConfig::new(0)).unwrap());
/// // No node 0 yet: rejected, naming the entry and field.
/// let err = s.install(&mut sim).unwrap_err();
/// assert_eq!(err.field(), "entries[0].node");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// The faults, in any order (they run in time order).
    pub entries: Vec<Entry>,
}

impl Schedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Schedule::default()
    }

    /// Adds `fault` at `at_ms` milliseconds.
    pub fn at(mut self, at_ms: u64, fault: Fault) -> Self {
        self.push(at_ms, fault);
        self
    }

    /// Adds `fault` at `at_ms` milliseconds.
    pub fn push(&mut self, at_ms: u64, fault: Fault) {
        self.entries.push(Entry { at_ms, fault });
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The time of the last entry.
    pub fn end_ms(&self) -> u64 {
        self.entries.iter().map(|e| e.at_ms).max().unwrap_or(0)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // A schedule is plain data: serializing it cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses JSON written by [`Schedule::to_json`] or by hand, and checks that every `at_ms`
    /// fits the virtual clock (the rest, node ids included, is checked by
    /// [`Schedule::validate`], which [`Schedule::install`] runs).
    ///
    /// ```
    /// use sim_net::{NetError, Schedule};
    /// let huge = r#"{"entries": [{"at_ms": 18446744073709551615, "fault": "heal"}]}"#;
    /// let err = Schedule::from_json(huge).unwrap_err();
    /// assert_eq!(err.field(), "entries[0].at_ms");
    /// assert!(matches!(err, NetError::TimeOverflow { .. }));
    /// ```
    pub fn from_json(s: &str) -> Result<Self, NetError> {
        let s: Schedule =
            serde_json::from_str(s).map_err(|e| NetError::invalid("schedule", e.to_string()))?;
        for (i, e) in s.entries.iter().enumerate() {
            NetError::check_millis(format!("entries[{i}].at_ms"), e.at_ms)?;
        }
        Ok(s)
    }

    /// Checks every entry against a simulation of `nodes` nodes; errors name
    /// `entries[i].<field>`.
    pub fn validate(&self, nodes: usize) -> Result<(), NetError> {
        for (i, e) in self.entries.iter().enumerate() {
            NetError::check_millis(format!("entries[{i}].at_ms"), e.at_ms)?;
            e.fault.validate(&format!("entries[{i}]"), nodes)?;
        }
        Ok(())
    }

    /// Validates the schedule against `sim`, then schedules one control event per entry
    /// (label `nemesis`) that applies its fault. A fault that fails when applied (say,
    /// restarting a node the test removed) is logged and recorded as a failed fault; it does
    /// not stop the run.
    pub fn install<M: Payload>(&self, sim: &mut Sim<M>) -> Result<(), NetError> {
        self.validate(sim.node_count())?;
        if self.entries.iter().any(|e| e.fault.needs_network()) {
            crate::net::with_net(sim, |_, _, _| ())?;
        }
        for e in &self.entries {
            let fault = e.fault.clone();
            sim.schedule(e.at(), "nemesis", move |sim| {
                if let Err(err) = fault.apply(sim) {
                    tracing::warn!(target: "actsim::fault", "fault {fault} failed: {err}");
                    sim.record_fault(fault.node(), &format!("failed {fault}: {err}"));
                }
            });
        }
        Ok(())
    }
}
