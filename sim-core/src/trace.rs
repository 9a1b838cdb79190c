//! Traces: the stable trace hash, the optional JSON-lines trace file, and run counters.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::hash::StableHasher;
use crate::network::DropCause;
use crate::{NodeId, SimTime};

/// Counts of what happened in a run.
///
/// ```
/// use sim_core::Counters;
/// let c = Counters::default();
/// assert_eq!(c.dropped_total(), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Events executed (deliveries, timer firings, polls, control events).
    pub events: u64,
    /// Messages sent by actors.
    pub sent: u64,
    /// Messages handed to actors.
    pub delivered: u64,
    /// Extra copies created by duplication (delivered or not).
    pub duplicated: u64,
    /// Messages dropped, by cause (see [`DropCause::ALL`] for the order).
    pub dropped: [u64; 5],
    /// Timers set.
    pub timers_set: u64,
    /// Timers fired.
    pub timers_fired: u64,
    /// Timers cancelled before firing.
    pub timers_cancelled: u64,
    /// Polls after wake-ups.
    pub polls: u64,
    /// Node crashes.
    pub crashes: u64,
    /// Node restarts.
    pub restarts: u64,
    /// Faults applied (partitions, pauses, clock changes, ...).
    pub faults: u64,
}

impl Counters {
    /// Messages dropped for `cause`.
    pub fn dropped(&self, cause: DropCause) -> u64 {
        self.dropped[cause.index()]
    }

    /// Messages dropped for any cause.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

/// A 64-bit trace hash, printed as 16 hex digits.
///
/// ```
/// use sim_core::TraceHash;
/// assert_eq!(TraceHash(255).to_string(), "00000000000000ff");
/// assert_eq!(serde_json::to_string(&TraceHash(255)).unwrap(), r#""00000000000000ff""#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TraceHash(pub u64);

impl Serialize for TraceHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TraceHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16).map(TraceHash).map_err(|_| {
            serde::de::Error::custom(format!("trace hash {text:?} is not 16 hex digits"))
        })
    }
}

impl fmt::Display for TraceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The kind of a traced event (stable codes: they feed the hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Deliver = 1,
    Timer = 2,
    Poll = 3,
    Drop = 4,
    Control = 5,
    Crash = 6,
    Restart = 7,
    Pause = 8,
    Resume = 9,
    Clock = 10,
    Fault = 11,
    Start = 12,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Deliver => "deliver",
            Kind::Timer => "timer",
            Kind::Poll => "poll",
            Kind::Drop => "drop",
            Kind::Control => "control",
            Kind::Crash => "crash",
            Kind::Restart => "restart",
            Kind::Pause => "pause",
            Kind::Resume => "resume",
            Kind::Clock => "clock",
            Kind::Fault => "fault",
            Kind::Start => "start",
        }
    }
}

/// Accumulates the trace hash and writes the optional trace file.
pub(crate) struct Tracer {
    hash: StableHasher,
    index: u64,
    writer: Option<Box<dyn Write>>,
    write_error: Option<String>,
    event_hashes: Option<Vec<u64>>,
}

impl Tracer {
    pub(crate) fn new() -> Self {
        Tracer {
            hash: StableHasher::default(),
            index: 0,
            writer: None,
            write_error: None,
            event_hashes: None,
        }
    }

    pub(crate) fn set_writer(&mut self, w: Box<dyn Write>) {
        self.writer = Some(w);
    }

    pub(crate) fn keep_event_hashes(&mut self) {
        self.event_hashes.get_or_insert_with(Vec::new);
    }

    pub(crate) fn event_hashes(&self) -> Option<&[u64]> {
        self.event_hashes.as_deref()
    }

    pub(crate) fn hash(&self) -> TraceHash {
        TraceHash(self.hash.finish())
    }

    pub(crate) fn write_error(&self) -> Option<&str> {
        self.write_error.as_deref()
    }

    /// Records one event. `detail` is only formatted when a trace file is being written.
    #[inline(always)]
    pub(crate) fn record(
        &mut self,
        time: SimTime,
        kind: Kind,
        node: Option<NodeId>,
        peer: Option<NodeId>,
        payload: u64,
        detail: &dyn Fn() -> String,
    ) {
        self.record_sent(time, kind, node, peer, payload, None, detail);
    }

    /// [`Tracer::record`] for a delivery: `sent` (when the message was sent) goes into the
    /// trace file as `sent_t` so that a viewer can draw the message from send to delivery. It
    /// is not part of the hash: the hash of a delivery is the same as before the field existed.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record_sent(
        &mut self,
        time: SimTime,
        kind: Kind,
        node: Option<NodeId>,
        peer: Option<NodeId>,
        payload: u64,
        sent: Option<SimTime>,
        detail: &dyn Fn() -> String,
    ) {
        let mut h = StableHasher::default();
        (
            time.as_nanos(),
            kind as u8,
            node.map_or(u32::MAX, |n| n.0),
            peer.map_or(u32::MAX, |n| n.0),
            payload,
        )
            .hash(&mut h);
        let eh = h.finish();
        self.hash.write_u64(eh);
        if self.event_hashes.is_some() || self.writer.is_some() {
            self.record_slow(eh, time, kind, node, peer, sent, detail);
        }
        self.index += 1;
    }

    /// The rarely used part of [`Tracer::record`]: keeping per-event hashes, writing the file.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn record_slow(
        &mut self,
        eh: u64,
        time: SimTime,
        kind: Kind,
        node: Option<NodeId>,
        peer: Option<NodeId>,
        sent: Option<SimTime>,
        detail: &dyn Fn() -> String,
    ) {
        if let Some(v) = &mut self.event_hashes {
            v.push(eh);
        }
        if let Some(w) = &mut self.writer {
            let mut line = serde_json::json!({
                "i": self.index,
                "t": time.as_nanos(),
                "time": time.to_string(),
                "event": kind.name(),
                "node": node.map(|n| n.0),
                "peer": peer.map(|n| n.0),
                "detail": detail(),
            });
            if let (Some(sent), Some(obj)) = (sent, line.as_object_mut()) {
                obj.insert("sent_t".into(), sent.as_nanos().into());
            }
            if let Err(e) = writeln!(w, "{line}") {
                self.write_error.get_or_insert_with(|| e.to_string());
                self.writer = None;
            }
        }
    }

    pub(crate) fn flush(&mut self) {
        if let Some(w) = &mut self.writer {
            if let Err(e) = w.flush() {
                self.write_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}
