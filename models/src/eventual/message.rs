//! What eventual replicas tell each other.

use super::store::{Digest, Versioned};
use crate::op::Key;

/// Replica-to-replica messages of the eventual protocol.
///
/// A write is pushed once to every peer ([`Message::Update`]); nothing retries it. Repair is the
/// job of anti-entropy, a three-step push-pull exchange with one random peer:
///
/// ```text
/// A ── Digest { stamps of A } ─────────────▶ B
/// A ◀─ DigestReply { B's newer versions,  ── B
///                    keys where A is newer }
/// A ── Update { A's versions of those } ──▶ B
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// Versions to merge (last writer wins): a fresh write's push, or anti-entropy's answer.
    Update {
        /// The keys and their versions.
        entries: Vec<(Key, Versioned)>,
    },
    /// Anti-entropy opening: the stamp of every key the sender holds.
    Digest {
        /// The sender's digest.
        stamps: Digest,
    },
    /// Anti-entropy answer: what the digest's sender lacks, and what it should send back.
    DigestReply {
        /// Versions the replier holds that beat the digest.
        newer: Vec<(Key, Versioned)>,
        /// Keys for which the digest beats the replier: send those versions back.
        want: Vec<Key>,
    },
}
