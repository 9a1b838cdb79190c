//! BUGGIFY fault points: off unless enabled, deterministic per seed, sites enabled per seed.

use std::time::Duration;

use actix::{Actor, Context, Handler};
use sim_core::{Deliver, Durable, Env, Sim, SimEnv, SimTime, Timeout};

struct Prober {
    env: SimEnv<u8, ()>,
    fired: Durable<[u32; 2]>,
}

impl Actor for Prober {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        self.env.set_timer(Duration::from_millis(1), ());
    }
}

impl Handler<Deliver<u8>> for Prober {
    type Result = ();
    fn handle(&mut self, _: Deliver<u8>, _: &mut Context<Self>) {}
}

impl Handler<Timeout<()>> for Prober {
    type Result = ();
    fn handle(&mut self, _: Timeout<()>, _: &mut Context<Self>) {
        let (a, b) = (self.env.buggify(), self.env.buggify());
        let mut f = self.fired.borrow_mut();
        f[0] += u32::from(a);
        f[1] += u32::from(b);
        self.env.set_timer(Duration::from_millis(1), ());
    }
}

fn fired(seed: u64, on: bool) -> [u32; 2] {
    let mut sim: Sim<u8> = Sim::new(seed);
    if on {
        sim.enable_buggify();
    }
    let id = sim.add_node("p", [0u32; 2], |env, fired| Prober { env, fired });
    sim.run_until(SimTime::from_millis(400)).expect("runs");
    let f = *sim.durable::<[u32; 2]>(id).expect("state").borrow();
    f
}

#[test]
fn buggify_is_off_unless_enabled_and_a_function_of_the_seed() {
    let mut sites_on = [0; 2];
    for seed in 0..40 {
        assert_eq!(fired(seed, false), [0, 0], "off: never fires");
        let f = fired(seed, true);
        assert_eq!(
            f,
            fired(seed, true),
            "seed {seed}: the same seed, the same firings"
        );
        for (i, n) in f.iter().enumerate() {
            if *n > 0 {
                sites_on[i] += 1;
                // An enabled site fires on about a quarter of its ~400 calls.
                assert!(
                    (40..=160).contains(n),
                    "seed {seed} site {i}: {n} of ~400 calls"
                );
            }
        }
    }
    // Each site is enabled for about a quarter of the seeds: some, not all.
    for (i, n) in sites_on.iter().enumerate() {
        assert!((2..=25).contains(n), "site {i} enabled on {n} of 40 seeds");
    }
}
