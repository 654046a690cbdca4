//! Games whose field is an adjusted version of another game's field. They turn
//! consensus optimisation and symplectic gradient adjustment into fields, so every
//! update rule and analysis applies to them unchanged.

use std::sync::Arc;

use serde_json::json;

use super::lanes::{Consensus2, Field2, LaneGame, Sga2, adjusted_field};
use super::{Conserved, Game};
use crate::linalg::{Matrix, Vector};

/// Consensus optimisation (Mescheder, Nowozin & Geiger 2017): v_c = v − γ∇(½‖v‖²) = v − γJᵀv.
/// At a fixed point J_c = J − γJᵀJ; for the Dirac-GAN λ = −γa² ± i·a.
pub struct Consensus {
    /// The underlying game.
    pub inner: Arc<dyn Game>,
    /// γ ≥ 0.
    pub gamma: f64,
}

/// Symplectic gradient adjustment (Balduzzi et al. 2018) in our sign convention:
/// with ξ = −v and H = −J, their ξ + λAᵀ_Hξ becomes v − λAᵀv with A = (J − Jᵀ)/2.
/// At the Dirac equilibrium it coincides with consensus with γ = λ.
pub struct Sga {
    /// The underlying game.
    pub inner: Arc<dyn Game>,
    /// λ ≥ 0.
    pub lambda: f64,
}

macro_rules! delegate {
    () => {
        fn dim(&self) -> usize {
            self.inner.dim()
        }
        fn split(&self) -> usize {
            self.inner.split()
        }
        fn coordinate_names(&self) -> Vec<String> {
            self.inner.coordinate_names()
        }
        fn equilibrium(&self) -> Option<Vector> {
            self.inner.equilibrium()
        }
        fn project(&self, x: &mut Vector) {
            self.inner.project(x)
        }
        fn nonsmooth_at(&self, x: &Vector) -> Option<String> {
            self.inner.nonsmooth_at(x)
        }
        fn conserved(&self, _x: &Vector) -> Option<Conserved> {
            None
        }
    };
}

impl Game for Consensus {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    delegate!();
    fn field(&self, x: &Vector) -> Vector {
        if let Some(LaneGame::Plain(k)) = self.inner.lanes() {
            let inner = k;
            return Vector::from_vec(
                Consensus2 {
                    inner,
                    gamma: self.gamma,
                }
                .field2([x[0], x[1]])
                .to_vec(),
            );
        }
        let v = self.inner.field(x);
        let j: Matrix = self.inner.jacobian(x);
        adjusted_field(&v, &j, self.gamma, false)
    }
    fn lanes(&self) -> Option<LaneGame> {
        match self.inner.lanes() {
            Some(LaneGame::Plain(k)) => Some(LaneGame::Consensus(k, self.gamma)),
            _ => None,
        }
    }
    fn params(&self) -> serde_json::Value {
        let mut p = self.inner.params();
        p["consensus"] = json!(self.gamma);
        p
    }
}

impl Game for Sga {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    delegate!();
    fn field(&self, x: &Vector) -> Vector {
        if let Some(LaneGame::Plain(inner)) = self.inner.lanes() {
            return Vector::from_vec(
                Sga2 {
                    inner,
                    lambda: self.lambda,
                }
                .field2([x[0], x[1]])
                .to_vec(),
            );
        }
        let v = self.inner.field(x);
        let j: Matrix = self.inner.jacobian(x);
        adjusted_field(&v, &j, self.lambda, true)
    }
    fn lanes(&self) -> Option<LaneGame> {
        match self.inner.lanes() {
            Some(LaneGame::Plain(k)) => Some(LaneGame::Sga(k, self.lambda)),
            _ => None,
        }
    }
    fn params(&self) -> serde_json::Value {
        let mut p = self.inner.params();
        p["sga"] = json!(self.lambda);
        p
    }
}

/// Consensus optimisation on the Dirac-GAN exactly as the GAN_stability notebook writes
/// it (`notebooks/diracgan/gans.py`, class `GAN_Consensus`), for reproducing its figures.
/// With v = (−ψf′(θψ), θf′(θψ)) and f′(t) = σ(−t), the exact gradient of ½‖v‖² is
/// (θf′² + ψ(θ² + ψ²)f′f″, ψf′² + θ(θ² + ψ²)f′f″); the notebook's regulariser halves the
/// second term of each component (½ψ(θ² + ψ²)f′f″, ½θ(θ² + ψ²)f′f″). At the
/// equilibrium the two agree (the halved term vanishes there with θ = ψ = 0), so the
/// linearisation is the same; away from it the notebook's field is weaker, and a run
/// that leaves the exact consensus basin can stay in the notebook's. The minimax loss
/// without other regularisers only, as in the notebook. The Jacobian is from central
/// differences.
pub struct NotebookConsensus {
    /// γ ≥ 0.
    pub gamma: f64,
}

