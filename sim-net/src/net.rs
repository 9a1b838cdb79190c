//! [`FaultyNetwork`]: the fault-injecting implementation of the kernel's `Network` trait.
//!
//! Hot path: `on_send` and `on_arrival` index flat per-link tables by `from * n + to`, allocate
//! nothing per message (a duplicate is one clone), and skip every partition, clog and filter
//! check while none is active.
//!
//! Order of decisions for one send: blocked link (drop, cause `partition`) → filters (drop,
//! hold, delay) → loss → duplication → latency, clamped on FIFO links so that nothing arrives
//! before an earlier send on the same link. On arrival the link is checked again: blocked means
//! dropped, clogged means held.
//!
//! Clogging holds messages inside the network instead of dropping them. Messages already in
//! flight are held when they arrive; new sends on a reordering link are held at once, while on
//! a FIFO link they travel and are held on arrival, behind what was already in flight. On
//! unclog they are released through the kernel's outbox, each after its own latency (the draw
//! made when it was sent, or for a message held on arrival, the time it had spent in flight),
//! in send order on FIFO links. A FIFO link that still has messages in flight when it is
//! unclogged *drains*: the held messages wait until everything in flight has arrived (and
//! joined the queue), and new sends queue behind them, so that FIFO order survives the clog.
//!
//! A paused receiver does not break this: the kernel asks the network first and holds only
//! what the network admitted, in arrival order.

use std::any::Any;
use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::time::Duration;

use rand::Rng;
use rand_pcg::Pcg64;
use sim_core::network::{Arrival, DropCause, Network, Outbox, Packet};
use sim_core::{NodeId, Payload, Sim, SimTime};

use crate::error::{check_node, NetError};
use crate::fate::{Anomaly, Fate, Fates, MessageId};
use crate::filter::{FilterFn, FilterId, Filters, Verdict};
use crate::latency::Sampler;
use crate::link::{LinkConfig, LinkPatch, LinkRule, Links, NetConfig};
use crate::partition::Partition;
use crate::timeline::Timeline;

/// A message kept inside the network (clogged link or filter hold).
struct Held<M> {
    packet: Packet<M>,
    /// Latency to apply when released.
    after: Duration,
    /// An extra copy made by duplication (counted as such when released).
    copy: bool,
}

/// A FIFO link that was unclogged while messages were still in flight on it.
#[derive(Clone, Copy, Debug)]
struct Drain {
    /// Every message in flight at unclog time arrives at or before this.
    until: SimTime,
    /// When the first held message (the carrier) arrives; its arrival releases the rest.
    carrier_at: SimTime,
}

/// One directed link's configuration and state.
struct Link<M> {
    sampler: Sampler,
    loss: f64,
    dup: f64,
    fifo: bool,
    /// Latest arrival scheduled on this link (FIFO clamp).
    last_arrival: SimTime,
    blocked: bool,
    clogged: bool,
    drain: Option<Drain>,
    held: VecDeque<Held<M>>,
    /// Sends made while draining: they follow everything still in flight.
    later: VecDeque<Held<M>>,
}

impl<M> Link<M> {
    fn new(c: &LinkConfig) -> Self {
        Link {
            sampler: c.latency.sampler(),
            loss: c.loss,
            dup: c.duplicate,
            fifo: c.fifo,
            last_arrival: SimTime::ZERO,
            blocked: false,
            clogged: false,
            drain: None,
            held: VecDeque::new(),
            later: VecDeque::new(),
        }
    }

    fn configure(&mut self, c: &LinkConfig) {
        self.sampler = c.latency.sampler();
        self.loss = c.loss;
        self.dup = c.duplicate;
        self.fifo = c.fifo;
    }

    /// The arrival time for a message leaving now with latency `d`, never earlier than an
    /// earlier send on a FIFO link.
    #[inline]
    fn arrival(&mut self, now: SimTime, d: Duration) -> SimTime {
        let mut at = now + d;
        if self.fifo {
            at = at.max(self.last_arrival);
        }
        self.last_arrival = self.last_arrival.max(at);
        at
    }

    /// True if messages must wait inside the network.
    #[inline]
    fn holding(&self) -> bool {
        self.clogged || self.drain.is_some()
    }

    /// Where a message sent now must wait, if anywhere. A clogged FIFO link lets sends go and
    /// holds them on arrival, behind what was already in flight; a draining one queues them
    /// behind everything still in flight.
    fn send_queue(&mut self) -> Option<&mut VecDeque<Held<M>>> {
        if self.drain.is_some() {
            Some(&mut self.later)
        } else if self.clogged && !self.fifo {
            Some(&mut self.held)
        } else {
            None
        }
    }

