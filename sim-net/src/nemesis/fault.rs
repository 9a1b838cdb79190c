//! One fault: what a nemesis does at one instant, and how it is applied to a simulation.

use std::fmt;

use serde::{Deserialize, Serialize};
use sim_core::{ClockModel, NodeId, NodeStatus, Payload, Sim};

use crate::error::{check_node, NetError};
use crate::link::{LinkPatch, Links};
use crate::net::with_net;
use crate::partition::PartitionSpec;

/// A fault, as written in a schedule. Tagged JSON, meant to be read and edited by people:
///
/// ```json
/// {"fault": "partition", "shape": "split", "groups": [[0, 1], [2, 3, 4]]}
/// {"fault": "crash", "node": 2}
/// {"fault": "clock", "node": 1, "offset_ms": -250.0, "drift_ppm": 500}
/// {"fault": "set_links", "links": {"from": [3]}, "patch": {"loss": 0.3}}
/// ```
///
/// ```
/// use sim_net::{Fault, PartitionSpec};
/// use sim_core::NodeId;
/// let f = Fault::Partition(PartitionSpec::Isolate { node: NodeId(2) });
/// let json = serde_json::to_string(&f).unwrap();
/// assert_eq!(json, r#"{"fault":"partition","shape":"isolate","node":2}"#);
/// assert_eq!(serde_json::from_str::<Fault>(&json).unwrap(), f);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// Replace the blocked links with this partition (messages on them are dropped).
    Partition(PartitionSpec),
    /// Unblock every link.
    Heal,
    /// Replace the clogged links (messages on them are held until unclogged).
    Clog(PartitionSpec),
    /// Unclog every link, releasing what was held.
    Unclog,
    /// Crash a node (volatile state lost, durable state kept).
    Crash {
        /// The node.
        node: NodeId,
    },
    /// Restart a node from its durable state (crashing it first if it runs).
    Restart {
        /// The node.
        node: NodeId,
    },
    /// Pause a node: its messages and timers wait.
    Pause {
        /// The node.
        node: NodeId,
    },
    /// Resume a paused node.
    Resume {
        /// The node.
        node: NodeId,
    },
    /// Set a node's clock: offset from true time (a jump) and drift rate.
    Clock {
        /// The node.
        node: NodeId,
        /// Offset in milliseconds (may be negative).
        #[serde(default)]
        offset_ms: f64,
        /// Drift in parts per million (positive: fast).
        #[serde(default)]
        drift_ppm: i32,
    },
    /// Change latency / loss / duplication / ordering of some links.
    SetLinks {
        /// Which links.
        #[serde(default)]
        links: Links,
        /// What changes.
        patch: LinkPatch,
    },
    /// Undo every [`Fault::SetLinks`]: links go back to the network's configuration.
    ResetLinks,
    /// Everything back to normal: heal, unclog, reset links, and for each of `nodes`: resume
    /// if paused, restart if down, reset the clock.
    HealAll {
        /// The nodes to bring back.
        nodes: Vec<NodeId>,
    },
}

impl Fault {
    /// The node a fault is about, if one.
    pub fn node(&self) -> Option<NodeId> {
        match *self {
            Fault::Crash { node }
            | Fault::Restart { node }
            | Fault::Pause { node }
            | Fault::Resume { node }
            | Fault::Clock { node, .. } => Some(node),
            _ => None,
        }
    }

    /// True if the fault acts on the network (and needs a [`FaultyNetwork`](crate::FaultyNetwork)).
    pub fn needs_network(&self) -> bool {
        matches!(
            self,
            Fault::Partition(_)
                | Fault::Heal
                | Fault::Clog(_)
                | Fault::Unclog
                | Fault::SetLinks { .. }
                | Fault::ResetLinks
                | Fault::HealAll { .. }
        )
    }

