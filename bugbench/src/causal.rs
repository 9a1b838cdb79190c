//! The causal bug: the built-in causal protocol ([`models::causal::Causal`]) with its
//! `direct_deps_only` knob.

use models::causal::Causal;
use models::check::Model;

use crate::{standard, BugCase, Target};

/// The causal family's cases.
///
/// ```
/// assert_eq!(bugbench::causal::cases()[0].name, "causal-direct-dep-only");
/// ```
pub fn cases() -> Vec<BugCase> {
    vec![BugCase {
        name: "causal-direct-dep-only",
        family: "causal",
        class: "causal write applied after checking only its direct dependency",
        description: "a remote write is applied once its origin's previous write is, without \
                      waiting for what it depends on from other replicas; a reader sees an effect \
                      before its cause when a push is lost or overtaken",
        model: Model::Causal,
        invariant: None,
        setup: standard(5),
        buggy: Box::new(Target(Causal {
            direct_deps_only: true,
            ..Causal::default()
        })),
        twin: Box::new(Target(Causal::default())),
    }]
}
