//! The network interface: what the kernel asks about every message, and the perfect network.
//!
//! The kernel knows nothing of partitions or latency distributions. For every send it asks a
//! [`Network`] what happens (deliver at some time, drop, deliver twice, hold), and asks again when
//! the message arrives (a link may have been cut while it was in flight). `sim-net` implements
//! the faulty network on this trait.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::queue::EventQueue;
use crate::sim::Event;
use crate::{NodeId, SimTime};

/// A message in flight.
#[derive(Clone, Debug)]
pub struct Packet<M> {
    /// Sender.
    pub from: NodeId,
    /// Destination.
    pub to: NodeId,
    /// When it was sent (true virtual time).
    pub sent_at: SimTime,
    /// The payload.
    pub msg: M,
    /// The stable hash of the payload, computed once at send: the message's fingerprint for
    /// the network (its identity across runs) and for the trace hash at delivery.
    pub fingerprint: u64,
    /// The destination's incarnation when sent: a restart in between means it is dropped.
    pub(crate) incarnation: u32,
}

impl<M: std::hash::Hash> Packet<M> {
    /// A packet outside any simulation (for testing network models directly).
    pub fn new(from: NodeId, to: NodeId, sent_at: SimTime, msg: M) -> Self {
        Packet {
            from,
            to,
            sent_at,
            fingerprint: crate::hash::stable_hash(&msg),
            msg,
            incarnation: 0,
        }
    }
}

/// Why a message was not delivered. Every drop is counted by cause and traced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropCause {
    /// Random loss on the link.
    Loss,
    /// The link was blocked by a partition.
    Partition,
    /// The destination was crashed, or restarted since the send.
    Crashed,
    /// The destination does not exist.
    UnknownNode,
    /// A test's message filter dropped it.
    Filter,
}

impl DropCause {
    /// Every cause, in counter order.
    pub const ALL: [DropCause; 5] = [
        DropCause::Loss,
        DropCause::Partition,
        DropCause::Crashed,
        DropCause::UnknownNode,
        DropCause::Filter,
    ];

    /// Stable short name.
    pub fn name(self) -> &'static str {
        match self {
            DropCause::Loss => "loss",
            DropCause::Partition => "partition",
            DropCause::Crashed => "crashed",
            DropCause::UnknownNode => "unknown-node",
            DropCause::Filter => "filter",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DropCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the network tells the kernel to do; filled by [`Network`] methods.
///
/// It holds the kernel's event queue itself, so a delivery goes straight onto the schedule
/// with no intermediate list; drops are counted and traced by the kernel after the call.
pub struct Outbox<M> {
    pub(crate) queue: EventQueue<Event<M>>,
    /// Current virtual time: deliveries are never scheduled earlier.
    pub(crate) now: SimTime,
    pub(crate) drops: Vec<(NodeId, NodeId, DropCause)>,
    pub(crate) duplicates: u64,
}

impl<M> fmt::Debug for Outbox<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("queued", &self.queue.len())
            .field("drops", &self.drops)
            .finish()
    }
}

impl<M> Outbox<M> {
    pub(crate) fn new() -> Self {
        Outbox {
            queue: EventQueue::new(),
            now: SimTime::ZERO,
            drops: Vec::new(),
            duplicates: 0,
        }
    }

    /// Schedule `packet` to arrive at `at` (not earlier than now). Arrival still passes
    /// through [`Network::on_arrival`].
    #[inline]
    pub fn deliver(&mut self, at: SimTime, packet: Packet<M>) {
        self.queue.push(at.max(self.now), Event::Arrive(packet));
    }

    /// Schedule an extra copy of a packet (duplication); counted as duplicated.
    pub fn deliver_copy(&mut self, at: SimTime, packet: Packet<M>) {
        self.duplicates += 1;
        self.deliver(at, packet);
    }

    /// Record that a packet from `from` to `to` was dropped, and why.
    pub fn drop(&mut self, from: NodeId, to: NodeId, cause: DropCause) {
        self.drops.push((from, to, cause));
    }
}

/// What happens to a packet when it reaches its destination.
#[derive(Debug)]
pub enum Arrival<M> {
    /// Hand it to the destination actor.
    Deliver(Packet<M>),
    /// Drop it.
    Drop(DropCause),
    /// The network keeps it (clogged link); it will deliver it later through an [`Outbox`].
    Held,
}

/// The network model the kernel consults.
///
/// ```
/// use sim_core::network::{Network, Outbox, Packet, Arrival};
/// use sim_core::SimTime;
/// use std::time::Duration;
///
/// /// A network where every message takes exactly 5 ms.
/// struct FiveMs;
/// impl<M: 'static> Network<M> for FiveMs {
///     fn on_send(&mut self, now: SimTime, packet: Packet<M>, _rng: &mut rand_pcg::Pcg64, out: &mut Outbox<M>) {
///         out.deliver(now + Duration::from_millis(5), packet);
///     }
///     fn as_any_mut(&mut self) -> &mut dyn std::any::Any { self }
/// }
/// ```
pub trait Network<M>: 'static {
    /// Decide the fate of a packet just sent: push deliveries (zero, one or several, cloning for
    /// duplicates) and drops into `out`.
    fn on_send(&mut self, now: SimTime, packet: Packet<M>, rng: &mut Pcg64, out: &mut Outbox<M>);

    /// Decide what happens when a packet arrives (for example: the link was cut meanwhile).
    /// The default delivers it.
    fn on_arrival(&mut self, _now: SimTime, packet: Packet<M>, _out: &mut Outbox<M>) -> Arrival<M> {
        Arrival::Deliver(packet)
    }

    /// For downcasting to the concrete network (fault injection).
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// A network that delivers every message after a fixed latency, in send order.
///
/// ```
/// use sim_core::network::PerfectNetwork;
/// use std::time::Duration;
/// let net = PerfectNetwork::new(Duration::from_millis(1));
/// assert_eq!(net.latency(), Duration::from_millis(1));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PerfectNetwork {
    latency: Duration,
}

impl PerfectNetwork {
    /// Every message takes `latency`.
    pub fn new(latency: Duration) -> Self {
        PerfectNetwork { latency }
    }

    /// The fixed latency.
    pub fn latency(&self) -> Duration {
        self.latency
    }
}

impl Default for PerfectNetwork {
    fn default() -> Self {
        PerfectNetwork::new(Duration::from_millis(1))
    }
}

impl<M: 'static> Network<M> for PerfectNetwork {
    fn on_send(&mut self, now: SimTime, packet: Packet<M>, _rng: &mut Pcg64, out: &mut Outbox<M>) {
        out.deliver(now + self.latency, packet);
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