    /// Checks the fault against a simulation of `nodes` nodes; errors name `field.<name>`.
    pub fn validate(&self, field: &str, nodes: usize) -> Result<(), NetError> {
        match self {
            Fault::Partition(s) | Fault::Clog(s) => s.validate(field, nodes),
            Fault::Heal | Fault::Unclog | Fault::ResetLinks => Ok(()),
            Fault::Crash { node }
            | Fault::Restart { node }
            | Fault::Pause { node }
            | Fault::Resume { node } => check_node(&format!("{field}.node"), *node, nodes),
            Fault::Clock {
                node,
                offset_ms,
                drift_ppm,
            } => {
                check_node(&format!("{field}.node"), *node, nodes)?;
                if !offset_ms.is_finite() || offset_ms.abs() > 1e12 {
                    return Err(NetError::invalid(
                        format!("{field}.offset_ms"),
                        format!("{offset_ms} is not a usable offset"),
                    ));
                }
                if *drift_ppm <= -1_000_000 {
                    return Err(NetError::invalid(
                        format!("{field}.drift_ppm"),
                        format!("{drift_ppm} would stop or reverse the clock"),
                    ));
                }
                Ok(())
            }
            Fault::SetLinks { links, patch } => {
                links.validate(&format!("{field}.links"), nodes)?;
                patch.validate(&format!("{field}.patch"))
            }
            Fault::HealAll { nodes: list } => {
                for &n in list {
                    check_node(&format!("{field}.nodes"), n, nodes)?;
                }
                Ok(())
            }
        }
    }

    /// Applies the fault to `sim` now. Network faults are recorded in the trace and log with
    /// `Sim::record_fault`; node faults are recorded by the kernel itself.
    pub fn apply<M: Payload>(&self, sim: &mut Sim<M>) -> Result<(), NetError> {
        let n = sim.node_count();
        self.validate("fault", n)?;
        match self {
            Fault::Partition(spec) => {
                let p = spec.resolve("fault", n)?;
                with_net(sim, |net, now, _| net.set_partition(now, p))??;
            }
            Fault::Heal => with_net(sim, |net, now, _| net.heal(now))?,
            Fault::Clog(spec) => {
                let p = spec.resolve("fault", n)?;
                with_net(sim, |net, now, out| net.set_clogged(now, p, out))??;
            }
            Fault::Unclog => with_net(sim, |net, now, out| net.unclog(now, out))?,
            Fault::Crash { node } => sim.crash(*node)?,
            Fault::Restart { node } => sim.restart(*node)?,
            Fault::Pause { node } => sim.pause(*node)?,
            Fault::Resume { node } => sim.resume(*node)?,
            Fault::Clock {
                node,
                offset_ms,
                drift_ppm,
            } => sim.set_clock(
                *node,
                ClockModel {
                    offset_ns: (offset_ms * 1e6).round() as i64,
                    drift_ppm: *drift_ppm,
                },
            )?,
            Fault::SetLinks { links, patch } => {
                let (links, patch) = (links.clone(), patch.clone());
                with_net(sim, |net, _, _| net.patch_links(links, patch))??;
            }
            Fault::ResetLinks => with_net(sim, |net, _, _| net.reset_links())?,
            Fault::HealAll { nodes } => {
                with_net(sim, |net, now, out| {
                    net.heal(now);
                    net.unclog(now, out);
                    net.reset_links();
                })?;
                for &node in nodes {
                    match sim.status(node) {
                        Some(NodeStatus::Paused) => sim.resume(node)?,
                        Some(NodeStatus::Down) => sim.restart(node)?,
                        _ => {}
                    }
                    if sim.clock(node) != Some(ClockModel::default()) {
                        sim.set_clock(node, ClockModel::default())?;
                    }
                }
            }
        }
        if self.needs_network() {
            sim.record_fault(self.node(), &self.to_string());
        }
        Ok(())
    }
}

impl fmt::Display for Fault {
    /// The fault as one line of JSON (what the trace and the log show).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(self) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{self:?}"),
        }
    }
}
