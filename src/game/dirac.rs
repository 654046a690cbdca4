//! Dirac-GAN (Mescheder, Geiger & Nowozin 2018, "Which training methods for GANs do
//! actually converge?", §2 and the GAN_stability notebook).
//!
//! Data δ₀, generator δ_θ, discriminator D_ψ(x) = ψx. With instance noise σ both
//! distributions are convolved with N(0, σ²). The value is
//!
//! L(θ, ψ) = E_ε f(ψ(θ+ε)) + E_ε f(−ψε),
//!
//! which for σ = 0 is Mescheder's f(ψθ) + f(0). The generator descends L (or, with the
//! non-saturating loss, L_G = −E f(−ψ(θ+ε))), the discriminator ascends L minus its
//! regulariser. f(t) = −log(1 + e^(−t)) for the GAN losses and f(t) = t for the WGAN.
//!
//! Regularisers (on the discriminator, which descends them):
//! * R1 / R2 gradient penalty (γ/2)‖∇ₓD‖² = (γ/2)ψ² on real (R1) or fake (R2) data: v_ψ −= γψ.
//! * WGAN-GP penalty (λ/2)(‖∇ₓD‖ − t)² = (λ/2)(|ψ| − t)² (Mescheder's form, §3):
//!   v_ψ −= λ(|ψ| − t)·sgn ψ. It is not differentiable at ψ = 0 when λt ≠ 0.
//! * Instance noise σ: the expectations are computed exactly by Gauss–Hermite quadrature
//!   with [`NOISE_NODES`] nodes (deterministic, no Monte Carlo).
//! * Weight clipping c: the projection ψ ← clamp(ψ, −c, c) after every update.
//!
//! Known results (tests): at (0, 0) J = [[0, −a], [a, −γ + 2σ²f″(0)]] with a = f′(0),
//! and θ² + ψ² is conserved by the unregularised flow for the minimax GAN and the WGAN.

use nalgebra::{DMatrix, SymmetricEigen};
use serde_json::json;

use super::lanes::{Field2, Kernel2, LaneGame};
use super::{Conserved, Game};
use crate::error::{Error, Result};
use crate::linalg::{Matrix, Vector};
pub use crate::simd::math::{sigmoid, sigmoid_slope};

/// Number of Gauss–Hermite nodes for the instance-noise expectations. σ(t) has poles at
/// t = ±iπ, so the error decays more slowly as |ψσ| grows: against a 400 001-point
/// trapezoid rule, E[σ(−ψ(θ+ε))] at θ = −1, ψσ = 3 is off by 8e-7 with 48 nodes, 4e-10
/// with 96 and 3e-12 with 160 (measured; the test checks 1e-10).
pub const NOISE_NODES: usize = 160;

/// The GAN loss of the Dirac game.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiracLoss {
    /// Minimax (saturating) GAN: f(t) = −log(1 + e^(−t)), the generator descends L.
    Standard,
    /// Non-saturating generator loss −E f(−D(G(z))).
    NonSaturating,
    /// Wasserstein GAN: f(t) = t.
    Wgan,
}

impl DiracLoss {
    /// Parses `standard`, `nonsaturating` or `wgan`.
    ///
    /// # Errors
    /// [`Error::Param`] naming the key `loss` for any other value.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "standard" | "minimax" | "gan" => Ok(DiracLoss::Standard),
            "nonsaturating" | "ns" | "nsgan" => Ok(DiracLoss::NonSaturating),
            "wgan" => Ok(DiracLoss::Wgan),
            _ => Err(Error::param(
                "loss",
                format!("unknown loss `{s}` (expected standard, nonsaturating or wgan)"),
            )),
        }
    }
    /// f′(t).
    #[must_use]
    pub fn df(self, t: f64) -> f64 {
        match self {
            DiracLoss::Wgan => 1.0,
            _ => sigmoid(-t),
        }
    }
    /// f″(t) = −σ(t)σ(−t).
    #[must_use]
    pub fn d2f(self, t: f64) -> f64 {
        match self {
            DiracLoss::Wgan => 0.0,
            _ => -sigmoid_slope(t),
        }
    }
}

