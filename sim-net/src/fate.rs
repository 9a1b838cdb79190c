//! Each message's fate keyed by its identity, not by the order of draws.
//!
//! A message is known across runs by its [`MessageId`]: its link, a fingerprint of its content,
//! and how many equal messages were sent on that link before it (DEMi's matching of messages
//! across runs). Everything the network decides for a message — loss, duplication, latency —
//! is drawn from a random stream seeded by that identity, so removing a fault, a client
//! operation or another message's anomaly does not move the fates of the messages that are
//! still sent the same way.
//!
//! What happened beyond normal latency is recorded as [`Anomaly`] entries (a drop by loss, a
//! duplicate). A run replayed with [`FaultyNetwork::replay_anomalies`](crate::FaultyNetwork::replay_anomalies) takes its anomalies from a list instead of
//! drawing them: the same list gives the same run; a list with entries removed delivers those
//! messages normally (same latency draw, no loss, no duplicate).
//!
//! ```
//! use sim_net::fate::{Fate, MessageId};
//! use sim_core::NodeId;
//! let id = MessageId { from: NodeId(0), to: NodeId(1), fingerprint: 7, occurrence: 0 };
//! let json = serde_json::to_string(&(id, Fate::Dropped)).unwrap();
//! assert!(json.contains("dropped"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use rand::RngCore;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use sim_core::hash::StableHasher;
use sim_core::NodeId;

/// A message's identity across runs: link, content fingerprint, occurrence on that link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageId {
    /// Sender.
    pub from: NodeId,
    /// Destination.
    pub to: NodeId,
    /// The stable hash of the message's content.
    #[serde(with = "hex")]
    pub fingerprint: u64,
    /// How many messages with the same fingerprint were sent on this link before it (among
    /// the recent ones the network remembers).
    pub occurrence: u32,
}

mod hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:016x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        u64::from_str_radix(&s, 16).map_err(|_| {
            serde::de::Error::custom(format!("fingerprint {s:?} is not 16 hex digits"))
        })
    }
}

/// What happened to a message beyond its normal latency.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Lost (link loss).
    Dropped,
    /// Delivered twice.
    Duplicated,
    /// Delivered after this latency instead of the link's draw.
    Delayed {
        /// The latency, ms.
        ms: f64,
    },
}

/// One message's anomaly, with when it was sent (for the story; not part of the match).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Which message.
    pub id: MessageId,
    /// What happened to it.
    pub fate: Fate,
    /// When it was sent, ms of virtual time.
    pub at_ms: f64,
}

/// The `send`-th message of a run (counting from 0, every send of every node) delayed to `ms`:
/// delay-bounded exploration (PCT-style: a few chosen messages far beyond the normal range, the
/// rest normal).
///
/// ```
/// use sim_net::fate::SendDelay;
/// let d = SendDelay { send: 1200, ms: 1500.0 };
/// assert!(d.ms > 1000.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendDelay {
    /// Which send.
    pub send: u64,
    /// Its latency, ms.
    pub ms: f64,
}

/// The network's source of fates: identity-keyed draws, the anomalies that happened, and in a
/// replay the anomalies to apply instead of drawing them.
/// Slots of the occurrence cache (a power of two).
const SLOTS: usize = 1 << 14;

#[derive(Debug, Default)]
pub(crate) struct Fates {
    base: Option<u64>,
    /// Occurrence counts of recent messages: a direct-mapped cache of (link and fingerprint
    /// tag, count). A map of every message ever sent grew with the run and cost more in cache
    /// misses than the network's own work; a message whose earlier twin was evicted counts
    /// from 0 again (rare: twins are usually close together).
    seen: Vec<(u64, u32)>,
    recorded: Vec<Anomaly>,
    replay: Option<BTreeMap<MessageId, Fate>>,
    /// While replaying: the links of the replay's anomalies, and every message sent on them
    /// (identity, ms sent), so a shrinker can see what an anomaly's message became.
    replay_links: BTreeSet<(NodeId, NodeId)>,
    link_sends: Vec<(MessageId, f64)>,
    sends: u64,
    delays: BTreeMap<u64, f64>,
}

impl Fates {
    /// Takes anomalies from `anomalies` instead of drawing loss and duplication.
    pub(crate) fn replay(&mut self, anomalies: &[Anomaly]) {
        self.replay = Some(anomalies.iter().map(|a| (a.id, a.fate)).collect());
        self.replay_links = anomalies.iter().map(|a| (a.id.from, a.id.to)).collect();
    }

    /// Notes a message sent while replaying, if its link carries an anomaly of the replay.
    pub(crate) fn note_send(&mut self, id: MessageId, at_ms: f64) {
        if self.replay_links.contains(&(id.from, id.to)) {
            self.link_sends.push((id, at_ms));
        }
    }

    /// The messages sent on the replay's anomaly links (identity, ms sent), in send order.
    pub(crate) fn link_sends(&self) -> &[(MessageId, f64)] {
        &self.link_sends
    }

    /// Delays these sends (ignored while replaying: a replay's delays are its anomalies).
    pub(crate) fn delay_sends(&mut self, delays: &[SendDelay]) {
        self.delays = delays.iter().map(|d| (d.send, d.ms)).collect();
    }

    /// The delay planned for the message just identified, if any.
    pub(crate) fn planned_delay(&self) -> Option<f64> {
        if self.replay.is_some() || self.delays.is_empty() {
            return None;
        }
        self.delays.get(&(self.sends - 1)).copied()
    }

    /// True while replaying a list of anomalies.
    pub(crate) fn replaying(&self) -> bool {
        self.replay.is_some()
    }

    /// The identity of a message just sent, and the random stream its fate is drawn from.
    /// `kernel` (the network's stream) is drawn from once, on the first message, for the base
    /// key: the fates still depend on the seed and nothing else.
    pub(crate) fn identify(
        &mut self,
        from: NodeId,
        to: NodeId,
        fingerprint: u64,
        kernel: &mut Pcg64,
    ) -> (MessageId, Pcg64) {
        let base = *self.base.get_or_insert_with(|| kernel.next_u64());
        self.sends += 1;
        if self.seen.is_empty() {
            self.seen = vec![(0, 0); SLOTS];
        }
        let tag = sim_core::hash::stable_hash(&(from.0, to.0, fingerprint)) | 1;
        let slot = &mut self.seen[(tag >> 32) as usize & (SLOTS - 1)];
        if slot.0 != tag {
            *slot = (tag, 0);
        }
        let occurrence = slot.1;
        slot.1 += 1;
        let id = MessageId {
            from,
            to,
            fingerprint,
            occurrence,
        };
        let mut k = StableHasher::default();
        (base, from.0, to.0, fingerprint, occurrence).hash(&mut k);
        let key = k.finish();
        // Both halves of the stream's state come from the key (a state whose low half was the
        // same for every message gave correlated first draws: loss rates 10% low).
        (id, sim_core::rng::keyed(key))
    }

    /// The fate a replay assigns to `id` (`None`: delivered normally).
    pub(crate) fn replayed(&self, id: &MessageId) -> Option<Fate> {
        self.replay.as_ref().and_then(|r| r.get(id).copied())
    }

    /// Notes an anomaly.
    pub(crate) fn record(&mut self, id: MessageId, fate: Fate, at_ms: f64) {
        self.recorded.push(Anomaly { id, fate, at_ms });
    }

    /// The anomalies so far, in send order.
    pub(crate) fn anomalies(&self) -> &[Anomaly] {
        &self.recorded
    }
}
