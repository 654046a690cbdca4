//! The runner: it owns the loop and decides when to stop; observers record.
//!
//! [`Run::run`] drives any [`Game`] (a reduced game or a neural GAN) with any [`Rule`]
//! and reports each state to an [`Observer`]; [`Run::simulate`] is a run with an
//! observer that records every state into a [`Trajectory`].

use std::ops::ControlFlow;

use serde::Serialize;

use super::{Rule, RuleState};
use crate::error::Result;
use crate::game::Game;
use crate::linalg::{Vector, all_finite};

/// Default bound on ‖x − x*‖ beyond which a run counts as diverged (the peers use 1e3).
pub const DEFAULT_DIVERGE_BOUND: f64 = 1e3;

/// Why a run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Stop {
    /// All steps were taken.
    Budget,
    /// ‖x − x*‖ passed the bound at this step.
    Diverged {
        /// The first step past the bound.
        step: usize,
    },
    /// A coordinate became NaN or infinite at this step.
    NonFinite {
        /// The first non-finite step.
        step: usize,
    },
    /// A signal (SIGINT, SIGTERM) stopped the run after this step ([`crate::interrupt`]).
    Interrupted {
        /// The last step completed.
        step: usize,
        /// The signal.
        signal: crate::interrupt::Signal,
    },
    /// The observer ended the run after this step (e.g. a neural GAN's loss became
    /// non-finite while its parameters stayed finite); counted as a divergence by
    /// [`Stop::diverged_step`].
    Halted {
        /// The step after which the observer stopped the run.
        step: usize,
        /// The observer's reason.
        why: String,
    },
}

impl Stop {
    /// The step at which the run diverged, if it did.
    #[must_use]
    pub fn diverged_step(&self) -> Option<usize> {
        match self {
            Stop::Budget | Stop::Interrupted { .. } => None,
            Stop::Diverged { step } | Stop::NonFinite { step } | Stop::Halted { step, .. } => {
                Some(*step)
            }
        }
    }
    /// A short human-readable description, e.g. "diverged at step 412".
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Stop::Budget => "ran all steps".into(),
            Stop::Diverged { step } => format!("diverged at step {step}"),
            Stop::NonFinite { step } => format!("non-finite at step {step}"),
            Stop::Halted { step, why } => format!("halted at step {step}: {why}"),
            Stop::Interrupted { step, signal } => {
                format!("interrupted at step {step} by {}", signal.name())
            }
        }
    }
}

/// The memory a recorded run of `steps` steps in `dim` coordinates needs (each state is
/// a vector of its own: its numbers plus about 40 bytes of vector and allocation), for
/// refusing what cannot fit before it starts ([`crate::budget::check_memory`]).
#[must_use]
pub fn trajectory_bytes(steps: usize, dim: usize) -> u128 {
    crate::budget::product(&[steps as u128 + 1, 40 + 8 * dim as u128])
}

/// A recorded run: the states at steps 0, 1, …, with the reason it ended. Only finite
/// states are recorded: a run that leaves the finite numbers stops before that state.
#[derive(Debug, Clone, Serialize)]
pub struct Trajectory {
    /// States x_0, x_1, … (each of the game's dimension).
    pub states: Vec<Vec<f64>>,
    /// Why the run ended.
    pub stop: Stop,
    /// The step budget the run was given (the classification measures its late half
    /// and stall window against the budget, so that a run that stops early is measured
    /// as the engine measures it).
    pub budget: usize,
}

/// Watches a run. The runner calls [`Observer::observe`] with x₀ (step 0) and with
/// every finite state after it; `Ok(Break(reason))` ends the run as [`Stop::Halted`] and
/// an error ends it and is returned by [`Run::run`] (an observer that writes files can
/// fail). Observers compose: [`Every`] thins one out, a pair `(a, b)` calls both.
pub trait Observer {
    /// Sees the state after `step` (and the rule state, e.g. for Adam's step count).
    ///
    /// # Errors
    /// Whatever the observer's own work raises; the run stops there.
    fn observe(
        &mut self,
        step: usize,
        x: &Vector,
        state: &RuleState,
    ) -> Result<ControlFlow<String>>;
}

/// Any `FnMut(step, x, state) -> ControlFlow<String>` closure is an (infallible) observer.
impl<F: FnMut(usize, &Vector, &RuleState) -> ControlFlow<String>> Observer for F {
    fn observe(
        &mut self,
        step: usize,
        x: &Vector,
        state: &RuleState,
    ) -> Result<ControlFlow<String>> {
        Ok(self(step, x, state))
    }
}

/// Two observers, called in order; the first that halts or fails ends the step.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn observe(
        &mut self,
        step: usize,
        x: &Vector,
        state: &RuleState,
    ) -> Result<ControlFlow<String>> {
        if let ControlFlow::Break(why) = self.0.observe(step, x, state)? {
            return Ok(ControlFlow::Break(why));
        }
        self.1.observe(step, x, state)
    }
}

