//! Statistical checks: loss and duplication rates over 100k sends, latency means and quantiles.

mod common;

use common::{log, sinks};
use rand_pcg::Pcg64;
use sim_core::network::DropCause;
use sim_core::rng::{stream, Purpose};
use sim_core::{NodeId, SimTime};
use sim_net::{Latency, LinkConfig, NetConfig};

const N: u64 = 100_000;

/// |observed - expected| within `sigmas` standard deviations of a binomial(n, p) proportion.
fn assert_rate(what: &str, observed: u64, n: u64, p: f64, sigmas: f64) {
    let rate = observed as f64 / n as f64;
    let sd = (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (rate - p).abs() <= sigmas * sd + 1e-12,
        "{what}: rate {rate:.5} vs expected {p} (tolerance {:.5})",
        sigmas * sd
    );
}

#[test]
fn loss_and_duplication_rates_over_100k_sends() {
    for (seed, loss, dup) in [
        (1, 0.01, 0.01),
        (2, 0.1, 0.05),
        (3, 0.5, 0.3),
        (4, 0.0, 0.0),
    ] {
        let mut sim = sinks(
            seed,
            2,
            NetConfig::default().with_default(LinkConfig {
                loss,
                duplicate: dup,
                ..LinkConfig::default()
            }),
        );
        for i in 0..N {
            sim.post(NodeId(0), NodeId(1), i);
        }
        sim.run_until_quiescent().unwrap();
        let c = sim.counters().clone();
        let lost = c.dropped(DropCause::Loss);
        assert_eq!(c.dropped_total(), lost, "only loss drops");
        assert_rate("loss", lost, N, loss, 5.0);
        assert_rate("duplication", c.duplicated, N - lost, dup, 5.0);
        assert_eq!(c.delivered, N - lost + c.duplicated);
        assert_eq!(log(&sim, NodeId(1)).len() as u64, c.delivered);
    }
}

fn samples(l: &Latency, seed: u64) -> Vec<f64> {
    let mut rng: Pcg64 = stream(seed, Purpose::Custom(7));
    let mut v: Vec<f64> = (0..N)
        .map(|_| l.sample(&mut rng).as_nanos() as f64 / 1e6)
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs() + 1e-6,
        "{what}: got {got:.4}, want {want:.4} (±{:.1}%)",
        rel * 100.0
    );
}

#[test]
fn latency_mean_and_quantiles_match_each_distribution() {
    // Standard normal quantiles for the log-normal (no closed form).
    let z = [(0.5, 0.0), (0.9, 1.281_551_565_5), (0.99, 2.326_347_874)];
    let dists = [
        Latency::constant_ms(3.0),
        Latency::uniform_ms(1.0, 10.0),
        Latency::Exponential {
            floor_ms: 2.0,
            mean_ms: 12.0,
        },
        Latency::Pareto {
            scale_ms: 5.0,
            shape: 3.0,
            max_ms: None,
        },
        Latency::LogNormal {
            median_ms: 8.0,
            sigma: 0.5,
            max_ms: None,
        },
    ];
    for (i, d) in dists.iter().enumerate() {
        let s = samples(d, i as u64);
        let mean = s.iter().sum::<f64>() / s.len() as f64;
        close(&format!("{d:?} mean"), mean, d.mean_ms().unwrap(), 0.02);
        for (q, zq) in z {
            let want = match d {
                Latency::LogNormal {
                    median_ms, sigma, ..
                } => median_ms * (sigma * zq).exp(),
                _ => d.quantile_ms(q).unwrap(),
            };
            let tol = if q == 0.99 { 0.05 } else { 0.02 };
            close(&format!("{d:?} q{q}"), quantile(&s, q), want, tol);
        }
        assert!(
            s[0] >= d.quantile_ms(0.0).unwrap_or(0.0) - 1e-6,
            "{d:?} below its floor"
        );
    }
}

#[test]
fn capped_long_tails_respect_the_cap() {
    let d = Latency::Pareto {
        scale_ms: 1.0,
        shape: 0.8,
        max_ms: Some(250.0),
    };
    let s = samples(&d, 9);
    assert!(*s.last().unwrap() <= 250.0);
    close(
        "pareto capped median",
        quantile(&s, 0.5),
        d.quantile_ms(0.5).unwrap(),
        0.03,
    );
}

#[test]
fn network_latency_is_drawn_from_the_link_distribution() {
    // Through the kernel: arrival - send time over 20k messages, uniform 1–10 ms.
    let mut sim = sinks(5, 2, NetConfig::default());
    for i in 0..20_000 {
        sim.post(NodeId(0), NodeId(1), i);
    }
    sim.run_until_quiescent().unwrap();
    let mut v: Vec<f64> = log(&sim, NodeId(1))
        .iter()
        .map(|(at, _, _)| (*at - SimTime::ZERO).as_nanos() as f64 / 1e6)
        .collect();
    v.sort_by(f64::total_cmp);
    assert!(v[0] >= 1.0 && *v.last().unwrap() <= 10.0);
    close("mean", v.iter().sum::<f64>() / v.len() as f64, 5.5, 0.02);
    close("q0.9", quantile(&v, 0.9), 9.1, 0.02);
}
