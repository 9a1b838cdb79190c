//! Runs independent jobs on a few threads (`std::thread::scope`), results in job order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `job(i)` for `i` in `order` (a permutation of `0..n`, biggest jobs first) on up to
/// `threads` threads; returns the results indexed by `i`.
pub(crate) fn run<T: Send, F: Fn(usize) -> T + Sync>(
    order: &[usize],
    threads: usize,
    job: F,
) -> Vec<T> {
    let n = order.len();
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |p| p.get())
    } else {
        threads
    }
    .min(n)
    .max(1);
    if threads == 1 {
        let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
        for &i in order {
            out[i] = Some(job(i));
        }
        return out.into_iter().flatten().collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = order.get(k) else { break };
                let r = job(i);
                if let Ok(mut res) = results.lock() {
                    res[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}