    /// The drain ends (its carrier arrived, or was lost): sends made meanwhile queue up behind
    /// the held messages.
    fn end_drain(&mut self) {
        self.drain = None;
        self.held.append(&mut self.later);
    }

    /// Releases every held message (the link is open): schedules them, or starts a drain if
    /// this FIFO link still has messages in flight. Returns true if a drain started.
    fn release(&mut self, now: SimTime, out: &mut Outbox<M>) -> bool {
        if self.fifo && self.last_arrival >= now && !self.held.is_empty() && self.drain.is_none() {
            if let Some(carrier) = self.held.pop_front() {
                let until = self.last_arrival;
                let carrier_at = until + Duration::from_nanos(1);
                self.last_arrival = carrier_at;
                self.drain = Some(Drain { until, carrier_at });
                push(out, carrier_at, carrier.packet, carrier.copy);
                return true;
            }
        }
        while let Some(h) = self.held.pop_front() {
            let at = self.arrival(now, h.after);
            push(out, at, h.packet, h.copy);
        }
        false
    }
}

#[inline]
fn push<M>(out: &mut Outbox<M>, at: SimTime, p: Packet<M>, copy: bool) {
    if copy {
        out.deliver_copy(at, p);
    } else {
        out.deliver(at, p);
    }
}

/// A network with per-link latency, loss, duplication and ordering, partitions, clogging and
/// per-message filters.
///
/// Build it from a [`NetConfig`], hand it to the kernel with `Sim::with_network`, and reach it
/// later with [`with_net`] (or through a [`Fault`](crate::Fault)).
///
/// ```
/// use sim_net::{FaultyNetwork, NetConfig, LinkConfig, Partition, PartitionSpec, with_net};
/// use sim_core::{Sim, NodeId, SimTime};
///
/// let net = FaultyNetwork::<u32>::new(NetConfig::new(3)).unwrap();
/// let mut sim: Sim<u32> = Sim::with_network(7, net);
/// with_net(&mut sim, |net, now, _out| {
///     let p = PartitionSpec::Isolate { node: NodeId(0) }.resolve("p", 3)?;
///     net.set_partition(now, p)?;
///     assert!(!net.can_reach(NodeId(0), NodeId(1)));
///     assert_eq!(net.reachable_from(NodeId(1)).len(), 2);
///     Ok::<_, sim_net::NetError>(())
/// }).unwrap().unwrap();
/// ```
pub struct FaultyNetwork<M> {
    config: NetConfig,
    /// Rules added at run time by faults (after the configured ones).
    runtime_rules: Vec<LinkRule>,
    n: usize,
    links: Vec<Link<M>>,
    blocked: Partition,
    clogged: Partition,
    filters: Filters<M>,
    filter_held: Vec<Held<M>>,
    draining: usize,
    /// True while any partition, clog, drain or filter is active (the slow path).
    active: bool,
    timeline: Timeline,
    fates: Fates,
}

/// What loss and duplication decided for one message.
#[derive(Clone, Copy, PartialEq)]
enum Decision {
    Deliver,
    Drop,
    Duplicate,
    Delay(Duration),
}

/// Draws loss and duplication for message `id` from its own stream (always both draws, so a
/// replay consumes the stream exactly as the recording did), or takes them from the replay,
/// and records any anomaly.
#[inline]
fn decide(
    fates: &mut Fates,
    id: MessageId,
    now: SimTime,
    loss: f64,
    dup: f64,
    rng: &mut Pcg64,
) -> Decision {
    let lost = loss > 0.0 && rng.random_bool(loss);
    let doubled = dup > 0.0 && rng.random_bool(dup);
    let planned = fates.planned_delay();
    let latency = |ms: f64| {
        // Replay files and setups are validated; a NaN here would still be no panic.
        Duration::from_secs_f64(if ms.is_finite() {
            ms.clamp(0.0, 1e12) / 1e3
        } else {
            0.0
        })
    };
    let d = if let Some(ms) = planned.filter(|_| !lost) {
        Decision::Delay(latency(ms))
    } else if fates.replaying() {
        fates.note_send(id, now.as_secs_f64() * 1e3);
        match fates.replayed(&id) {
            None => Decision::Deliver,
            Some(Fate::Dropped) => Decision::Drop,
            Some(Fate::Duplicated) => Decision::Duplicate,
            Some(Fate::Delayed { ms }) => Decision::Delay(latency(ms)),
        }
    } else if lost {
        Decision::Drop
    } else if doubled {
        Decision::Duplicate
    } else {
        Decision::Deliver
    };
    let fate = match d {
        Decision::Deliver => return d,
        Decision::Drop => Fate::Dropped,
        Decision::Duplicate => Fate::Duplicated,
        Decision::Delay(l) => Fate::Delayed {
            ms: l.as_secs_f64() * 1e3,
        },
    };
    fates.record(id, fate, now.as_secs_f64() * 1e3);
    d
}

