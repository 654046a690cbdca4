//! The runner: it owns the loop, records the trajectory and decides when to stop.

use serde::Serialize;

use super::Rule;
use crate::game::Game;
use crate::linalg::Vector;

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
}

impl Stop {
    /// The step at which the run diverged, if it did.
    #[must_use]
    pub fn diverged_step(&self) -> Option<usize> {
        match self {
            Stop::Budget => None,
            Stop::Diverged { step } | Stop::NonFinite { step } => Some(*step),
        }
    }
    /// A short human-readable description, e.g. "diverged at step 412".
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Stop::Budget => "ran all steps".into(),
            Stop::Diverged { step } => format!("diverged at step {step}"),
            Stop::NonFinite { step } => format!("non-finite at step {step}"),
        }
    }
}

/// A recorded run: the states at steps 0, 1, …, with the reason it ended. Only finite
/// states are recorded: a run that leaves the finite numbers stops before that state.
#[derive(Debug, Clone, Serialize)]
pub struct Trajectory {
    /// States x_0, x_1, … (each of the game's dimension).
    pub states: Vec<Vec<f64>>,
    /// Why the run ended.
    pub stop: Stop,
}

/// Runs `rule` on `game` from `x0` for at most `steps` outer steps. The distance for the
/// divergence bound is measured from `center` (the equilibrium, or the origin).
#[must_use]
pub fn simulate(
    game: &dyn Game,
    rule: &Rule,
    x0: &Vector,
    steps: usize,
    center: &Vector,
    bound: f64,
) -> Trajectory {
    let mut x = x0.clone();
    let mut state = rule.init(game);
    let mut states = Vec::with_capacity(steps + 1);
    states.push(x.iter().copied().collect());
    let mut stop = Stop::Budget;
    for k in 1..=steps {
        rule.step(game, &mut x, &mut state);
        if x.iter().any(|v| !v.is_finite()) {
            stop = Stop::NonFinite { step: k };
            break;
        }
        states.push(x.iter().copied().collect());
        if (&x - center).norm() > bound {
            stop = Stop::Diverged { step: k };
            break;
        }
    }
    Trajectory { states, stop }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::{RuleName, RuleSpec};
    use crate::game::{Dirac, DiracLoss, LotkaVolterra};

    #[test]
    fn simultaneous_gan_from_published_start() {
        // From (1, 1) with h = 0.2 over 500 steps, r grows from 1.414 to about 3.10
        // (SETUPS.md A; GAN_stability notebook).
        let rule = RuleSpec::new(RuleName::Simultaneous, 0.2, 0.2)
            .build_rule()
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
            .build_rule()
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
            .build_rule()
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
            .build_rule()
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