/// An optional observer: `None` sees nothing.
impl<O: Observer> Observer for Option<O> {
    fn observe(
        &mut self,
        step: usize,
        x: &Vector,
        state: &RuleState,
    ) -> Result<ControlFlow<String>> {
        match self {
            Some(o) => o.observe(step, x, state),
            None => Ok(ControlFlow::Continue(())),
        }
    }
}

/// An observer that sees only step 0, every `every`-th step and step `last` (if given,
/// e.g. the last step of the budget, so a log always ends with the final state).
pub struct Every<O> {
    every: usize,
    last: Option<usize>,
    inner: O,
}

impl<O: Observer> Every<O> {
    /// Forwards steps 0, n, 2n, … to `inner` (n = 0 forwards only step 0 and `last`).
    #[must_use]
    pub fn new(every: usize, inner: O) -> Self {
        Every {
            every,
            last: None,
            inner,
        }
    }
    /// Also forwards step `last`.
    #[must_use]
    pub fn and_at(mut self, last: usize) -> Self {
        self.last = Some(last);
        self
    }
    /// The wrapped observer.
    pub fn into_inner(self) -> O {
        self.inner
    }
    /// The wrapped observer, by reference.
    pub fn inner(&self) -> &O {
        &self.inner
    }
}

impl<O: Observer> Observer for Every<O> {
    fn observe(
        &mut self,
        step: usize,
        x: &Vector,
        state: &RuleState,
    ) -> Result<ControlFlow<String>> {
        let due = step == 0
            || (self.every > 0 && step.is_multiple_of(self.every))
            || self.last == Some(step);
        if due {
            self.inner.observe(step, x, state)
        } else {
            Ok(ControlFlow::Continue(()))
        }
    }
}

/// The divergence bound of a run: ‖x − center‖ > bound ends it as [`Stop::Diverged`]
/// (an infinite bound turns the check off, as the neural trainer does).
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The point distances are measured from (the equilibrium, or the origin).
    pub center: Vector,
    /// The largest allowed distance.
    pub radius: f64,
}

impl Bound {
    /// No bound: only non-finite states (and the observer) end a run early.
    #[must_use]
    pub fn none() -> Self {
        Bound {
            center: Vector::zeros(0),
            radius: f64::INFINITY,
        }
    }
    /// ‖x − center‖ > radius ends a run.
    #[must_use]
    pub fn around(center: &Vector, radius: f64) -> Self {
        Bound {
            center: center.clone(),
            radius,
        }
    }
}

/// A run to be made: `rule` on `game` for at most `steps` outer steps within `bound`.
pub struct Run<'a> {
    /// The field.
    pub game: &'a dyn Game,
    /// The update rule.
    pub rule: &'a Rule,
    /// The step budget.
    pub steps: usize,
    /// The divergence bound.
    pub bound: Bound,
}

