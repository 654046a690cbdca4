//! The one-mode stability game (seed 001, "Is a one mode generator stable?").
//!
//! k data modes with weights w (Σw = 1). The generator is a mixture over the modes with
//! masses g = softmax(θ); the discriminator is its value at each mode, Dᵢ = σ(ψᵢ). The
//! GAN value is
//!
//! V(θ, ψ) = Σᵢ [wᵢ log Dᵢ + gᵢ log(1 − Dᵢ)],
//!
//! which the discriminator ascends and the (minimax) generator descends:
//! v_ψᵢ = wᵢ(1 − Dᵢ) − gᵢDᵢ and v_θⱼ = −gⱼ(cⱼ − c̄) with cᵢ = log(1 − Dᵢ), c̄ = Σ gᵢcᵢ.
//! For fixed g the optimal discriminator is Dᵢ* = wᵢ/(wᵢ + gᵢ) (Goodfellow et al. 2014,
//! Prop. 1): with three equal modes and the generator on m₁, D(m₁) = (1/3)/(1/3 + 1) = 1/4
//! and D = 1 at the empty modes. The interior equilibrium is g = w, D = 1/2.

use argmin::core::{CostFunction, Executor};
use argmin::solver::brent::BrentOpt;
use serde_json::json;

use super::{Game, sigmoid};
use crate::error::{Error, Result};
use crate::linalg::{Matrix, Vector};
use crate::simd::math::exp_neg;

/// Bound on D in the numerical optimum: D ∈ [D_BOUND, 1 − D_BOUND]. At an empty mode the
/// value w log D increases up to D = 1, which a logit can only reach at infinity, so the
/// optimum there is the upper bound 1 − 1e-9 (within 1e-6 of the closed form 1).
pub const D_BOUND: f64 = 1e-9;
/// Tolerance of the Brent search for each Dᵢ*.
pub const BRENT_TOL: f64 = 1e-11;

/// The one-mode game.
#[derive(Debug, Clone)]
pub struct OneMode {
    /// Normalised data-mode weights w.
    pub weights: Vec<f64>,
    /// The mode the generator collapses onto (0-based).
    pub on: usize,
}

/// The collapsed point: generator entirely on one mode, discriminator at its optimum.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OneModeOptimum {
    /// Generator masses g (one-hot on the collapsed mode).
    pub generator: Vec<f64>,
    /// D at each mode, maximised numerically by Brent's method (argmin).
    pub discriminator: Vec<f64>,
    /// The closed form wᵢ/(wᵢ + gᵢ).
    pub closed_form: Vec<f64>,
    /// max |numerical − closed form|.
    pub max_abs_error: f64,
    /// Eigenvalues of the discriminator block of J (logit coordinates):
    /// −(wᵢ + gᵢ)Dᵢ(1 − Dᵢ), all ≤ 0 (the discriminator's problem is concave).
    pub discriminator_eigenvalues: Vec<f64>,
    /// Eigenvalues of the generator's natural-gradient (replicator) flow
    /// ġⱼ = −gⱼ(cⱼ − c̄) linearised at the collapse, one per empty mode j:
    /// λⱼ = c_on − cⱼ = log(1 − D_on) − log(1 − Dⱼ). Positive means mass flows out.
    pub escape_eigenvalues: Vec<f64>,
    /// Whether every eigenvalue is negative, i.e. the collapse is a stable fixed point.
    pub stable: bool,
}

struct ModeObjective {
    w: f64,
    g: f64,
}

impl CostFunction for ModeObjective {
    type Param = f64;
    type Output = f64;
    fn cost(&self, d: &f64) -> std::result::Result<f64, argmin::core::Error> {
        // Minimise −[w log D + g log(1 − D)].
        Ok(-(self.w * d.ln() + self.g * (1.0 - d).ln()))
    }
}

impl OneMode {
    /// Builds the game; the weights are normalised to sum to one.
    ///
    /// # Errors
    /// [`Error::Param`] if a weight is not positive and finite, or `on` is out of range.
    pub fn new(weights: Vec<f64>, on: usize) -> Result<Self> {
        if weights.is_empty() {
            return Err(Error::param("modes", "need at least one mode"));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
            return Err(Error::param(
                "weights",
                format!("weight {w} is not positive and finite"),
            ));
        }
        if on >= weights.len() {
            return Err(Error::param(
                "on",
                format!(
                    "mode {} does not exist (modes are 1..={})",
                    on + 1,
                    weights.len()
                ),
            ));
        }
        // Where the sum overflows (weights = 1e308, 1e308), divide by the largest weight
        // first: the masses are ½, ½.
        let mut w = weights;
        if !w.iter().sum::<f64>().is_finite() {
            let top = w.iter().copied().fold(0.0, f64::max);
            w.iter_mut().for_each(|x| *x /= top);
        }
        let s: f64 = w.iter().sum();
        Ok(OneMode {
            weights: w.iter().map(|x| x / s).collect(),
            on,
        })
    }
    fn k(&self) -> usize {
        self.weights.len()
    }
    fn masses(&self, theta: &[f64]) -> Vec<f64> {
        let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = theta.iter().map(|t| exp_neg(t - m)).collect();
        let s: f64 = e.iter().sum();
        e.into_iter().map(|x| x / s).collect()
    }