/// The noise-free Dirac-GAN field as a lane kernel ([`crate::game::lanes`]); the game's
/// own [`Game::field`] and [`Game::jacobian`] call it, so the batch engine and a single
/// run share one copy of the arithmetic.
///
/// With u = θψ and f′(t) = σ(−t) (WGAN: 1):
/// v_θ = −ψ f′(s u) (s = −1 for the non-saturating generator, else +1),
/// v_ψ = θ f′(u) − (r₁ + r₂)ψ − λ(|ψ| − t) sgn ψ.
///
/// `REG`: the regulariser terms are computed (when false they are absent, not 0·ψ);
/// `ANY_LOSS`: the non-saturating and WGAN losses are handled (when false the loss is
/// the standard one, whose generator and discriminator share f′(u): one exponential and
/// one division per evaluation). The variant is chosen by [`Dirac::kernel`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiracField<const REG: bool, const ANY_LOSS: bool> {
    loss: DiracLoss,
    reg: f64,
    gp: f64,
    gp_target: f64,
    /// The clipping bound c (+∞ without clipping: clamp(ψ, −∞, ∞) = ψ).
    clip: f64,
}

impl<const REG: bool, const ANY_LOSS: bool> DiracField<REG, ANY_LOSS> {
    /// (f′(s u), f′(u), f″(s u), f″(u)) with one exponential: u′ = e^{−|u|},
    /// σ(−u) = (u > 0 ? u′ : 1)/(1 + u′), σ(u) = (u < 0 ? u′ : 1)/(1 + u′).
    #[inline(always)]
    fn slopes(&self, u: f64, second: bool) -> (f64, f64, f64, f64) {
        if ANY_LOSS && self.loss == DiracLoss::Wgan {
            return (1.0, 1.0, 0.0, 0.0);
        }
        let e = crate::simd::math::exp_neg(-u.abs());
        let den = 1.0 + e;
        let fd = (if u > 0.0 { e } else { 1.0 }) / den;
        let fg = if ANY_LOSS && self.loss == DiracLoss::NonSaturating {
            (if u < 0.0 { e } else { 1.0 }) / den
        } else {
            fd
        };
        if second {
            // f″ is even: −σ(u)σ(−u) = −u′/(1 + u′)².
            let d2 = -(e / (den * den));
            (fg, fd, d2, d2)
        } else {
            (fg, fd, 0.0, 0.0)
        }
    }

    /// The generator's sign s.
    #[inline(always)]
    fn sign(&self) -> f64 {
        if ANY_LOSS && self.loss == DiracLoss::NonSaturating {
            -1.0
        } else {
            1.0
        }
    }
}

impl<const REG: bool, const ANY_LOSS: bool> Field2 for DiracField<REG, ANY_LOSS> {
    #[inline(always)]
    fn field2(&self, x: [f64; 2]) -> [f64; 2] {
        let (theta, psi) = (x[0], x[1]);
        let (fg, fd, _, _) = self.slopes(psi * theta, false);
        let vt = -(psi * fg);
        let mut vp = theta * fd;
        if REG {
            vp -= self.reg * psi;
            vp -= self.gp * (psi.abs() - self.gp_target) * signum0(psi);
        }
        [vt, vp]
    }

    #[inline(always)]
    fn jacobian2(&self, x: [f64; 2]) -> [[f64; 2]; 2] {
        let (theta, psi) = (x[0], x[1]);
        let s = self.sign();
        let (d1g, d1, d2g, d2) = self.slopes(psi * theta, true);
        // v_θ = −ψ f′(s u): ∂θ = −s ψ² f″, ∂ψ = −f′ − s ψ θ f″;
        // v_ψ = θ f′(u): ∂θ = f′ + θ ψ f″, ∂ψ = θ² f″.
        let j00 = -(s * (psi * psi) * d2g);
        let j01 = -(d1g + s * (psi * theta) * d2g);
        let j10 = d1 + (theta * psi) * d2;
        let mut j11 = (theta * theta) * d2;
        if REG {
            j11 -= self.reg;
            if self.gp != 0.0 && psi != 0.0 {
                j11 -= self.gp;
            }
        }
        [[j00, j01], [j10, j11]]
    }

