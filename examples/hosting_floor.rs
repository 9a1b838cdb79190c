//! What hosting an actix actor costs at the least, on this machine.
//!
//! ```text
//! cargo run --release --example hosting_floor [-- --polls 2000000]
//! ```
//!
//! The kernel runs every handler inside one poll of the actor's `ContextFut`: a handler may
//! `ctx.spawn`, `ctx.notify`, `ctx.wait` or `ctx.stop`, and only a poll runs what it left in
//! its context, at the same virtual instant. actix has no public way to tell whether a handler
//! left anything, so each delivery needs a whole poll — which always polls the mailbox channel
//! (atomics, waker registration) and walks the context's item lists. This program measures, best
//! of five rounds:
//!
//! - `direct`: a plain method call doing the handler's work (no actix): the ceiling;
//! - `poll`: one `ContextFut::poll` of an actor with an empty mailbox and one pending item;
//! - `do_send+poll`: a message through actix's mailbox and the poll that handles it.
//!
//! Last line: `direct_ns=<f> poll_ns=<f> do_send_poll_ns=<f> poll_ceiling_events_per_sec=<n>`,
//! the ceiling being what a kernel that did nothing but the poll would reach.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context as TaskContext, Waker};
use std::time::Instant;

use actix::fut::wrap_future;
use actix::prelude::*;

struct Add(u64);

impl Message for Add {
    type Result = ();
}

struct Counter {
    sum: u64,
}

impl Counter {
    #[inline(never)]
    fn add(&mut self, v: u64) {
        self.sum = self.sum.wrapping_add(v);
    }
}

impl Actor for Counter {
    type Context = Context<Self>;
}

impl Handler<Add> for Counter {
    type Result = ();
    fn handle(&mut self, m: Add, _: &mut Context<Self>) {
        self.add(m.0);
    }
}

/// Nanoseconds per call of `f`, the best of five rounds of `n` calls.
fn best_ns(n: u64, mut f: impl FnMut(u64)) -> f64 {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for i in 0..n {
                f(i);
            }
            start.elapsed().as_secs_f64() * 1e9 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = match args.iter().position(|a| a == "--polls") {
        Some(i) => match args.get(i + 1).and_then(|v| v.parse::<u64>().ok()) {
            Some(n) if n > 0 => n,
            _ => {
                eprintln!("hosting_floor: --polls needs a positive whole number");
                std::process::exit(2);
            }
        },
        None => 2_000_000,
    };

    let mut plain = Counter { sum: 0 };
    let direct = best_ns(n, |i| plain.add(black_box(i)));

    let mut ctx: Context<Counter> = Context::new();
    let addr = ctx.address();
    // One item that never completes, as the kernel's inlet is.
    ctx.spawn(wrap_future(std::future::pending::<()>()));
    let mut fut = ctx.into_future(Counter { sum: 0 });
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut poll = || {
        let _ = Pin::new(&mut fut).poll(&mut cx);
    };
    poll(); // started()
    let polled = best_ns(n, |_| poll());
    let sent = best_ns(n, |i| {
        addr.do_send(Add(i));
        poll();
    });

    println!("direct call:            {direct:7.1} ns");
    println!("ContextFut::poll:       {polled:7.1} ns   (the least a hosted handler costs)");
    println!("do_send + poll:         {sent:7.1} ns   (actix's mailbox path)");
    println!(
        "direct_ns={direct:.1} poll_ns={polled:.1} do_send_poll_ns={sent:.1} poll_ceiling_events_per_sec={:.0}",
        1e9 / polled
    );
    black_box(plain.sum);
}