    /// The discriminator's optimum with the generator collapsed onto mode `on`, found by
    /// Brent's method per mode, with the stability of the collapse from the eigenvalues.
    ///
    /// # Errors
    /// [`Error::Numerical`] if the Brent search fails.
    pub fn collapsed_optimum(&self) -> Result<OneModeOptimum> {
        let k = self.k();
        let g: Vec<f64> = (0..k)
            .map(|i| if i == self.on { 1.0 } else { 0.0 })
            .collect();
        let mut d = Vec::with_capacity(k);
        for (&w, &gi) in self.weights.iter().zip(&g) {
            let problem = ModeObjective { w, g: gi };
            let solver = BrentOpt::new(D_BOUND, 1.0 - D_BOUND).set_tolerance(BRENT_TOL, BRENT_TOL);
            let res = Executor::new(problem, solver)
                .configure(|s| s.max_iters(500))
                .run()
                .map_err(|e| Error::numerical("one-mode optimum (Brent)", e.to_string()))?;
            let best = res.state().best_param.ok_or_else(|| {
                Error::numerical("one-mode optimum (Brent)", "no best point returned")
            })?;
            d.push(best);
        }
        let closed: Vec<f64> = (0..k)
            .map(|i| self.weights[i] / (self.weights[i] + g[i]))
            .collect();
        let max_abs_error = d
            .iter()
            .zip(&closed)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let disc_eig: Vec<f64> = (0..k)
            .map(|i| -(self.weights[i] + g[i]) * d[i] * (1.0 - d[i]))
            .collect();
        let c: Vec<f64> = d.iter().map(|di| (1.0 - di).ln()).collect();
        let escape: Vec<f64> = (0..k)
            .filter(|&j| j != self.on)
            .map(|j| c[self.on] - c[j])
            .collect();
        let stable = disc_eig.iter().chain(&escape).all(|&l| l < 0.0);
        Ok(OneModeOptimum {
            generator: g,
            discriminator: d,
            closed_form: closed,
            max_abs_error,
            discriminator_eigenvalues: disc_eig,
            escape_eigenvalues: escape,
            stable,
        })
    }
}

impl Game for OneMode {
    fn name(&self) -> &'static str {
        "one-mode"
    }
    fn dim(&self) -> usize {
        2 * self.k()
    }
    fn split(&self) -> usize {
        self.k()
    }
    fn coordinate_names(&self) -> Vec<String> {
        let k = self.k();
        (1..=k)
            .map(|i| format!("g_logit{i}"))
            .chain((1..=k).map(|i| format!("d_logit{i}")))
            .collect()
    }
    fn field(&self, x: &Vector) -> Vector {
        let k = self.k();
        let g = self.masses(&x.as_slice()[..k]);
        let d: Vec<f64> = (0..k).map(|i| sigmoid(x[k + i])).collect();
        // c = log(1 − σ(ψ)) = log σ(−ψ), computed stably.
        let c: Vec<f64> = (0..k).map(|i| log_sigmoid(-x[k + i])).collect();
        let cbar: f64 = (0..k).map(|i| g[i] * c[i]).sum();
        let mut v = Vector::zeros(2 * k);
        for j in 0..k {
            v[j] = -g[j] * (c[j] - cbar);
            v[k + j] = self.weights[j] * (1.0 - d[j]) - g[j] * d[j];
        }
        v
    }
    fn jacobian(&self, x: &Vector) -> Matrix {
        let k = self.k();
        let g = self.masses(&x.as_slice()[..k]);
        let d: Vec<f64> = (0..k).map(|i| sigmoid(x[k + i])).collect();
        let c: Vec<f64> = (0..k).map(|i| log_sigmoid(-x[k + i])).collect();
        let cbar: f64 = (0..k).map(|i| g[i] * c[i]).sum();
        let delta = |a: usize, b: usize| if a == b { 1.0 } else { 0.0 };
        let mut j = Matrix::zeros(2 * k, 2 * k);
        for r in 0..k {
            for l in 0..k {
                let gjl = g[r] * (delta(r, l) - g[l]);
                // ∂v_θr/∂θl = −G_rl(c_r − c̄) + g_r g_l(c_l − c̄)
                j[(r, l)] = -gjl * (c[r] - cbar) + g[r] * g[l] * (c[l] - cbar);
                // ∂v_θr/∂ψl = g_r D_l(δ_rl − g_l)
                j[(r, k + l)] = g[r] * d[l] * (delta(r, l) - g[l]);
                // ∂v_ψr/∂θl = −D_r G_rl
                j[(k + r, l)] = -d[r] * gjl;
            }
            j[(k + r, k + r)] = -(self.weights[r] + g[r]) * d[r] * (1.0 - d[r]);
        }
        j
    }
    fn has_analytic_jacobian(&self) -> bool {
        true
    }
    /// The interior equilibrium g = w, D = 1/2 (θ = log w, ψ = 0). The softmax makes θ
    /// defined up to a constant, so J has a zero eigenvalue along θ + c·1.
    fn equilibrium(&self) -> Option<Vector> {
        let k = self.k();
        Some(Vector::from_fn(2 * k, |i, _| {
            if i < k { self.weights[i].ln() } else { 0.0 }
        }))
    }
    fn params(&self) -> serde_json::Value {
        json!({"modes": self.k(), "weights": self.weights, "on": self.on + 1})
    }
}