    #[inline(always)]
    fn project2(&self, x: [f64; 2]) -> [f64; 2] {
        // f64::clamp as selects (clamp itself asserts on its bounds, a branch that keeps
        // the lane loop from vectorising): the same values, NaN stays NaN.
        let c = self.clip;
        let p = if x[1] < -c { -c } else { x[1] };
        [x[0], if p > c { c } else { p }]
    }
}

/// The Dirac-GAN with its loss and regularisers.
#[derive(Debug, Clone)]
pub struct Dirac {
    /// The loss.
    pub loss: DiracLoss,
    /// R1 penalty weight γ (≥ 0).
    pub r1: f64,
    /// R2 penalty weight γ (≥ 0); identical to R1 here because ∇ₓD = ψ everywhere.
    pub r2: f64,
    /// WGAN-GP weight λ (≥ 0).
    pub gp: f64,
    /// WGAN-GP target gradient norm t.
    pub gp_target: f64,
    /// Instance-noise standard deviation σ (≥ 0).
    pub noise: f64,
    /// Weight-clipping bound c for ψ (None: no clipping).
    pub clip: Option<f64>,
    pub(crate) nodes: Vec<(f64, f64)>,
}

impl Default for Dirac {
    fn default() -> Self {
        Dirac::new(DiracLoss::Standard)
    }
}

impl Dirac {
    /// The unregularised game with the given loss.
    #[must_use]
    pub fn new(loss: DiracLoss) -> Self {
        Dirac {
            loss,
            r1: 0.0,
            r2: 0.0,
            gp: 0.0,
            gp_target: 1.0,
            noise: 0.0,
            clip: None,
            nodes: vec![(0.0, 1.0)],
        }
    }
    /// Sets the instance noise σ and precomputes the quadrature nodes.
    #[must_use]
    pub fn with_noise(mut self, sigma: f64) -> Self {
        self.noise = sigma;
        self.nodes = if sigma > 0.0 {
            gauss_hermite_normal(NOISE_NODES)
                .into_iter()
                .map(|(z, w)| (sigma * z, w))
                .collect()
        } else {
            vec![(0.0, 1.0)]
        };
        self
    }
    /// f′(0), the coupling a in J = [[0, −a], [a, 0]].
    #[must_use]
    pub fn a(&self) -> f64 {
        self.loss.df(0.0)
    }
    fn reg_weight(&self) -> f64 {
        self.r1 + self.r2
    }
    fn is_unregularised(&self) -> bool {
        self.reg_weight() == 0.0 && self.gp == 0.0 && self.noise == 0.0
    }
    /// The lane kernel of the noise-free game (None with instance noise, whose
    /// quadrature runs through the scalar reference).
    #[must_use]
    pub fn kernel(&self) -> Option<Kernel2> {
        if !self.nodes_are_trivial() {
            return None;
        }
        let reg = self.reg_weight() != 0.0 || self.gp != 0.0;
        let any_loss = self.loss != DiracLoss::Standard;
        macro_rules! k {
            ($r:literal, $a:literal) => {
                DiracField::<$r, $a> {
                    loss: self.loss,
                    reg: self.reg_weight(),
                    gp: self.gp,
                    gp_target: self.gp_target,
                    clip: self.clip.unwrap_or(f64::INFINITY),
                }
            };
        }
        Some(match (reg, any_loss) {
            (false, false) => Kernel2::Dirac(k!(false, false)),
            (true, false) => Kernel2::DiracRegularised(k!(true, false)),
            (false, true) => Kernel2::DiracLoss(k!(false, true)),
            (true, true) => Kernel2::DiracLossRegularised(k!(true, true)),
        })
    }
    /// Whether there is no instance noise (one quadrature node at 0 with weight 1).
    fn nodes_are_trivial(&self) -> bool {
        self.nodes.len() == 1 && self.nodes[0] == (0.0, 1.0)
    }
    /// The generator's f argument sign: +1 for the minimax loss, −1 for the
    /// non-saturating one (it evaluates f′ at −u).
    fn gen_sign(&self) -> f64 {
        if self.loss == DiracLoss::NonSaturating {
            -1.0
        } else {
            1.0
        }
    }
}

