//! `tracing` integration: log lines carry the virtual time and node of the event being run.
//!
//! The kernel sets the current virtual time and node (a thread-local: one simulation runs on one
//! thread) while each event executes; [`VirtualTime`] prints them as `[12.004381s n3]`.

use std::cell::Cell;

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

use crate::{NodeId, SimTime};

thread_local! {
    static CURRENT: Cell<(u64, u32)> = const { Cell::new((0, u32::MAX)) };
}

/// Sets the virtual time and node for log lines on this thread.
#[inline]
pub(crate) fn set_current(time: SimTime, node: Option<NodeId>) {
    CURRENT.with(|c| c.set((time.as_nanos(), node.map_or(u32::MAX, |n| n.0))));
}

/// The virtual time and node of the event running on this thread.
pub fn current() -> (SimTime, Option<NodeId>) {
    let (t, n) = CURRENT.with(Cell::get);
    (SimTime::from_nanos(t), (n != u32::MAX).then_some(NodeId(n)))
}

/// A `tracing-subscriber` timer printing virtual time and node instead of the wall clock.
///
/// ```no_run
/// tracing_subscriber::fmt().with_timer(sim_core::log::VirtualTime).init();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct VirtualTime;

impl FormatTime for VirtualTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let (t, n) = current();
        match n {
            Some(n) => write!(w, "[{t} {n}]"),
            None => write!(w, "[{t}]"),
        }
    }
}

/// Installs a `tracing` subscriber that prints virtual timestamps, filtered by `RUST_LOG`
/// (default: warnings). Does nothing if a subscriber is already installed.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(VirtualTime)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}
