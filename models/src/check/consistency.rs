//! The consistency models actsim checks histories against.
//!
//! What [`Model::implies`] promises is about the checks *as implemented*: if `a.implies(b)`,
//! every history [`check`](super::check) judges valid for `a` is also judged valid (or, for a
//! history the weaker checker cannot interpret, unknown) for `b`:
//!
//! - linearizable ⇒ sequential: a linearization respects process order;
//! - sequential ⇒ causal+ (CCv): a legal total order is an arbitration order that explains
//!   every read, so none of the five bad patterns of Bouajjani et al. can occur;
//! - causal+ ⇒ causal (CC): CC's bad patterns are four of CCv's five;
//! - causal ⇒ sessions: each session-guarantee violation the sessions checker reports is a
//!   `WriteCOInitRead` or `WriteCORead` pattern.
//!
//! Eventual consistency is implied by none of them: its check also judges the replicas' final
//! reads (convergence after the heal, no lost acknowledged writes), which the other checks never
//! see. A linearizable history can still end with two replicas that disagree.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A consistency model the runs are checked against, strongest first.
///
/// ```
/// use models::check::Model;
/// let m: Model = "ccv".parse().unwrap();
/// assert_eq!(m, Model::CausalPlus);
/// assert_eq!(m.name(), "causal+");
/// assert!(Model::Sequential.implies(Model::Causal));
/// assert!(!Model::Linearizable.implies(Model::Eventual));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Linearizability (per key; P-compositional).
    Linearizable,
    /// Sequential consistency (whole history).
    Sequential,
    /// Causal convergence, causal+ (CCv: CC's bad patterns and a cyclic conflict order).
    #[serde(rename = "causal+", alias = "ccv")]
    CausalPlus,
    /// Causal consistency (CC, bad patterns).
    Causal,
    /// Session guarantees: read-your-writes, monotonic reads and writes, writes-follow-reads.
    Sessions,
    /// Eventual consistency (convergence, no thin air, no definite lost writes).
    Eventual,
}

impl Model {
    /// All of them, strongest first (eventual, separate from the others, last).
    pub const ALL: [Model; 6] = [
        Model::Linearizable,
        Model::Sequential,
        Model::CausalPlus,
        Model::Causal,
        Model::Sessions,
        Model::Eventual,
    ];

    /// The model's name (what [`FromStr`] accepts, besides `ccv` for causal+).
    pub fn name(self) -> &'static str {
        match self {
            Model::Linearizable => "linearizable",
            Model::Sequential => "sequential",
            Model::CausalPlus => "causal+",
            Model::Causal => "causal",
            Model::Sessions => "sessions",
            Model::Eventual => "eventual",
        }
    }

    /// True if every history the checker of `self` judges valid is valid for `weaker` too (see
    /// the module documentation). Reflexive.
    pub fn implies(self, weaker: Model) -> bool {
        if self == weaker {
            return true;
        }
        // The chain linearizable ⇒ sequential ⇒ causal+ ⇒ causal ⇒ sessions; eventual apart.
        self != Model::Eventual && weaker != Model::Eventual && self <= weaker
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A model name that is not one of [`Model::ALL`].
///
/// ```
/// use models::check::Model;
/// let e = "strong".parse::<Model>().unwrap_err();
/// assert!(e.to_string().contains("strong"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown consistency model {0:?} (expected linearizable, sequential, causal+ (or ccv), causal, sessions or eventual)")]
pub struct ParseModelError(pub String);

impl FromStr for Model {
    type Err = ParseModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        if t == "ccv" || t == "causal-plus" || t == "causalplus" {
            return Ok(Model::CausalPlus);
        }
        Model::ALL
            .into_iter()
            .find(|m| m.name() == t)
            .ok_or_else(|| ParseModelError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_implication_is_the_documented_chain() {
        for m in Model::ALL {
            assert_eq!(m.name().parse::<Model>(), Ok(m));
            assert!(m.implies(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.name()));
            assert_eq!(serde_json::from_str::<Model>(&json).unwrap(), m);
        }
        let chain = [
            Model::Linearizable,
            Model::Sequential,
            Model::CausalPlus,
            Model::Causal,
            Model::Sessions,
        ];
        for (i, a) in chain.iter().enumerate() {
            for (j, b) in chain.iter().enumerate() {
                assert_eq!(a.implies(*b), i <= j, "{a} => {b}");
            }
            assert!(!a.implies(Model::Eventual));
            assert!(!Model::Eventual.implies(*a));
        }
    }
}