/// Nodes and weights of Gauss–Hermite quadrature for a standard normal,
/// E[g(Z)] ≈ Σ wᵢ g(zᵢ), by Golub–Welsch: the nodes are the eigenvalues of the
/// symmetric tridiagonal Jacobi matrix of the probabilists' Hermite polynomials
/// (off-diagonal √k), and the weights are the squared first eigenvector components.
#[must_use]
pub fn gauss_hermite_normal(n: usize) -> Vec<(f64, f64)> {
    let mut jm = DMatrix::<f64>::zeros(n, n);
    for k in 1..n {
        let b = (k as f64).sqrt();
        jm[(k - 1, k)] = b;
        jm[(k, k - 1)] = b;
    }
    let eig = SymmetricEigen::new(jm);
    let mut nodes: Vec<(f64, f64)> = (0..n)
        .map(|i| (eig.eigenvalues[i], eig.eigenvectors[(0, i)].powi(2)))
        .collect();
    nodes.sort_by(|a, b| a.0.total_cmp(&b.0));
    nodes
}

impl Game for Dirac {
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

    fn field(&self, x: &Vector) -> Vector {
        if let Some(k) = self.kernel() {
            return Vector::from_vec(k.field2([x[0], x[1]]).to_vec());
        }
        let (theta, psi) = (x[0], x[1]);
        let s = self.gen_sign();
        let (mut vt, mut vp) = (0.0, 0.0);
        for &(e, w) in &self.nodes {
            let u = psi * (theta + e);
            vt -= w * psi * self.loss.df(s * u);
            vp += w * ((theta + e) * self.loss.df(u) - e * self.loss.df(-psi * e));
        }
        vp -= self.reg_weight() * psi;
        if self.gp != 0.0 {
            vp -= self.gp * (psi.abs() - self.gp_target) * signum0(psi);
        }
        Vector::from_vec(vec![vt, vp])
    }

    fn jacobian(&self, x: &Vector) -> Matrix {
        if let Some(k) = self.kernel() {
            let j = k.jacobian2([x[0], x[1]]);
            return Matrix::from_row_slice(2, 2, &[j[0][0], j[0][1], j[1][0], j[1][1]]);
        }
        let (theta, psi) = (x[0], x[1]);
        let s = self.gen_sign();
        let mut j = Matrix::zeros(2, 2);
        for &(e, w) in &self.nodes {
            let y = theta + e;
            let u = psi * y;
            let (d1g, d2g) = (self.loss.df(s * u), self.loss.d2f(s * u));
            let (d1, d2) = (self.loss.df(u), self.loss.d2f(u));
            // v_θ = −ψ f′(s u): ∂θ = −s ψ² f″, ∂ψ = −f′ − s ψ y f″
            j[(0, 0)] -= w * s * psi * psi * d2g;
            j[(0, 1)] -= w * (d1g + s * psi * y * d2g);
            // v_ψ = y f′(u) − e f′(−ψe): ∂θ = f′ + y ψ f″, ∂ψ = y² f″ + e² f″(−ψe)
            j[(1, 0)] += w * (d1 + y * psi * d2);
            j[(1, 1)] += w * (y * y * d2 + e * e * self.loss.d2f(-psi * e));
        }
        j[(1, 1)] -= self.reg_weight();
        if self.gp != 0.0 && psi != 0.0 {
            j[(1, 1)] -= self.gp;
        }
        j
    }
    fn has_analytic_jacobian(&self) -> bool {
        true
    }
    fn equilibrium(&self) -> Option<Vector> {
        Some(Vector::zeros(2))
    }
    fn conserved(&self, x: &Vector) -> Option<Conserved> {
        (self.is_unregularised() && self.loss != DiracLoss::NonSaturating).then(|| Conserved {
            name: "radius_sq",
            value: x[0] * x[0] + x[1] * x[1],
        })
    }
    fn project(&self, x: &mut Vector) {
        if let Some(c) = self.clip {
            match self.kernel() {
                Some(k) => x[1] = k.project2([x[0], x[1]])[1],
                None => x[1] = x[1].clamp(-c, c),
            }
        }
    }
    fn lanes(&self) -> Option<LaneGame> {
        self.kernel().map(LaneGame::Plain)
    }
    fn nonsmooth_at(&self, x: &Vector) -> Option<String> {
        (self.gp != 0.0 && self.gp_target != 0.0 && x[1] == 0.0).then(|| {
            "the WGAN-GP penalty (λ/2)(|ψ| − t)² is not differentiable at ψ = 0".to_string()
        })
    }
    fn params(&self) -> serde_json::Value {
        json!({
            "loss": self.loss, "r1": self.r1, "r2": self.r2, "gp": self.gp,
            "gp_target": self.gp_target, "noise": self.noise, "clip": self.clip,
        })
    }
}

