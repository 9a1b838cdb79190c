//! Kernel throughput benchmark: real actix actors under virtual time.
//!
//! ```text
//! cargo run --release --example gossip_bench -- --seed 1 --deliveries 1000000 [--net simple|faulty]
//! ```
//!
//! 5 replicas + 3 clients. Each client keeps 4 requests outstanding to random replicas; each
//! reply triggers the next request; a 20 ms retry timer re-sends requests older than 30 ms. A
//! replica increments a counter on each request, replies, and gossips the counter to 2 random
//! peers; every replica broadcasts its counter to the other 4 on a 10 ms heartbeat. Network:
//! uniform 1–10 ms delay at ns resolution, 1% loss, 1% duplication, either through a minimal
//! hand-written network (`simple`) or through sim-net's `FaultyNetwork` (`faulty`). The last line printed is
//! `events=<n> elapsed_s=<f> events_per_sec=<n> trace_hash=<16 hex>`.

use std::time::Instant;

use sim_core::Sim;
use sim_net::{FaultyNetwork, Latency, LinkConfig, NetConfig};

#[path = "common/gossip.rs"]
mod gossip;
use gossip::{arg, build, Msg, SimpleNet, CLIENTS, REPLICAS};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parsed = (|| -> Result<(u64, u64, String), String> {
        Ok((
            arg(&args, "--seed", 1)?,
            arg(&args, "--deliveries", 1_000_000)?,
            arg(&args, "--net", "simple".to_string())?,
        ))
    })();
    let (seed, deliveries, net) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("gossip_bench: {e}");
            std::process::exit(2);
        }
    };
    let mut sim: Sim<Msg> = match net.as_str() {
        "simple" => Sim::with_network(seed, SimpleNet),
        "faulty" => {
            // The same link behaviour through sim-net's FaultyNetwork (reordering, no fault
            // active: its fast path).
            let config = NetConfig::new((REPLICAS + CLIENTS) as usize).with_default(LinkConfig {
                latency: Latency::uniform_ms(1.0, 10.0),
                loss: 0.01,
                duplicate: 0.01,
                fifo: false,
            });
            match FaultyNetwork::new(config) {
                Ok(net) => Sim::with_network(seed, net),
                Err(e) => {
                    eprintln!("gossip_bench: {e}");
                    std::process::exit(2);
                }
            }
        }
        other => {
            eprintln!("gossip_bench: unknown --net {other} (simple, faulty)");
            std::process::exit(2);
        }
    };
    build(&mut sim);
    let start = Instant::now();
    let r = sim.run_while(|s| s.counters().delivered < deliveries);
    let elapsed = start.elapsed().as_secs_f64();
    if let Err(e) = r {
        eprintln!("gossip_bench: {e}");
        std::process::exit(1);
    }
    let c = sim.counters();
    println!(
        "net={net} delivered={} sent={} dropped={} duplicated={} timers={} virtual_s={:.3}",
        c.delivered,
        c.sent,
        c.dropped_total(),
        c.duplicated,
        c.timers_fired,
        sim.now().as_secs_f64()
    );
    println!(
        "events={} elapsed_s={:.3} events_per_sec={:.0} trace_hash={}",
        c.events,
        elapsed,
        c.events as f64 / elapsed,
        sim.trace_hash()
    );
}
