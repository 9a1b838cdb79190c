//! A benchmark of planted bugs of real classes, each with its correct twin, for measuring how
//! well a testing strategy finds them.
//!
//! [`catalog`] lists every bug: its name, class, description, the consistency model whose
//! checker catches it, the [`Setup`] it is benchmarked in, and the buggy protocol next to its
//! correct twin (the same protocol with the bug off). Every protocol is an ordinary
//! [`Protocol`]: the Raft bugs are knobs of the built-in Raft core
//! ([`models::raft::RaftBugs`]), the causal bug a knob of the built-in causal protocol, and the
//! quorum register ([`quorum`]) and the last-writer-wins store ([`eventual`]) are written here
//! against the public trait. A bug counts as found only when a real checker's verdict fails
//! the run (through [`Experiment::run`]), never by a bug-specific assertion.
//!
//! The strategies are actsim's own ([`models::strategy::Strategy`]: per-seed ones, the
//! portfolio, and the coverage-guided search of [`models::explore`]); `examples/bench_bugs.rs`
//! prints the table bug x strategy.
//!
//! ```no_run
//! for case in bugbench::catalog() {
//!     let seed = 7;
//!     let buggy = case.buggy.run(&case.setup, seed).unwrap();
//!     let twin = case.twin.run(&case.setup, seed).unwrap();
//!     println!("{}: buggy {:?}, twin {:?}", case.name, buggy, twin);
//! }
//! ```

pub mod causal;
pub mod eventual;
pub mod quorum;
pub mod raft;

use models::check::Model;
use models::evaluate::Evaluation;
use models::experiment::{Experiment, ExperimentError, Nemesis, Setup};
use models::explore::{Exploration, Explore};
use models::protocol::Protocol;
use models::runner::{Report, Runner};

/// A protocol configuration behind a type-erased door: runs and sweeps it in a setup.
///
/// ```no_run
/// use bugbench::{Subject, Target};
/// use bugbench::quorum::Abd;
/// let t: Box<dyn Subject> = Box::new(Target(Abd::default()));
/// let verdict = t.run(&models::experiment::Setup::default(), 3).unwrap();
/// assert!(verdict.is_none());
/// ```
pub trait Subject: Send + Sync {
    /// The protocol's name.
    fn name(&self) -> &str;
    /// The model it promises.
    fn model(&self) -> Model;
    /// Runs `seed` in `setup`: `Ok(Some(violation))` if a checker (or a run error) fails it.
    fn run(&self, setup: &Setup, seed: u64) -> Result<Option<String>, ExperimentError>;
    /// Sweeps `runner`'s seeds in `setup` (under the runner's strategy, if it has one).
    fn sweep(&self, setup: &Setup, runner: Runner) -> Report<Evaluation>;
    /// A coverage-guided search from `setup` ([`Experiment::explore`]).
    fn explore(&self, setup: &Setup, search: &Explore) -> Result<Exploration, ExperimentError>;
}

/// Any [`Protocol`] as a [`Subject`].
///
/// ```
/// use bugbench::{Subject, Target};
/// use bugbench::eventual::Lww;
/// assert_eq!(Target(Lww::default()).name(), "lww");
/// ```
#[derive(Clone, Debug)]
pub struct Target<P>(pub P);

impl<P: Protocol> Subject for Target<P> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn model(&self) -> Model {
        self.0.model()
    }

    fn run(&self, setup: &Setup, seed: u64) -> Result<Option<String>, ExperimentError> {
        let exp = Experiment::new(self.0.clone()).setup(setup.clone());
        Ok(exp.run(seed)?.violation())
    }

    fn sweep(&self, setup: &Setup, runner: Runner) -> Report<Evaluation> {
        Experiment::new(self.0.clone())
            .setup(setup.clone())
            .sweep(runner)
    }

    fn explore(&self, setup: &Setup, search: &Explore) -> Result<Exploration, ExperimentError> {
        Experiment::new(self.0.clone())
            .setup(setup.clone())
            .explore(search)
    }
}

/// One planted bug: what it is, where it is benchmarked, and its correct twin.
///
/// ```
/// let case = &bugbench::catalog()[0];
/// assert_eq!(case.buggy.model(), case.twin.model());
/// assert!(case.setup.validate().is_ok());
/// ```
pub struct BugCase {
    /// The bug's name (as in test names and the table).
    pub name: &'static str,
    /// The protocol family (`raft`, `quorum`, `causal`, `eventual`).
    pub family: &'static str,
    /// The real bug class it stands for.
    pub class: &'static str,
    /// What the bug does and how a run exposes it.
    pub description: &'static str,
    /// The model whose checker catches it.
    pub model: Model,
    /// A documented invariant check of the implementation that may end a run of the bug
    /// before the checker sees it (the start of its panic message), if any.
    pub invariant: Option<&'static str>,
    /// The setup it is benchmarked in (the "random" strategy runs its nemesis as is).
    pub setup: Setup,
    /// The protocol with the bug.
    pub buggy: Box<dyn Subject>,
    /// The same protocol without it.
    pub twin: Box<dyn Subject>,
}

