//! Link configuration: latency, loss, duplication and ordering of one directed link, the
//! network-wide configuration, and rules that override it for chosen links.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::error::{check_node, check_probability, NetError};
use crate::latency::Latency;

/// How one directed link behaves.
///
/// The default is uniform 1–10 ms latency, no loss, no duplication, reordering allowed (a later
/// send may arrive first).
///
/// ```
/// use sim_net::{LinkConfig, Latency};
/// let c = LinkConfig { loss: 0.01, duplicate: 0.01, ..LinkConfig::default() };
/// assert!(c.validate("default").is_ok());
/// assert_eq!(c.latency, Latency::uniform_ms(1.0, 10.0));
/// assert!(!c.fifo);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkConfig {
    /// The latency distribution.
    pub latency: Latency,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a (not lost) message is delivered twice.
    pub duplicate: f64,
    /// Deliver in send order (a TCP-like link). Default: reordering allowed.
    pub fifo: bool,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Latency::default(),
            loss: 0.0,
            duplicate: 0.0,
            fifo: false,
        }
    }
}

impl LinkConfig {
    /// Checks every field; errors name `field.<name>`.
    pub fn validate(&self, field: &str) -> Result<(), NetError> {
        self.latency.validate(&format!("{field}.latency"))?;
        check_probability(&format!("{field}.loss"), self.loss)?;
        check_probability(&format!("{field}.duplicate"), self.duplicate)
    }

    /// This configuration with `patch` applied.
    pub fn patched(&self, patch: &LinkPatch) -> LinkConfig {
        LinkConfig {
            latency: patch
                .latency
                .clone()
                .unwrap_or_else(|| self.latency.clone()),
            loss: patch.loss.unwrap_or(self.loss),
            duplicate: patch.duplicate.unwrap_or(self.duplicate),
            fifo: patch.fifo.unwrap_or(self.fifo),
        }
    }
}

/// A partial [`LinkConfig`]: the fields that are set replace the link's.
///
/// ```
/// use sim_net::{LinkConfig, LinkPatch};
/// let slow = LinkPatch { loss: Some(0.2), ..LinkPatch::default() };
/// assert_eq!(LinkConfig::default().patched(&slow).loss, 0.2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkPatch {
    /// New latency distribution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// New loss probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    /// New duplication probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<f64>,
    /// New ordering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fifo: Option<bool>,
}

impl LinkPatch {
    /// Checks the fields that are set; errors name `field.<name>`.
    pub fn validate(&self, field: &str) -> Result<(), NetError> {
        if let Some(l) = &self.latency {
            l.validate(&format!("{field}.latency"))?;
        }
        if let Some(p) = self.loss {
            check_probability(&format!("{field}.loss"), p)?;
        }
        if let Some(p) = self.duplicate {
            check_probability(&format!("{field}.duplicate"), p)?;
        }
        Ok(())
    }
}

/// A set of directed links: every link from a node of `from` to a node of `to`
/// (a missing side means every node). Self-links are never included.
///
/// ```
/// use sim_net::Links;
/// use sim_core::NodeId;
/// let l = Links::between([NodeId(0)], [NodeId(1), NodeId(2)]);
/// assert!(l.contains(NodeId(0), NodeId(2)));
/// assert!(!l.contains(NodeId(2), NodeId(0)));
/// assert!(Links::all().contains(NodeId(3), NodeId(1)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Links {
    /// Senders (all nodes if absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<BTreeSet<NodeId>>,
    /// Receivers (all nodes if absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<BTreeSet<NodeId>>,
}

impl Links {
    /// Every link.
    pub fn all() -> Self {
        Links::default()
    }

    /// The links from any node of `from` to any node of `to`.
    pub fn between(
        from: impl IntoIterator<Item = NodeId>,
        to: impl IntoIterator<Item = NodeId>,
    ) -> Self {
        Links {
            from: Some(from.into_iter().collect()),
            to: Some(to.into_iter().collect()),
        }
    }

    /// True if `from -> to` is in the set.
    pub fn contains(&self, from: NodeId, to: NodeId) -> bool {
        from != to
            && self.from.as_ref().is_none_or(|s| s.contains(&from))
            && self.to.as_ref().is_none_or(|s| s.contains(&to))
    }

    /// Checks that every named node exists.
    pub fn validate(&self, field: &str, nodes: usize) -> Result<(), NetError> {
        for (side, set) in [("from", &self.from), ("to", &self.to)] {
            for &n in set.iter().flatten() {
                check_node(&format!("{field}.{side}"), n, nodes)?;
            }
        }
        Ok(())
    }
}

/// A per-link override: `patch` applies to every link of `links`.
///
/// In JSON: `{"links": {"from": [0], "to": [3]}, "patch": {"loss": 0.5}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkRule {
    /// Which links.
    pub links: Links,
    /// What changes.
    pub patch: LinkPatch,
}

/// The network's configuration: node count, default link, and per-link overrides (later rules
/// win).
///
/// ```
/// use sim_net::{NetConfig, LinkConfig, LinkPatch, LinkRule, Links, Latency};
/// use sim_core::NodeId;
/// let cfg = NetConfig::new(3)
///     .with_default(LinkConfig { loss: 0.01, ..LinkConfig::default() })
///     .with_rule(Links::between([NodeId(0)], [NodeId(2)]),
///                LinkPatch { latency: Some(Latency::constant_ms(50.0)), ..LinkPatch::default() });
/// assert!(cfg.validate().is_ok());
/// assert_eq!(cfg.link(NodeId(0), NodeId(2)).latency, Latency::constant_ms(50.0));
/// assert_eq!(cfg.link(NodeId(2), NodeId(0)).latency, Latency::uniform_ms(1.0, 10.0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetConfig {
    /// Number of nodes (`NodeId(0..nodes)`), used to validate partitions and rules. The
    /// network grows if a message names a higher node.
    pub nodes: usize,
    /// Every link's configuration unless a rule overrides it.
    pub default: LinkConfig,
    /// Overrides, applied in order.
    pub rules: Vec<LinkRule>,
}

impl NetConfig {
    /// `nodes` nodes with default links.
    pub fn new(nodes: usize) -> Self {
        NetConfig {
            nodes,
            ..NetConfig::default()
        }
    }

    /// Replaces the default link.
    pub fn with_default(mut self, default: LinkConfig) -> Self {
        self.default = default;
        self
    }

    /// Adds an override rule.
    pub fn with_rule(mut self, links: Links, patch: LinkPatch) -> Self {
        self.rules.push(LinkRule { links, patch });
        self
    }

    /// Checks every field; errors name the field (`default.loss`, `rules[1].links.to`, ...).
    pub fn validate(&self) -> Result<(), NetError> {
        self.default.validate("default")?;
        for (i, r) in self.rules.iter().enumerate() {
            r.links.validate(&format!("rules[{i}].links"), self.nodes)?;
            r.patch.validate(&format!("rules[{i}].patch"))?;
        }
        Ok(())
    }

    /// The configuration of link `from -> to` after every rule.
    pub fn link(&self, from: NodeId, to: NodeId) -> LinkConfig {
        let mut c = self.default.clone();
        for r in &self.rules {
            if r.links.contains(from, to) {
                c = c.patched(&r.patch);
            }
        }
        c
    }
}