impl Run<'_> {
    /// Runs from the state `(x, state)`, in place, and says why it ended. The loop, in
    /// order, for k = 1, 2, …: one [`Rule::step`]; a non-finite coordinate ends the run
    /// ([`Stop::NonFinite`], not observed); the observer sees x_k and may halt;
    /// ‖x_k − center‖ > radius ends it ([`Stop::Diverged`]; ‖·‖² is
    /// [`super::stats::dist2`], compared with [`super::stats::bound_threshold`], which is
    /// the same test). On a non-finite stop `x` holds the non-finite state. A signal
    /// ([`crate::interrupt`]) ends it before the next step ([`Stop::Interrupted`]).
    ///
    /// # Errors
    /// An error of the observer, which ends the run.
    pub fn run(
        &self,
        x: &mut Vector,
        state: &mut RuleState,
        observer: &mut dyn Observer,
    ) -> Result<Stop> {
        if let ControlFlow::Break(why) = observer.observe(0, x, state)? {
            return Ok(Stop::Halted { step: 0, why });
        }
        let bound = &self.bound;
        let threshold = super::stats::bound_threshold(bound.radius);
        for k in 1..=self.steps {
            if let Some(signal) = crate::interrupt::requested() {
                return Ok(Stop::Interrupted {
                    step: k - 1,
                    signal,
                });
            }
            self.rule.step(self.game, x, state);
            if !all_finite(x.as_slice()) {
                return Ok(Stop::NonFinite { step: k });
            }
            if let ControlFlow::Break(why) = observer.observe(k, x, state)? {
                return Ok(Stop::Halted { step: k, why });
            }
            if bound.radius.is_finite()
                && super::stats::dist2(x.as_slice(), bound.center.as_slice()) > threshold
            {
                return Ok(Stop::Diverged { step: k });
            }
        }
        Ok(Stop::Budget)
    }

    /// Runs from `x0` with fresh rule state (seed 0) and records every state.
    #[must_use]
    pub fn simulate(&self, x0: &Vector) -> Trajectory {
        let mut x = x0.clone();
        let mut state = self.rule.init(self.game);
        let mut states = Vec::with_capacity(self.steps.saturating_add(1).min(1 << 20));
        let mut record = |_: usize, x: &Vector, _: &RuleState| {
            states.push(x.iter().copied().collect());
            ControlFlow::Continue(())
        };
        // A recording observer cannot fail.
        let stop = self
            .run(&mut x, &mut state, &mut record)
            .unwrap_or_else(|e| Stop::Halted {
                step: 0,
                why: e.to_string(),
            });
        Trajectory {
            states,
            stop,
            budget: self.steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::{RuleName, RuleSpec};

    fn simulate(
        game: &dyn Game,
        rule: &Rule,
        x0: &Vector,
        steps: usize,
        center: &Vector,
        bound: f64,
    ) -> Trajectory {
        Run {
            game,
            rule,
            steps,
            bound: Bound::around(center, bound),
        }
        .simulate(x0)
    }
    use crate::game::{Dirac, DiracLoss, LotkaVolterra};

    #[test]
    fn simultaneous_gan_from_published_start() {
        // From (1, 1) with h = 0.2 over 500 steps, r grows from 1.414 to about 3.10
        // (SETUPS.md A; GAN_stability notebook).
        let rule = RuleSpec::new(RuleName::Simultaneous, 0.2, 0.2)
            .unwrap()
            .build()
            .unwrap();
        let t = simulate(
            &Dirac::default(),
            &rule,
            &Vector::from_vec(vec![1.0, 1.0]),
            500,
            &Vector::zeros(2),
            1e3,
        );
        let last = t.states.last().unwrap();
        let r = (last[0] * last[0] + last[1] * last[1]).sqrt();
        assert!((r - 3.10).abs() < 0.01, "r = {r}");
    }

    #[test]
    fn rk4_conserves_invariants() {
        // θ² + ψ² (Dirac) and V (Lotka–Volterra) to about 1e-13 per unit time at dt = 0.01.
        let rule = RuleSpec::new(RuleName::Flow, 0.01, 0.01)
            .unwrap()
            .build()
            .unwrap();
        for loss in [DiracLoss::Standard, DiracLoss::Wgan] {
            let g = Dirac::new(loss);
            let t = simulate(
                &g,
                &rule,
                &Vector::from_vec(vec![1.0, 1.0]),
                2000,
                &Vector::zeros(2),
                1e3,
            );
            let r0 = 2.0;
            let drift = t
                .states
                .iter()
                .map(|s| (s[0] * s[0] + s[1] * s[1] - r0).abs())
                .fold(0.0, f64::max);
            assert!(drift < 1e-10, "{loss:?}: drift {drift}");
        }
        let lv = LotkaVolterra {
            alpha: 2.0 / 3.0,
            beta: 4.0 / 3.0,
            gamma: 1.0,
            delta: 1.0,
        };
        let x0 = Vector::from_vec(vec![1.0, 1.0]);
        let v0 = lv.conserved(&x0).unwrap().value;
        let t = simulate(&lv, &rule, &x0, 3000, &lv.equilibrium().unwrap(), 1e3);
        let drift = t
            .states
            .iter()
            .map(|s| (lv.conserved(&Vector::from_vec(s.clone())).unwrap().value - v0).abs())
            .fold(0.0, f64::max);
        assert!(drift < 1e-10, "LV drift {drift}");
        // Explicit Euler on LV drifts outward.
        let euler = RuleSpec::new(RuleName::Simultaneous, 0.01, 0.01)
            .unwrap()
            .build()
            .unwrap();
        let t = simulate(&lv, &euler, &x0, 3000, &lv.equilibrium().unwrap(), 1e3);
        let v_end = lv
            .conserved(&Vector::from_vec(t.states.last().unwrap().clone()))
            .unwrap()
            .value;
        assert!(v_end > v0 + 1e-4);
    }

    #[test]
    fn divergence_is_recorded_not_panicked() {
        let rule = RuleSpec::new(RuleName::Simultaneous, 5.0, 5.0)
            .unwrap()
            .build()
            .unwrap();
        let g = Dirac::new(DiracLoss::Wgan);
        let t = simulate(
            &g,
            &rule,
            &Vector::from_vec(vec![1.0, 1.0]),
            10_000,
            &Vector::zeros(2),
            1e3,
        );
        // r²_k = 2·26^k: the first k with r_k > 1e3 is the first with 2·26^k > 1e6.
        let expected = (1..).find(|&k| 2.0 * 26f64.powi(k) > 1e6).unwrap() as usize;
        assert_eq!(t.stop, Stop::Diverged { step: expected });
        assert!(t.states.iter().flatten().all(|v| v.is_finite()));
    }
}