/// sgn with sgn(0) = 0, so that ψ = 0 is a fixed point of the WGAN-GP field.
fn signum0(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x.signum() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::testing::check_jacobian;
    use crate::linalg::eigenvalues;

    /// Tolerance for closed-form eigenvalues of 2×2 Jacobians.
    const EIG_TOL: f64 = 1e-10;

    fn all_variants() -> Vec<Dirac> {
        let mut v = Vec::new();
        for loss in [
            DiracLoss::Standard,
            DiracLoss::NonSaturating,
            DiracLoss::Wgan,
        ] {
            v.push(Dirac::new(loss));
            v.push(Dirac {
                r1: 0.3,
                ..Dirac::new(loss)
            });
            v.push(Dirac {
                r2: 1.0,
                ..Dirac::new(loss)
            });
            v.push(Dirac {
                gp: 0.7,
                gp_target: 1.0,
                ..Dirac::new(loss)
            });
            v.push(Dirac::new(loss).with_noise(0.7));
            v.push(Dirac {
                r1: 0.2,
                ..Dirac::new(loss).with_noise(0.3)
            });
        }
        v
    }

    #[test]
    fn analytic_jacobian_matches_differences() {
        for (i, g) in all_variants().iter().enumerate() {
            check_jacobian(g, 2.0, 25, i as u64);
        }
    }

    #[test]
    fn equilibrium_is_fixed_point_with_rotation_eigenvalues() {
        for loss in [
            DiracLoss::Standard,
            DiracLoss::NonSaturating,
            DiracLoss::Wgan,
        ] {
            let g = Dirac::new(loss);
            let x = g.equilibrium().unwrap();
            assert!(g.field(&x).amax() < 1e-15);
            let a = g.a();
            let j = g.jacobian(&x);
            let expected = Matrix::from_row_slice(2, 2, &[0.0, -a, a, 0.0]);
            assert!((j - expected).amax() < EIG_TOL);
            let ev = eigenvalues(&g.jacobian(&x)).unwrap();
            assert!(
                ev.iter()
                    .all(|z| z.re.abs() < EIG_TOL && (z.im.abs() - a).abs() < EIG_TOL)
            );
        }
    }

    #[test]
    fn r1_eigenvalues_match_closed_form() {
        // λ = −γ/2 ± √(γ²/4 − a²); complex below the critical γ = 2a, real above.
        for loss in [DiracLoss::Standard, DiracLoss::Wgan] {
            for &gamma in &[0.1, 0.3, 0.9, 1.0, 2.5, 4.0] {
                let g = Dirac {
                    r1: gamma,
                    ..Dirac::new(loss)
                };
                let a = g.a();
                let ev = eigenvalues(&g.jacobian(&Vector::zeros(2))).unwrap();
                let disc = gamma * gamma / 4.0 - a * a;
                let (re, im) = if disc >= 0.0 {
                    (
                        vec![-gamma / 2.0 - disc.sqrt(), -gamma / 2.0 + disc.sqrt()],
                        [0.0, 0.0],
                    )
                } else {
                    (vec![-gamma / 2.0; 2], [-(-disc).sqrt(), (-disc).sqrt()])
                };
                for k in 0..2 {
                    assert!((ev[k].re - re[k]).abs() < 1e-7, "γ={gamma} {ev:?}");
                    assert!((ev[k].im - im[k]).abs() < 1e-7, "γ={gamma} {ev:?}");
                }
            }
        }
    }

    #[test]
    fn instance_noise_matches_r1_with_sigma_sq_equal_two_gamma() {
        // λ = σ² f″(0) ± √(σ⁴ f″(0)² − a²), f″(0) = −1/4, equal to R1 with γ = σ²/2.
        for &sigma in &[0.2, 0.7, 1.0, 1.5, 2.5] {
            let noisy = Dirac::new(DiracLoss::Standard).with_noise(sigma);
            let r1 = Dirac {
                r1: sigma * sigma / 2.0,
                ..Dirac::default()
            };
            let jn = noisy.jacobian(&Vector::zeros(2));
            let jr = r1.jacobian(&Vector::zeros(2));
            assert!((&jn - &jr).amax() < 1e-12, "σ={sigma}: {jn} vs {jr}");
            let ev = eigenvalues(&jn).unwrap();
            let c = sigma * sigma * -0.25;
            let disc = c * c - 0.25;
            let sum: f64 = ev.iter().map(|z| z.re).sum();
            assert!((sum - 2.0 * c).abs() < 1e-12);
            if disc < 0.0 {
                assert!((ev[1].im - (-disc).sqrt()).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn quadrature_matches_fine_trapezoid() {
        /// Quadrature error bound for |ψσ| ≤ 3 (see [`NOISE_NODES`]).
        const QUADRATURE_TOL: f64 = 1e-10;
        // E[σ(−ψ(θ+ε))], ε ~ N(0, s²), against a trapezoid rule on a fine grid.
        let nodes = gauss_hermite_normal(NOISE_NODES);
        for &(theta, psi, s) in &[
            (0.5, 1.0, 0.7),
            (-1.0, 2.0, 1.5),
            (0.0, 3.0, 2.0),
            (0.3, 1.0, 1.0),
        ] {
            let gh: f64 = nodes
                .iter()
                .map(|&(z, w)| w * sigmoid(-psi * (theta + s * z)))
                .sum();
            let (n, lim) = (200_000, 12.0);
            let h = 2.0 * lim / n as f64;
            let tr: f64 = (0..=n)
                .map(|i| {
                    let z = -lim + i as f64 * h;
                    let wt = if i == 0 || i == n { 0.5 } else { 1.0 };
                    wt * h * (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt()
                        * sigmoid(-psi * (theta + s * z))
                })
                .sum();
            assert!((gh - tr).abs() < QUADRATURE_TOL, "{gh} vs {tr}");
        }
    }

    #[test]
    fn conserved_radius_only_where_it_holds() {
        let x = Vector::from_vec(vec![0.3, -1.1]);
        for loss in [DiracLoss::Standard, DiracLoss::Wgan] {
            let g = Dirac::new(loss);
            // d/dt(θ² + ψ²) = 2 x·v = 0 for every f.
            for &(t, p) in &[(0.3, -1.1), (2.0, 1.5), (-0.7, 0.2)] {
                let y = Vector::from_vec(vec![t, p]);
                assert!(y.dot(&g.field(&y)).abs() < 1e-14);
            }
            assert!(g.conserved(&x).is_some());
        }
        assert!(Dirac::new(DiracLoss::NonSaturating).conserved(&x).is_none());
        assert!(
            Dirac {
                r1: 0.1,
                ..Dirac::default()
            }
            .conserved(&x)
            .is_none()
        );
    }

    #[test]
    fn clipping_projects_discriminator_only() {
        let g = Dirac {
            clip: Some(0.5),
            ..Dirac::new(DiracLoss::Wgan)
        };
        let mut x = Vector::from_vec(vec![3.0, -2.0]);
        g.project(&mut x);
        assert_eq!((x[0], x[1]), (3.0, -0.5));
    }

    #[test]
    fn wgan_gp_is_flagged_nonsmooth_at_zero() {
        let g = Dirac {
            gp: 0.7,
            ..Dirac::new(DiracLoss::Wgan)
        };
        assert!(g.nonsmooth_at(&Vector::zeros(2)).is_some());
        assert!(g.nonsmooth_at(&Vector::from_vec(vec![0.0, 1.0])).is_none());
        // |ψ| = t is a ring of zeros of v_ψ at θ = 0.
        assert!(g.field(&Vector::from_vec(vec![0.0, 1.0]))[1].abs() < 1e-15);
    }
}