impl<M: Payload> fmt::Debug for FaultyNetwork<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyNetwork")
            .field("nodes", &self.n)
            .field("blocked", &self.blocked.len())
            .field("clogged", &self.clogged.len())
            .field("held", &self.held_count())
            .field("filters", &self.filters)
            .finish()
    }
}

impl<M: Payload> FaultyNetwork<M> {
    /// A network with `config` (validated: every error names its field).
    pub fn new(config: NetConfig) -> Result<Self, NetError> {
        config.validate()?;
        let mut net = FaultyNetwork {
            n: 0,
            links: Vec::new(),
            runtime_rules: Vec::new(),
            blocked: Partition::none(),
            clogged: Partition::none(),
            filters: Filters::default(),
            filter_held: Vec::new(),
            draining: 0,
            active: false,
            timeline: Timeline::new(config.nodes),
            fates: Fates::default(),
            config,
        };
        net.ensure_nodes(net.config.nodes);
        Ok(net)
    }

    /// Replays a run's message anomalies: loss and duplication are no longer drawn; exactly
    /// the messages in `anomalies` are dropped, duplicated or delayed (matched by identity),
    /// and every other message is delivered after its normal latency draw.
    pub fn replay_anomalies(&mut self, anomalies: &[Anomaly]) {
        self.fates.replay(anomalies);
    }

    /// Delays the chosen sends far beyond their links' latency (see [`SendDelay`]); recorded
    /// as `Delayed` anomalies, so a replay file of the run pins them.
    pub fn delay_sends(&mut self, delays: &[crate::fate::SendDelay]) {
        self.fates.delay_sends(delays);
    }

    /// While replaying anomalies: every message sent (and not blocked by a fault) on a link
    /// that one of them is on, as (identity, ms sent), in send order. A shrinker uses it to
    /// find what an anomaly's message became when other changes changed its content.
    pub fn replay_link_sends(&self) -> &[(crate::MessageId, f64)] {
        self.fates.link_sends()
    }

