//! A Lotka–Volterra predator–prey analogue of GAN training (our own reading, not from
//! a paper): the prey x is the generator's quality and the predator y the
//! discriminator's strength. Good samples feed the discriminator (δxy) while a strong
//! discriminator eats the generator's progress (−βxy); the generator improves on its
//! own at rate α and the discriminator's edge decays at rate γ when there is nothing
//! to learn from. Like a GAN it cycles around a coexistence point without landing.
//!
//! ẋ = αx − βxy, ẏ = δxy − γy. The coexistence point is (γ/δ, α/β), with
//! eigenvalues ±i√(αγ) and period 2π/√(αγ); V = δx − γ ln x + βy − α ln y is conserved
//! (Hofbauer & Sigmund, "Evolutionary games and population dynamics", ch. 2).

use serde_json::json;

use super::lanes::{Field2, Kernel2, LaneGame};
use super::{Conserved, Game};
use crate::linalg::{Matrix, Vector};

/// The Lotka–Volterra system with positive rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LotkaVolterra {
    /// Prey growth rate α.
    pub alpha: f64,
    /// Predation rate β.
    pub beta: f64,
    /// Predator decay rate γ.
    pub gamma: f64,
    /// Predator growth per prey δ.
    pub delta: f64,
}

impl Default for LotkaVolterra {
    fn default() -> Self {
        LotkaVolterra {
            alpha: 1.0,
            beta: 1.0,
            gamma: 1.0,
            delta: 1.0,
        }
    }
}

impl Game for LotkaVolterra {
    fn name(&self) -> &'static str {
        "lotka-volterra"
    }
    fn dim(&self) -> usize {
        2
    }
    fn split(&self) -> usize {
        1
    }
    fn coordinate_names(&self) -> Vec<String> {
        vec!["prey".into(), "predator".into()]
    }
    fn field(&self, p: &Vector) -> Vector {
        Vector::from_vec(Field2::field2(self, [p[0], p[1]]).to_vec())
    }
    fn jacobian(&self, p: &Vector) -> Matrix {
        let j = Field2::jacobian2(self, [p[0], p[1]]);
        Matrix::from_row_slice(2, 2, &[j[0][0], j[0][1], j[1][0], j[1][1]])
    }
    fn lanes(&self) -> Option<LaneGame> {
        Some(LaneGame::Plain(Kernel2::LotkaVolterra(*self)))
    }
    fn has_analytic_jacobian(&self) -> bool {
        true
    }
    fn equilibrium(&self) -> Option<Vector> {
        Some(Vector::from_vec(vec![
            self.gamma / self.delta,
            self.alpha / self.beta,
        ]))
    }
    fn conserved(&self, p: &Vector) -> Option<Conserved> {
        let (x, y) = (p[0], p[1]);
        (x > 0.0 && y > 0.0).then(|| Conserved {
            name: "lv_energy",
            value: self.delta * x - self.gamma * x.ln() + self.beta * y - self.alpha * y.ln(),
        })
    }
    fn params(&self) -> serde_json::Value {
        json!({"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma, "delta": self.delta})
    }
}

impl Field2 for LotkaVolterra {
    #[inline(always)]
    fn field2(&self, p: [f64; 2]) -> [f64; 2] {
        let (x, y) = (p[0], p[1]);
        [
            self.alpha * x - self.beta * x * y,
            self.delta * x * y - self.gamma * y,
        ]
    }
    #[inline(always)]
    fn jacobian2(&self, p: [f64; 2]) -> [[f64; 2]; 2] {
        let (x, y) = (p[0], p[1]);
        [
            [self.alpha - self.beta * y, -self.beta * x],
            [self.delta * y, self.delta * x - self.gamma],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::testing::check_jacobian;
    use crate::linalg::eigenvalues;

    fn cases() -> Vec<LotkaVolterra> {
        vec![
            LotkaVolterra::default(),
            LotkaVolterra {
                alpha: 2.0 / 3.0,
                beta: 4.0 / 3.0,
                gamma: 1.0,
                delta: 1.0,
            },
            LotkaVolterra {
                alpha: 1.5,
                beta: 0.5,
                gamma: 3.0,
                delta: 2.0,
            },
        ]
    }

    #[test]
    fn coexistence_point_eigenvalues_and_invariant() {
        for (k, g) in cases().iter().enumerate() {
            check_jacobian(g, 2.0, 10, k as u64);
            let eq = g.equilibrium().unwrap();
            assert!(g.field(&eq).amax() < 1e-14);
            let ev = eigenvalues(&g.jacobian(&eq)).unwrap();
            let w = (g.alpha * g.gamma).sqrt();
            assert!(
                ev.iter()
                    .all(|z| z.re.abs() < 1e-12 && (z.im.abs() - w).abs() < 1e-12)
            );
            // dV/dt = ∇V · v = 0 at any positive point.
            for &(x, y) in &[(0.5, 2.0), (3.0, 0.2), (1.0, 1.0)] {
                let p = Vector::from_vec(vec![x, y]);
                let grad = [g.delta - g.gamma / x, g.beta - g.alpha / y];
                let v = g.field(&p);
                assert!((grad[0] * v[0] + grad[1] * v[1]).abs() < 1e-12);
            }
        }
    }
}
