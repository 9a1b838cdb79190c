//! The protocols a command line knows: each registered protocol behind one object-safe
//! [`Driver`], so the commands are written once, without knowing the protocol's types.

use std::any::Any;
use std::io::Write;
use std::sync::Arc;

use models::check::Model;
use models::evaluate::{EvalOptions, Evaluation};
use models::experiment::{Experiment, Outcome, Setup};
use models::explore::{Exploration, Explore};
use models::protocol::{Bug, Protocol};
use models::runner::RunOptions;
use models::scenario::{Scenario, ScenarioExperiment, ScenarioOutcome};
use models::shrink::Shrunk;

use super::CliError;

type Factory<P> = Arc<dyn Fn() -> P + Send + Sync>;

/// What the commands ask of a registered protocol; `bug` selects one of its planted bugs.
pub(crate) trait Driver: Send + Sync {
    /// The name on the command line.
    fn name(&self) -> &str;
    /// The model the protocol promises.
    fn model(&self) -> Model;
    /// Its planted bugs.
    fn bugs(&self) -> Vec<Bug>;
    /// The setup its experiments start from.
    fn setup(&self) -> Setup;
    /// Adds a planted bug (`factory` must be a `Factory<P>` of this protocol's type).
    fn add_bug(&mut self, bug: Bug, factory: Box<dyn Any>) -> Result<(), String>;
    /// Checks a setup for this protocol.
    fn validate(&self, bug: Option<&str>, setup: &Setup) -> Result<(), CliError>;
    /// Simulates and checks one seed.
    fn run(
        &self,
        bug: Option<&str>,
        setup: &Setup,
        eval: &EvalOptions,
        seed: u64,
        opts: &RunOptions,
        trace: Option<Box<dyn Write>>,
    ) -> Result<(Outcome, Evaluation), CliError>;
    /// Shrinks a failing seed against `model`.
    fn shrink(
        &self,
        bug: Option<&str>,
        setup: &Setup,
        eval: &EvalOptions,
        seed: u64,
    ) -> Result<Option<Shrunk>, CliError>;
    /// Runs a coverage-guided search; the failures' replay files name this protocol and bug.
    fn explore(
        &self,
        bug: Option<&str>,
        setup: &Setup,
        eval: &EvalOptions,
        search: &Explore,
    ) -> Result<Exploration, CliError>;
    /// Runs an application scenario.
    fn scenario(
        &self,
        scenario: Scenario,
        nemesis: &models::experiment::Nemesis,
        seed: u64,
        trace: Option<Box<dyn Write>>,
    ) -> Result<ScenarioOutcome, CliError>;
}

/// A protocol registered under a name, with its planted bugs.
pub(crate) struct Registered<P> {
    name: String,
    make: Factory<P>,
    bugs: Vec<(Bug, Factory<P>)>,
}

impl<P: Protocol> Registered<P> {
    pub(crate) fn new(name: String, make: impl Fn() -> P + Send + Sync + 'static) -> Self {
        Registered {
            name,
            make: Arc::new(make),
            bugs: Vec::new(),
        }
    }

    /// Boxes a bug factory the way [`Driver::add_bug`] expects it.
    pub(crate) fn bug_factory(f: impl Fn() -> P + Send + Sync + 'static) -> Box<dyn Any> {
        let f: Factory<P> = Arc::new(f);
        Box::new(f)
    }

    fn protocol(&self, bug: Option<&str>) -> Result<P, CliError> {
        match bug {
            None => Ok((self.make)()),
            Some(b) => self
                .bugs
                .iter()
                .find(|(bug, _)| bug.name == b)
                .map(|(_, f)| f())
                .ok_or_else(|| CliError::Flag {
                    flag: "bug",
                    reason: if self.bugs.is_empty() {
                        format!("protocol {} has no planted bugs", self.name)
                    } else {
                        format!(
                            "protocol {} has no bug {b:?} (its planted bugs: {})",
                            self.name,
                            self.bugs
                                .iter()
                                .map(|(b, _)| b.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    },
                }),
        }
    }

    fn experiment(
        &self,
        bug: Option<&str>,
        setup: &Setup,
        eval: Option<&EvalOptions>,
    ) -> Result<Experiment<P>, CliError> {
        let mut e = Experiment::new(self.protocol(bug)?).setup(setup.clone());
        if let Some(eval) = eval {
            e.checks = Some(eval.models.clone());
            e.budget = eval.budget.clone();
        }
        Ok(e)
    }
}

impl<P: Protocol> Driver for Registered<P> {
    fn name(&self) -> &str {
        &self.name
    }

    fn model(&self) -> Model {
        (self.make)().model()
    }

    fn bugs(&self) -> Vec<Bug> {
        self.bugs.iter().map(|(b, _)| *b).collect()
    }

    fn setup(&self) -> Setup {
        (self.make)().setup()
    }

    fn add_bug(&mut self, bug: Bug, factory: Box<dyn Any>) -> Result<(), String> {
        let f = factory.downcast::<Factory<P>>().map_err(|_| {
            format!(
                "bug {:?} was registered with a different protocol type than {:?}",
                bug.name, self.name
            )
        })?;
        self.bugs.push((bug, *f));
        Ok(())
    }

    fn validate(&self, bug: Option<&str>, setup: &Setup) -> Result<(), CliError> {
        Ok(self.experiment(bug, setup, None)?.validate()?)
    }

    fn run(
        &self,
        bug: Option<&str>,
        setup: &Setup,
        eval: &EvalOptions,
        seed: u64,
        opts: &RunOptions,
        trace: Option<Box<dyn Write>>,
    ) -> Result<(Outcome, Evaluation), CliError> {
        let exp = self.experiment(bug, setup, Some(eval))?;
        let mut attach = Ok(());
        let out = exp.simulate_with(seed, |sim| {
            if let Some(w) = trace {
                sim.set_trace_writer(w);
            }
            attach = opts.attach(sim);
        })?;
        attach.map_err(|e| CliError::File {
            path: opts
                .trace
                .as_ref()
                .map_or_else(String::new, |p| p.display().to_string()),
            reason: e.to_string(),
        })?;
        let ev = models::evaluate::evaluate(&out, eval);
        Ok((out, ev))
    }

    fn shrink(
        &self,
        bug: Option<&str>,
        setup: &Setup,
        eval: &EvalOptions,
        seed: u64,
    ) -> Result<Option<Shrunk>, CliError> {
        let exp = self.experiment(bug, setup, Some(eval))?;
        let mut shrunk = exp.shrink(seed)?;
        if let Some(s) = &mut shrunk {
            s.repro.protocol = self.name.clone();
            s.repro.bug = bug.map(str::to_string);
        }
        Ok(shrunk)
    }

    fn explore(
        &self,
        bug: Option<&str>,
        setup: &Setup,
        eval: &EvalOptions,
        search: &Explore,
    ) -> Result<Exploration, CliError> {
        let exp = self.experiment(bug, setup, Some(eval))?;
        let mut x = exp.explore(search)?;
        for f in &mut x.failures {
            f.repro.protocol = self.name.clone();
            f.repro.bug = bug.map(str::to_string);
        }
        Ok(x)
    }

    fn scenario(
        &self,
        scenario: Scenario,
        nemesis: &models::experiment::Nemesis,
        seed: u64,
        trace: Option<Box<dyn Write>>,
    ) -> Result<ScenarioOutcome, CliError> {
        let mut e = ScenarioExperiment::new(scenario, (self.make)());
        e.experiment.setup.nemesis = nemesis.clone();
        let mut out = e.run(seed, trace)?;
        out.protocol = self.name.clone();
        Ok(out)
    }
}