/// log σ(t) = min(t, 0) − ln(1 + e^{−|t|}), stable for large |t|.
fn log_sigmoid(t: f64) -> f64 {
    let l = exp_neg(-t.abs()).ln_1p();
    if t >= 0.0 { -l } else { t - l }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::testing::check_jacobian;

    /// The Brent optimum must match the closed form to this (the 1e-6).
    const OPTIMUM_TOL: f64 = 1e-6;

    #[test]
    fn weights_whose_sum_overflows_are_normalised() {
        let g = OneMode::new(vec![1e308, 1e308], 0).unwrap();
        assert_eq!(g.weights, vec![0.5, 0.5]);
    }

    #[test]
    fn three_equal_modes_give_one_quarter() {
        for on in 0..3 {
            let g = OneMode::new(vec![1.0; 3], on).unwrap();
            let opt = g.collapsed_optimum().unwrap();
            for i in 0..3 {
                let expected = if i == on { 0.25 } else { 1.0 };
                assert!(
                    (opt.discriminator[i] - expected).abs() < OPTIMUM_TOL,
                    "{opt:?}"
                );
            }
            assert!(!opt.stable);
        }
    }

    #[test]
    fn k_equal_modes_and_unequal_weights_match_closed_form() {
        for k in [2usize, 4, 5] {
            let opt = OneMode::new(vec![1.0; k], 0)
                .unwrap()
                .collapsed_optimum()
                .unwrap();
            assert!((opt.discriminator[0] - 1.0 / (k as f64 + 1.0)).abs() < OPTIMUM_TOL);
        }
        for w in [vec![0.5, 0.3, 0.2], vec![0.1, 0.6, 0.3], vec![2.0, 1.0]] {
            for on in 0..w.len() {
                let g = OneMode::new(w.clone(), on).unwrap();
                let opt = g.collapsed_optimum().unwrap();
                let w1 = g.weights[on];
                assert!((opt.discriminator[on] - w1 / (w1 + 1.0)).abs() < OPTIMUM_TOL);
                assert!(opt.max_abs_error < OPTIMUM_TOL);
            }
        }
    }

    #[test]
    fn jacobian_matches_differences_and_interior_equilibrium() {
        for (s, w) in [vec![1.0; 3], vec![0.5, 0.3, 0.2], vec![0.7, 0.3]]
            .into_iter()
            .enumerate()
        {
            let g = OneMode::new(w, 0).unwrap();
            check_jacobian(&g, 2.0, 10, s as u64);
            let eq = g.equilibrium().unwrap();
            assert!(g.field(&eq).amax() < 1e-15);
            // Shifting all generator logits by a constant leaves the field unchanged.
            let mut shifted = eq.clone();
            for i in 0..g.split() {
                shifted[i] += 3.0;
            }
            assert!((g.field(&shifted) - g.field(&eq)).amax() < 1e-15);
        }
    }

    #[test]
    fn optimal_discriminator_is_zero_of_its_field() {
        // With g fixed, v_ψ = 0 exactly at D = w/(w + g).
        let g = OneMode::new(vec![0.5, 0.3, 0.2], 0).unwrap();
        let theta = [0.2, -1.0, 0.4];
        let masses = g.masses(&theta);
        let mut x = Vector::zeros(6);
        for i in 0..3 {
            x[i] = theta[i];
            let d = g.weights[i] / (g.weights[i] + masses[i]);
            x[3 + i] = (d / (1.0 - d)).ln();
        }
        let v = g.field(&x);
        assert!(v.rows(3, 3).amax() < 1e-15);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(OneMode::new(vec![1.0, -1.0], 0).is_err());
        assert!(OneMode::new(vec![1.0, 1.0], 2).is_err());
        assert!(OneMode::new(vec![], 0).is_err());
    }
}