impl Game for NotebookConsensus {
    fn name(&self) -> &'static str {
        "dirac"
    }
    fn dim(&self) -> usize {
        2
    }
    fn split(&self) -> usize {
        1
    }
    fn coordinate_names(&self) -> Vec<String> {
        vec!["theta".into(), "psi".into()]
    }
    fn equilibrium(&self) -> Option<Vector> {
        Some(Vector::zeros(2))
    }
    fn field(&self, x: &Vector) -> Vector {
        use super::sigmoid;
        let (theta, psi) = (x[0], x[1]);
        let t = psi * theta;
        let (fp, fp2) = (sigmoid(-t), -sigmoid(-t) * sigmoid(t));
        let r2 = psi * psi + theta * theta;
        let reg_t = theta * fp * fp + 0.5 * psi * r2 * fp * fp2;
        let reg_p = psi * fp * fp + 0.5 * theta * r2 * fp * fp2;
        Vector::from_vec(vec![
            -psi * fp - self.gamma * reg_t,
            theta * fp - self.gamma * reg_p,
        ])
    }
    fn params(&self) -> serde_json::Value {
        json!({"loss": "standard", "consensus": self.gamma, "consensus_form": "notebook"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::{Dirac, DiracLoss};
    use crate::linalg::eigenvalues;

    /// Central differences of a field that itself contains a Jacobian (FD error ~1e-9).
    const FD_EIG_TOL: f64 = 1e-6;

    #[test]
    fn notebook_consensus_halves_the_curvature_term_of_the_exact_gradient() {
        // At the equilibrium both fields vanish and their Jacobians agree; at a point
        // away from it, exact − notebook = γ·½(ψ(θ²+ψ²), θ(θ²+ψ²))·f′f″.
        let gamma = 1.0;
        let exact = Consensus {
            inner: Arc::new(Dirac::new(DiracLoss::Standard)),
            gamma,
        };
        let nb = NotebookConsensus { gamma };
        let j0 = (exact.jacobian(&Vector::zeros(2)) - nb.jacobian(&Vector::zeros(2))).amax();
        assert!(j0 < FD_EIG_TOL, "{j0}");
        let (theta, psi) = (0.7, -1.3);
        let x = Vector::from_vec(vec![theta, psi]);
        let t: f64 = psi * theta;
        let (fp, fp2) = (
            crate::game::sigmoid(-t),
            -crate::game::sigmoid(-t) * crate::game::sigmoid(t),
        );
        let half = 0.5 * (theta * theta + psi * psi) * fp * fp2;
        let d = nb.field(&x) - exact.field(&x);
        // The exact field's Jacobian is from differences, so its Jᵀv carries ~1e-9.
        assert!((d[0] - gamma * half * psi).abs() < FD_EIG_TOL, "{d}");
        assert!((d[1] - gamma * half * theta).abs() < FD_EIG_TOL, "{d}");
    }

    #[test]
    fn from_one_one_with_five_d_steps_only_the_notebook_form_converges() {
        // The dirac-regularizers finding: same linearisation (ρ = 0.857), different basins.
        use crate::dynamics::{Bound, Order, RuleName, RuleOptions, Run};
        let rule = RuleName::Alternating
            .spec(
                0.2,
                0.2,
                &RuleOptions {
                    order: Some(Order::DFirst),
                    k_d: Some(5),
                    ..Default::default()
                },
            )
            .unwrap()
            .build()
            .unwrap();
        let end = |game: &dyn Game| {
            let t = Run {
                game,
                rule: &rule,
                steps: 500,
                bound: Bound::around(&Vector::zeros(2), 1e3),
            }
            .simulate(&Vector::from_vec(vec![1.0, 1.0]));
            let x = t.states.last().unwrap();
            (x[0] * x[0] + x[1] * x[1]).sqrt()
        };
        let exact = Consensus {
            inner: Arc::new(Dirac::new(DiracLoss::Standard)),
            gamma: 1.0,
        };
        assert!(end(&exact) > 5.0, "the exact field leaves the basin");
        assert!(end(&NotebookConsensus { gamma: 1.0 }) < 1e-9);
    }

    #[test]
    fn consensus_and_sga_eigenvalues_at_dirac_equilibrium() {
        for loss in [DiracLoss::Standard, DiracLoss::Wgan] {
            for &gamma in &[0.1, 0.5, 1.0, 2.0] {
                let a = Dirac::new(loss).a();
                for game in [
                    Arc::new(Consensus {
                        inner: Arc::new(Dirac::new(loss)),
                        gamma,
                    }) as Arc<dyn Game>,
                    Arc::new(Sga {
                        inner: Arc::new(Dirac::new(loss)),
                        lambda: gamma,
                    }),
                ] {
                    let ev = eigenvalues(&game.jacobian(&Vector::zeros(2))).unwrap();
                    for z in &ev {
                        assert!((z.re + gamma * a * a).abs() < FD_EIG_TOL, "{ev:?}");
                        assert!((z.im.abs() - a).abs() < FD_EIG_TOL, "{ev:?}");
                    }
                }
            }
        }
    }
}
