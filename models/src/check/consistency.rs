//! The consistency models actsim checks histories against.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A consistency model the runs are checked against, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Linearizability (per key; P-compositional).
    Linearizable,
    /// Sequential consistency (whole history).
    Sequential,
    /// Causal consistency (CC, bad patterns).
    Causal,
    /// Eventual consistency (convergence, no thin air, no definite lost writes).
    Eventual,
}

impl Model {
    /// All four, strongest first.
    pub const ALL: [Model; 4] = [
        Model::Linearizable,
        Model::Sequential,
        Model::Causal,
        Model::Eventual,
    ];

    /// The model's name.
    pub fn name(self) -> &'static str {
        match self {
            Model::Linearizable => "linearizable",
            Model::Sequential => "sequential",
            Model::Causal => "causal",
            Model::Eventual => "eventual",
        }
    }

    /// True if every history of `self` is also a history of `weaker`.
    pub fn implies(self, weaker: Model) -> bool {
        self <= weaker
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
