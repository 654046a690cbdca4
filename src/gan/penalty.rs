//! Gradient penalties on the discriminator's input gradient ∇ₓ D (D = the logit or
//! critic value), computed by double backprop ([`crate::nn::Mlp::penalty_backward`]).
//!
//! | penalty | P (added to L_D) | evaluated at |
//! |---|---|---|
//! | `gradient_penalty` (WGAN-GP, Gulrajani et al. 2017) | λ E[(‖∇ₓD(x̂)‖ − 1)²] | x̂ = εx_r + (1 − ε)x_f, ε ~ U[0, 1) per sample |
//! | `r1` (Mescheder et al. 2018) | (γ/2) E[‖∇ₓD(x)‖²] | real samples |
//! | `r2` (Mescheder et al. 2018) | (γ/2) E[‖∇ₓD(x)‖²] | fake samples (G fixed) |
//!
//! The penalties act on the discriminator only (its field block); the generator's
//! loss does not contain them, and the points x̂, x_f are treated as constants.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::nn::Float;

/// A regulariser on ∇ₓ D.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Penalty {
    /// No penalty.
    #[default]
    None,
    /// WGAN-GP two-sided penalty λ E[(‖∇D(x̂)‖ − 1)²] on random interpolates.
    GradientPenalty {
        /// λ (10 in Gulrajani et al.).
        lambda: f64,
    },
    /// R1: (γ/2) E_real ‖∇D‖².
    R1 {
        /// γ.
        gamma: f64,
    },
    /// R2: (γ/2) E_fake ‖∇D‖².
    R2 {
        /// γ.
        gamma: f64,
    },
}

impl Penalty {
    /// Whether there is a penalty term at all.
    #[must_use]
    pub fn is_active(self) -> bool {
        !matches!(self, Penalty::None)
    }

    /// The weight (λ or γ).
    #[must_use]
    pub fn weight(self) -> f64 {
        match self {
            Penalty::None => 0.0,
            Penalty::GradientPenalty { lambda } => lambda,
            Penalty::R1 { gamma } | Penalty::R2 { gamma } => gamma,
        }
    }

    /// P for the input gradients `g` (B × d, one row per sample), and the seed
    /// ∂P/∂g written to `seed` (same shape):
    /// WGAN-GP: ∂/∂gᵢ = (2λ/B)(‖gᵢ‖ − 1) gᵢ/‖gᵢ‖ (0 where gᵢ = 0, a subgradient);
    /// R1/R2: ∂/∂gᵢ = (γ/B) gᵢ.
    pub fn value_and_seed<T: Float>(self, g: &DMatrix<T>, seed: &mut DMatrix<T>) -> f64 {
        let (b, d) = g.shape();
        if b == 0 {
            return 0.0;
        }
        let inv_b = 1.0 / b as f64;
        match self {
            Penalty::None => {
                seed.fill(T::zero());
                0.0
            }
            Penalty::GradientPenalty { lambda } => {
                let mut total = 0.0;
                for i in 0..b {
                    let mut n2 = T::zero();
                    for j in 0..d {
                        n2 += g[(i, j)] * g[(i, j)];
                    }
                    let n = n2.sqrt();
                    total += (n.f64() - 1.0).powi(2);
                    let c = if n > T::zero() {
                        T::of(2.0 * lambda * inv_b) * (n - T::one()) / n
                    } else {
                        T::zero()
                    };
                    for j in 0..d {
                        seed[(i, j)] = c * g[(i, j)];
                    }
                }
                lambda * total * inv_b
            }
            Penalty::R1 { gamma } | Penalty::R2 { gamma } => {
                let c = T::of(gamma * inv_b);
                let mut total = 0.0;
                for (s, &v) in seed.iter_mut().zip(g.iter()) {
                    total += (v * v).f64();
                    *s = c * v;
                }
                0.5 * gamma * total * inv_b
            }
        }
    }

    /// Tangent of the seed of [`Penalty::value_and_seed`]: given the input gradients `g`
    /// and their tangents `rg` (B × d), writes R{∂P/∂g} to `out`:
    /// R1/R2: (γ/B) R{gᵢ};
    /// WGAN-GP: with nᵢ = ‖gᵢ‖ and cᵢ = (2λ/B)(nᵢ − 1)/nᵢ, R{cᵢ gᵢ} = cᵢ R{gᵢ} +
    /// (2λ/B) (gᵢ·R{gᵢ}) / nᵢ³ · gᵢ (as d/dn[(n − 1)/n] = 1/n² and R{n} = g·R{g}/n);
    /// 0 where gᵢ = 0, as the seed's subgradient there is 0.
    pub fn seed_tangent<T: Float>(self, g: &DMatrix<T>, rg: &DMatrix<T>, out: &mut DMatrix<T>) {
        let (b, d) = g.shape();
        if b == 0 {
            return;
        }
        let inv_b = 1.0 / b as f64;
        match self {
            Penalty::None => out.fill(T::zero()),
            Penalty::GradientPenalty { lambda } => {
                let k = T::of(2.0 * lambda * inv_b);
                for i in 0..b {
                    let (mut n2, mut dot) = (T::zero(), T::zero());
                    for j in 0..d {
                        n2 += g[(i, j)] * g[(i, j)];
                        dot += g[(i, j)] * rg[(i, j)];
                    }
                    let n = n2.sqrt();
                    let (c, e) = if n > T::zero() {
                        (k * (n - T::one()) / n, k * dot / (n2 * n))
                    } else {
                        (T::zero(), T::zero())
                    };
                    for j in 0..d {
                        out[(i, j)] = c * rg[(i, j)] + e * g[(i, j)];
                    }
                }
            }
            Penalty::R1 { gamma } | Penalty::R2 { gamma } => {
                let c = T::of(gamma * inv_b);
                for (o, &v) in out.iter_mut().zip(rg.iter()) {
                    *o = c * v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative tolerance of the f64 central-difference check of the seed's tangent
    /// (step 1e-6 on entries of order one: truncation ~1e-12, rounding ~1e-10).
    const SEED_TANGENT_TOL: f64 = 1e-7;
    const H: f64 = 1e-6;

    #[test]
    fn seed_tangent_matches_differences_of_the_seed() {
        let g = DMatrix::from_row_slice(3, 2, &[0.3, -1.2, 0.8, 0.1, -0.05, 0.02]);
        let rg = DMatrix::from_row_slice(3, 2, &[0.5, 0.2, -0.7, 1.1, 0.3, -0.4]);
        for pen in [
            Penalty::None,
            Penalty::GradientPenalty { lambda: 10.0 },
            Penalty::R1 { gamma: 3.0 },
            Penalty::R2 { gamma: 0.5 },
        ] {
            let mut out = DMatrix::zeros(3, 2);
            pen.seed_tangent(&g, &rg, &mut out);
            let seed = |t: f64| {
                let mut s = DMatrix::zeros(3, 2);
                pen.value_and_seed(&(&g + &rg * t), &mut s);
                s
            };
            let fd = (seed(H) - seed(-H)) / (2.0 * H);
            let err = (&out - &fd).norm() / fd.norm().max(1e-12);
            assert!(err < SEED_TANGENT_TOL, "{pen:?}: {err:e}");
        }
    }
}