    /// The message anomalies so far (drops by loss, duplicates, delays), in send order.
    pub fn anomalies(&self) -> &[Anomaly] {
        self.fates.anomalies()
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Number of nodes the network knows.
    pub fn nodes(&self) -> usize {
        self.n
    }

    /// Grows the per-link tables to `n` nodes (the kernel adds nodes after the network is
    /// built; a message naming a higher node grows it too).
    pub fn ensure_nodes(&mut self, n: usize) {
        if n <= self.n {
            return;
        }
        let old_n = self.n;
        let mut old: Vec<Option<Link<M>>> = std::mem::take(&mut self.links)
            .into_iter()
            .map(Some)
            .collect();
        self.links = Vec::with_capacity(n * n);
        for a in 0..n {
            for b in 0..n {
                let link = if a < old_n && b < old_n {
                    old[a * old_n + b].take()
                } else {
                    None
                };
                let link = link.unwrap_or_else(|| {
                    let mut l = Link::new(&self.link_config(NodeId(a as u32), NodeId(b as u32)));
                    l.blocked = self.blocked.is_blocked(NodeId(a as u32), NodeId(b as u32));
                    l.clogged = self.clogged.is_blocked(NodeId(a as u32), NodeId(b as u32));
                    l
                });
                self.links.push(link);
            }
        }
        self.n = n;
        self.timeline.set_nodes(n);
    }

    #[inline]
    fn index(&self, from: NodeId, to: NodeId) -> usize {
        from.index() * self.n + to.index()
    }

    fn link_config(&self, from: NodeId, to: NodeId) -> LinkConfig {
        let mut c = self.config.link(from, to);
        for r in &self.runtime_rules {
            if r.links.contains(from, to) {
                c = c.patched(&r.patch);
            }
        }
        c
    }

    fn update_active(&mut self) {
        self.active = !self.blocked.is_empty()
            || !self.clogged.is_empty()
            || self.draining > 0
            || !self.filters.is_empty();
    }

    fn record_cut(&mut self, now: SimTime) {
        let cut = Partition::from_links(self.blocked.links().chain(self.clogged.links()));
        self.timeline.record(now, cut);
    }

    fn check_partition(&self, field: &str, p: &Partition) -> Result<(), NetError> {
        for (a, b) in p.links() {
            check_node(field, a, self.n)?;
            check_node(field, b, self.n)?;
        }
        Ok(())
    }

    // ---- partitions ------------------------------------------------------------------------

    /// Replaces the set of blocked links: messages sent on them, or arriving on them, are
    /// dropped (cause `partition`) until [`FaultyNetwork::heal`].
    pub fn set_partition(&mut self, now: SimTime, p: Partition) -> Result<(), NetError> {
        self.check_partition("partition", &p)?;
        for (a, b) in self.blocked.links() {
            let i = self.index(a, b);
            self.links[i].blocked = false;
        }
        for (a, b) in p.links() {
            let i = self.index(a, b);
            self.links[i].blocked = true;
        }
        self.blocked = p;
        self.update_active();
        self.record_cut(now);
        Ok(())
    }

    /// Unblocks every link.
    pub fn heal(&mut self, now: SimTime) {
        let _ = self.set_partition(now, Partition::none());
    }

    /// The blocked links.
    pub fn partition(&self) -> &Partition {
        &self.blocked
    }

    // ---- clogging --------------------------------------------------------------------------

    /// Replaces the set of clogged links: messages on them are held (not dropped) until they
    /// are unclogged. Links that leave the set release their messages through `out`.
    pub fn set_clogged(
        &mut self,
        now: SimTime,
        p: Partition,
        out: &mut Outbox<M>,
    ) -> Result<(), NetError> {
        self.check_partition("clog", &p)?;
        for (a, b) in p.links() {
            let i = self.index(a, b);
            self.links[i].clogged = true;
        }
        let old = std::mem::replace(&mut self.clogged, p);
        for (a, b) in old.links() {
            if !self.clogged.is_blocked(a, b) {
                let i = self.index(a, b);
                let link = &mut self.links[i];
                link.clogged = false;
                if link.drain.is_none() && link.release(now, out) {
                    self.draining += 1;
                }
            }
        }
        self.update_active();
        self.record_cut(now);
        Ok(())
    }

    /// Unclogs every link, releasing what they held.
    pub fn unclog(&mut self, now: SimTime, out: &mut Outbox<M>) {
        let _ = self.set_clogged(now, Partition::none(), out);
    }

    /// The clogged links.
    pub fn clogged(&self) -> &Partition {
        &self.clogged
    }

    /// Messages held inside the network (clogged links and filter holds).
    pub fn held_count(&self) -> usize {
        self.links
            .iter()
            .map(|l| l.held.len() + l.later.len())
            .sum::<usize>()
            + self.filter_held.len()
    }

    // ---- filters ---------------------------------------------------------------------------

    /// Installs a per-message filter (see [`crate::filter`]); filters run in installation
    /// order on every send.
    pub fn add_filter(&mut self, f: FilterFn<M>) -> FilterId {
        let id = self.filters.add(f);
        self.update_active();
        id
    }

    /// Removes a filter; false if it was not installed.
    pub fn remove_filter(&mut self, id: FilterId) -> bool {
        let r = self.filters.remove(id);
        self.update_active();
        r
    }

    /// Releases every message a filter held, in the order they were held, each after the
    /// latency drawn when it was sent. A message on a clogged link joins that link's queue.
    pub fn release_filtered(&mut self, now: SimTime, out: &mut Outbox<M>) -> usize {
        let held = std::mem::take(&mut self.filter_held);
        let count = held.len();
        for h in held {
            let i = self.index(h.packet.from, h.packet.to);
            let link = &mut self.links[i];
            if link.drain.is_some() {
                link.later.push_back(h);
            } else if link.clogged {
                link.held.push_back(h);
            } else {
                let at = link.arrival(now, h.after);
                push(out, at, h.packet, h.copy);
            }
        }
        count
    }

    // ---- link configuration ----------------------------------------------------------------

    /// Applies `patch` to every link of `links` from now on (a nemesis "slow / lossy links").
    pub fn patch_links(&mut self, links: Links, patch: LinkPatch) -> Result<(), NetError> {
        links.validate("links", self.n)?;
        patch.validate("patch")?;
        self.runtime_rules.push(LinkRule { links, patch });
        self.reconfigure();
        Ok(())
    }

    /// Drops every run-time patch: links go back to the configured behaviour.
    pub fn reset_links(&mut self) {
        self.runtime_rules.clear();
        self.reconfigure();
    }

    fn reconfigure(&mut self) {
        for a in 0..self.n {
            for b in 0..self.n {
                let c = self.link_config(NodeId(a as u32), NodeId(b as u32));
                self.links[a * self.n + b].configure(&c);
            }
        }
    }

    /// The current configuration of link `from -> to` (configured rules, then run-time patches).
    pub fn link(&self, from: NodeId, to: NodeId) -> LinkConfig {
        self.link_config(from, to)
    }

    // ---- reachability ----------------------------------------------------------------------

    /// True if a message sent now by `from` can reach `to` directly (the link is neither
    /// blocked nor clogged). Node crashes are the kernel's business and not considered.
    pub fn can_reach(&self, from: NodeId, to: NodeId) -> bool {
        if from == to {
            return true;
        }
        if from.index() >= self.n || to.index() >= self.n {
            return false;
        }
        let l = &self.links[self.index(from, to)];
        !l.blocked && !l.clogged
    }

    /// Every node `from` can reach now (itself included).
    pub fn reachable_from(&self, from: NodeId) -> BTreeSet<NodeId> {
        (0..self.n as u32)
            .map(NodeId)
            .filter(|&to| self.can_reach(from, to))
            .collect()
    }

    /// The timeline of every change of blocked or clogged links so far.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    // ---- hot path helpers ------------------------------------------------------------------

    /// The slow part of `on_send`: partitions, filters, clogs. Returns the packet and the extra
    /// delay if it goes on normally.
    #[cold]
    fn send_checks(
        &mut self,
        now: SimTime,
        i: usize,
        packet: Packet<M>,
        rng: &mut Pcg64,
        id: MessageId,
        out: &mut Outbox<M>,
    ) -> Option<(Packet<M>, Duration)> {
        self.end_lost_drain(now, i, out);
        if self.links[i].blocked {
            out.drop(packet.from, packet.to, DropCause::Partition);
            return None;
        }
        let mut extra = Duration::ZERO;
        if !self.filters.is_empty() {
            match self.filters.check(now, packet.from, packet.to, &packet.msg) {
                Verdict::Pass => {}
                Verdict::Drop => {
                    out.drop(packet.from, packet.to, DropCause::Filter);
                    return None;
                }
                Verdict::Hold => {
                    let after = Duration::from_nanos(self.links[i].sampler.sample(rng));
                    self.filter_held.push(Held {
                        packet,
                        after,
                        copy: false,
                    });
                    return None;
                }
                Verdict::Delay(d) => extra = d,
            }
        }
        let link = &mut self.links[i];
        let (loss, dup, sampler) = (link.loss, link.dup, link.sampler);
        if let Some(queue) = link.send_queue() {
            let decision = decide(&mut self.fates, id, now, loss, dup, rng);
            if decision == Decision::Drop {
                out.drop(packet.from, packet.to, DropCause::Loss);
                return None;
            }
            if let Decision::Delay(after) = decision {
                queue.push_back(Held {
                    packet,
                    after: extra + after,
                    copy: false,
                });
                return None;
            }
            if decision == Decision::Duplicate {
                let after = extra + Duration::from_nanos(sampler.sample(rng));
                queue.push_back(Held {
                    packet: packet.clone(),
                    after,
                    copy: false,
                });
                let after = extra + Duration::from_nanos(sampler.sample(rng));
                queue.push_back(Held {
                    packet,
                    after,
                    copy: true,
                });
            } else {
                let after = extra + Duration::from_nanos(sampler.sample(rng));
                queue.push_back(Held {
                    packet,
                    after,
                    copy: false,
                });
            }
            return None;
        }
        Some((packet, extra))
    }

    /// A drain whose carrier should have arrived by now but did not (its destination crashed
    /// or is paused) ends: the rest of the queue is released.
    fn end_lost_drain(&mut self, now: SimTime, i: usize, out: &mut Outbox<M>) {
        let link = &mut self.links[i];
        if let Some(d) = link.drain {
            if now > d.carrier_at {
                link.end_drain();
                self.draining -= 1;
                if !link.clogged && link.release(now, out) {
                    self.draining += 1;
                }
                self.update_active();
            }
        }
    }

    /// The slow part of `on_arrival`.
    #[cold]
    fn arrival_checks(
        &mut self,
        now: SimTime,
        i: usize,
        packet: Packet<M>,
        out: &mut Outbox<M>,
    ) -> Arrival<M> {
        let link = &mut self.links[i];
        if let Some(d) = link.drain {
            if now > d.until {
                // Only the carrier can arrive after `until`: everything sent since the unclog
                // was queued at send. It goes first; the rest follows.
                link.end_drain();
                self.draining -= 1;
                let arrival = if link.blocked {
                    Arrival::Drop(DropCause::Partition)
                } else if link.clogged {
                    let after = now.saturating_since(packet.sent_at);
                    link.held.push_front(Held {
                        packet,
                        after,
                        copy: false,
                    });
                    Arrival::Held
                } else {
                    Arrival::Deliver(packet)
                };
                if !link.clogged && link.release(now, out) {
                    self.draining += 1;
                }
                self.update_active();
                return arrival;
            }
        }
        if link.blocked {
            return Arrival::Drop(DropCause::Partition);
        }
        if link.holding() {
            let after = now.saturating_since(packet.sent_at);
            link.held.push_back(Held {
                packet,
                after,
                copy: false,
            });
            return Arrival::Held;
        }
        Arrival::Deliver(packet)
    }
}

impl<M: Payload> Network<M> for FaultyNetwork<M> {
    #[inline]
    fn on_send(&mut self, now: SimTime, packet: Packet<M>, rng: &mut Pcg64, out: &mut Outbox<M>) {
        let need = packet.from.index().max(packet.to.index()) + 1;
        if need > self.n {
            self.ensure_nodes(need);
        }
        let i = self.index(packet.from, packet.to);
        let (id, mut own) = self
            .fates
            .identify(packet.from, packet.to, packet.fingerprint, rng);
        let rng = &mut own;
        let (packet, extra) = if self.active {
            match self.send_checks(now, i, packet, rng, id, out) {
                Some(x) => x,
                None => return,
            }
        } else {
            (packet, Duration::ZERO)
        };
        let link = &mut self.links[i];
        let decision = decide(&mut self.fates, id, now, link.loss, link.dup, rng);
        if decision == Decision::Drop {
            out.drop(packet.from, packet.to, DropCause::Loss);
            return;
        }
        if let Decision::Delay(d) = decision {
            let at = link.arrival(now, extra + d);
            out.deliver(at, packet);
            return;
        }
        if decision == Decision::Duplicate {
            let d = extra + Duration::from_nanos(link.sampler.sample(rng));
            let at = link.arrival(now, d);
            out.deliver(at, packet.clone());
            let d = extra + Duration::from_nanos(link.sampler.sample(rng));
            let at = link.arrival(now, d);
            out.deliver_copy(at, packet);
            return;
        }
        let d = extra + Duration::from_nanos(link.sampler.sample(rng));
        let at = link.arrival(now, d);
        out.deliver(at, packet);
    }