impl BugCase {
    /// True if `violation` (a failing seed's) is this bug's model's verdict or its invariant.
    ///
    /// ```
    /// let c = bugbench::BugCase::named("abd-no-write-back").unwrap();
    /// assert!(c.caught_by_design("linearizable: key 0: ..."));
    /// assert!(!c.caught_by_design("run error: panicked"));
    /// ```
    pub fn caught_by_design(&self, violation: &str) -> bool {
        violation.starts_with(self.model.name())
            || self.invariant.is_some_and(|i| violation.contains(i))
    }

    /// The case named `name`, if the catalog has one.
    ///
    /// ```
    /// assert!(bugbench::BugCase::named("abd-no-write-back").is_some());
    /// assert!(bugbench::BugCase::named("no-such-bug").is_none());
    /// ```
    pub fn named(name: &str) -> Option<BugCase> {
        catalog().into_iter().find(|c| c.name == name)
    }
}

/// Every bug of the benchmark.
///
/// ```
/// let all = bugbench::catalog();
/// assert!(all.len() >= 8);
/// assert!(all.iter().all(|c| c.buggy.name() == c.twin.name()));
/// ```
pub fn catalog() -> Vec<BugCase> {
    let mut all = quorum_cases();
    all.extend(raft::cases());
    all.extend(causal::cases());
    all.extend(eventual_cases());
    all
}

fn quorum_cases() -> Vec<BugCase> {
    use quorum::Abd;
    vec![
    BugCase {
        name: "abd-no-write-back",
        family: "quorum",
        class: "quorum read without write-back (new-old inversion)",
        description: "an ABD read returns the newest value of one majority without writing it \
                      back; a later read whose majority misses a half-stored write returns the \
                      older value",
        model: Model::Linearizable,
        invariant: None,
        setup: abd_setup(),
        buggy: Box::new(Target(Abd {
            write_back: false,
            ..Abd::default()
        })),
        twin: Box::new(Target(Abd::default())),
    },
    BugCase {
        name: "abd-write-no-query",
        family: "quorum",
        class: "multi-writer quorum write without the timestamp query (lost update)",
        description: "an ABD write stamps itself one above the coordinator's own copy instead of                       a majority's highest; a coordinator that missed a completed write stamps                       a newer one below it, and the acknowledged write is lost",
        model: Model::Linearizable,
        invariant: None,
        setup: abd_setup(),
        buggy: Box::new(Target(Abd {
            write_query: false,
            ..Abd::default()
        })),
        twin: Box::new(Target(Abd::default())),
    }]
}

/// The quorum register's setup, as measured outside this repo: 3 replicas, 6 clients, the
/// random nemesis of halves, isolation and pauses (no crashes: the register keeps no durable
/// state), uniform 1–10 ms links losing 2% of messages.
fn abd_setup() -> Setup {
    Setup {
        replicas: 3,
        clients: 6,
        nemesis: Nemesis::random([
            sim_net::FaultKind::Halves,
            sim_net::FaultKind::Isolate,
            sim_net::FaultKind::Pause,
        ]),
        link: sim_net::LinkConfig {
            loss: 0.02,
            ..Setup::default().link
        },
        ..Setup::default()
    }
}

fn eventual_cases() -> Vec<BugCase> {
    use eventual::Lww;
    vec![BugCase {
        name: "lww-tie-local",
        family: "eventual",
        class: "last-writer-wins tie broken differently on different replicas",
        description: "versions are compared by their millisecond stamp only and a tie keeps the \
                      version held; two writes of a key in the same millisecond on two replicas \
                      never converge",
        model: Model::Eventual,
        invariant: None,
        setup: standard(5),
        buggy: Box::new(Target(Lww {
            tie_keeps_local: true,
        })),
        twin: Box::new(Target(Lww::default())),
    }]
}

/// The ordinary setup most bugs are benchmarked in: `replicas` replicas, two clients each,
/// [`Nemesis::standard`] (halves, isolation, majorities ring, crash, pause), the default
/// phases (2 s healthy, 10 s faults, 5 s quiet) and links (uniform 1–10 ms).
///
/// ```
/// let s = bugbench::standard(5);
/// assert_eq!((s.replicas, s.clients), (5, 10));
/// ```
pub fn standard(replicas: u32) -> Setup {
    Setup {
        replicas,
        clients: 2 * replicas,
        nemesis: Nemesis::standard(),
        ..Setup::default()
    }
}
