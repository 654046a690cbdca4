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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::{Dirac, DiracLoss};
    use crate::linalg::eigenvalues;

    /// Central differences of a field that itself contains a Jacobian (FD error ~1e-9).
    const FD_EIG_TOL: f64 = 1e-6;

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