    #[inline]
    fn on_arrival(&mut self, now: SimTime, packet: Packet<M>, out: &mut Outbox<M>) -> Arrival<M> {
        if !self.active {
            return Arrival::Deliver(packet);
        }
        if packet.from.index() >= self.n || packet.to.index() >= self.n {
            return Arrival::Deliver(packet);
        }
        let i = self.index(packet.from, packet.to);
        self.arrival_checks(now, i, packet, out)
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Runs `f` on the simulation's [`FaultyNetwork`] with the current time and the kernel's outbox
/// (for released messages). The network first learns the simulation's node count.
///
/// ```
/// use sim_net::{with_net, FaultyNetwork, NetConfig};
/// use sim_core::{Sim, NodeId};
/// let mut sim: Sim<u8> = Sim::with_network(1, FaultyNetwork::new(NetConfig::new(2)).unwrap());
/// let n = with_net(&mut sim, |net, _now, _out| net.nodes()).unwrap();
/// assert_eq!(n, 2);
/// let mut perfect: Sim<u8> = Sim::new(1);
/// assert!(with_net(&mut perfect, |net, _, _| net.nodes()).is_err());
/// ```
pub fn with_net<M: Payload, R>(
    sim: &mut Sim<M>,
    f: impl FnOnce(&mut FaultyNetwork<M>, SimTime, &mut Outbox<M>) -> R,
) -> Result<R, NetError> {
    let nodes = sim.node_count();
    sim.control_network::<FaultyNetwork<M>, R>(|net, now, out| {
        net.ensure_nodes(nodes);
        f(net, now, out)
    })
    .ok_or(NetError::NotFaulty)
}
