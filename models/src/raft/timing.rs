//! The core's timers and timing knobs.

use std::time::Duration;

/// The timers of a Raft replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Check whether the election timeout has passed.
    Election,
    /// A leader's heartbeat (and check-quorum) tick.
    Heartbeat,
}

/// Timing knobs (local-clock durations).
///
/// ```
/// use models::raft::Timing;
/// let t = Timing::default();
/// assert!(t.heartbeat < t.election_min && t.election_min < t.election_max);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Smallest election timeout: a follower waits a random duration in
    /// `[election_min, election_max)` without hearing from a leader before standing for election.
    pub election_min: Duration,
    /// Largest election timeout (also the check-quorum window).
    pub election_max: Duration,
    /// Interval between a leader's heartbeats (well below `election_min`).
    pub heartbeat: Duration,
    /// Most entries sent in one `Append`.
    pub max_batch: usize,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            election_min: Duration::from_millis(150),
            election_max: Duration::from_millis(300),
            heartbeat: Duration::from_millis(50),
            max_batch: 64,
        }
    }
}
