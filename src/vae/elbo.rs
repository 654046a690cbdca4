//! The evidence lower bound of a Gaussian VAE and its derivatives, term by term
//! (Kingma & Welling 2014, "Auto-encoding variational Bayes", §2.4 and Appendix B):
//!
//! ELBO(x) = E_{q(z|x)}[ln p(x|z)] − KL(q(z|x) ‖ p(z)),
//!
//! with the prior p(z) = N(0, I_m), the encoder's q(z|x) = N(μ(x), diag e^{s(x)})
//! (s = ln σ², so σ > 0 without a constraint), and the decoder's
//! p(x|z) = N(x̂(z), σ_x² I_d) with a fixed σ_x ([`super::VaeConfig::decoder_std`]).
//! The expectation is estimated with one reparameterised draw per row,
//! z = μ + e^{s/2} ⊙ ε, ε ~ N(0, I) (the reparameterisation trick, §2.4); every term
//! is a mean over the B rows of the batch. Matrices are B × width, column-major.

use nalgebra::DMatrix;

use crate::nn::Float;

/// The two terms of the ELBO and their sum, means over the batch.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct ElboTerms {
    /// ELBO = `recon_loglik` − `kl` (the VAE maximises it; its loss is −ELBO).
    pub elbo: f64,
    /// The one-draw estimate of E_q[ln p(x|z)].
    pub recon_loglik: f64,
    /// KL(q(z|x) ‖ N(0, I)), in closed form.
    pub kl: f64,
}

/// ln N(x; x̂, σ²I) = −‖x − x̂‖²/(2σ²) − (d/2) ln(2πσ²), averaged over the rows; the
/// gradient of its **negative** with respect to x̂, (x̂ − x)/(σ² B), is written to
/// `grad` (same shape as x).
pub fn gaussian_loglik<T: Float>(
    x: &DMatrix<T>,
    xhat: &DMatrix<T>,
    sigma: f64,
    grad: &mut DMatrix<T>,
) -> f64 {
    let (b, d) = x.shape();
    if b == 0 {
        return 0.0;
    }
    let var = sigma * sigma;
    let scale = T::of(1.0 / (var * b as f64));
    let mut sq = 0.0;
    for ((g, &xi), &hi) in grad.iter_mut().zip(x.iter()).zip(xhat.iter()) {
        let r = hi - xi;
        sq += (r * r).f64();
        *g = r * scale;
    }
    -sq / (2.0 * var * b as f64) - 0.5 * d as f64 * (std::f64::consts::TAU * var).ln()
}

/// KL(N(μ, diag e^s) ‖ N(0, I)) = ½ Σ_j (μ_j² + e^{s_j} − 1 − s_j) per row, averaged
/// over the rows, for the encoder output `mu_s` = [μ | s] (B × 2m); its gradient,
/// ∂/∂μ = μ/B and ∂/∂s = (e^s − 1)/(2B), is **added** to `grad` (B × 2m).
pub fn gaussian_kl<T: Float>(mu_s: &DMatrix<T>, grad: &mut DMatrix<T>) -> f64 {
    let (b, w) = mu_s.shape();
    if b == 0 {
        return 0.0;
    }
    let m = w / 2;
    let inv_b = T::of(1.0 / b as f64);
    let half = T::of(0.5);
    let mut kl = 0.0;
    for j in 0..m {
        for i in 0..b {
            let (mu, s) = (mu_s[(i, j)], mu_s[(i, m + j)]);
            let e = s.exp();
            kl += 0.5 * (mu * mu + e - T::one() - s).f64();
            grad[(i, j)] += mu * inv_b;
            grad[(i, m + j)] += half * (e - T::one()) * inv_b;
        }
    }
    kl / b as f64
}

/// z = μ + e^{s/2} ⊙ ε for the encoder output `mu_s` = [μ | s] and the noise `eps`
/// (B × m), written to `z`.
pub fn reparameterise<T: Float>(mu_s: &DMatrix<T>, eps: &DMatrix<T>, z: &mut DMatrix<T>) {
    let m = eps.ncols();
    let half = T::of(0.5);
    for j in 0..m {
        for i in 0..eps.nrows() {
            z[(i, j)] = mu_s[(i, j)] + (half * mu_s[(i, m + j)]).exp() * eps[(i, j)];
        }
    }
}

/// The chain rule through [`reparameterise`]: given ∂L/∂z (`dz`, B × m), **adds**
/// ∂L/∂μ = ∂L/∂z and ∂L/∂s = ∂L/∂z ⊙ ε ⊙ ½e^{s/2} to `grad` (B × 2m).
pub fn reparameterise_backward<T: Float>(
    mu_s: &DMatrix<T>,
    eps: &DMatrix<T>,
    dz: &DMatrix<T>,
    grad: &mut DMatrix<T>,
) {
    let m = eps.ncols();
    let half = T::of(0.5);
    for j in 0..m {
        for i in 0..eps.nrows() {
            let g = dz[(i, j)];
            grad[(i, j)] += g;
            grad[(i, m + j)] += g * eps[(i, j)] * half * (half * mu_s[(i, m + j)]).exp();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::gauss_hermite_normal;

    /// Relative tolerance of the f64 central-difference checks (h = 1e-6 on entries of
    /// order one: truncation ~1e-12, rounding ~1e-10).
    const GRAD_CHECK_TOL: f64 = 1e-7;
    const H: f64 = 1e-6;
    /// Gauss–Hermite quadrature with 40 nodes integrates the Gaussian log-densities
    /// (polynomials of degree 2 in z) exactly up to rounding.
    const QUADRATURE_TOL: f64 = 1e-12;

    fn mats() -> (DMatrix<f64>, DMatrix<f64>) {
        // B = 3, m = 2: [μ | s].
        let mu_s = DMatrix::from_row_slice(
            3,
            4,
            &[
                0.3, -1.2, 0.1, -0.5, 0.8, 0.05, -1.0, 0.7, -0.4, 2.0, 0.0, 0.2,
            ],
        );
        let eps = DMatrix::from_row_slice(3, 2, &[0.5, -1.1, 1.3, 0.2, -0.7, 0.9]);
        (mu_s, eps)
    }

    #[test]
    fn kl_matches_quadrature_of_the_log_density_ratio() {
        // KL(q ‖ p) = E_q[ln q(z) − ln p(z)], per coordinate, by Gauss–Hermite on q.
        let (mu_s, _) = mats();
        let mut g = DMatrix::zeros(3, 4);
        let kl = gaussian_kl(&mu_s, &mut g);
        let nodes = gauss_hermite_normal(40);
        let mut want = 0.0;
        for i in 0..3 {
            for j in 0..2 {
                let (mu, s) = (mu_s[(i, j)], mu_s[(i, 2 + j)]);
                let sd = (0.5 * s).exp();
                for (t, w) in &nodes {
                    let z: f64 = mu + sd * t;
                    let ln_q = -0.5 * t * t - sd.ln();
                    let ln_p = -0.5 * z * z;
                    want += w * (ln_q - ln_p);
                }
            }
        }
        want /= 3.0;
        assert!(
            (kl - want).abs() < QUADRATURE_TOL * want.abs().max(1.0),
            "{kl} {want}"
        );
        // At μ = 0, s = 0 the posterior is the prior.
        let zero = DMatrix::<f64>::zeros(2, 4);
        assert_eq!(gaussian_kl(&zero, &mut DMatrix::zeros(2, 4)), 0.0);
    }

    fn fd_check(f: &dyn Fn(&DMatrix<f64>) -> f64, at: &DMatrix<f64>, grad: &DMatrix<f64>) {
        for k in 0..at.len() {
            let (mut p, mut m) = (at.clone(), at.clone());
            p[k] += H;
            m[k] -= H;
            let fd = (f(&p) - f(&m)) / (2.0 * H);
            assert!(
                (grad[k] - fd).abs() <= GRAD_CHECK_TOL * fd.abs().max(1.0),
                "entry {k}: {} vs {fd}",
                grad[k]
            );
        }
    }

    #[test]
    fn kl_gradient_matches_differences() {
        let (mu_s, _) = mats();
        let mut g = DMatrix::zeros(3, 4);
        gaussian_kl(&mu_s, &mut g);
        fd_check(&|a| gaussian_kl(a, &mut DMatrix::zeros(3, 4)), &mu_s, &g);
    }

    #[test]
    fn reconstruction_gradient_and_value_match_the_gaussian_density() {
        let x = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, -1.0, 0.1]);
        let xhat = DMatrix::from_row_slice(2, 2, &[0.7, 0.2, -0.9, -0.3]);
        let sigma = 0.3;
        let mut g = DMatrix::zeros(2, 2);
        let ll = gaussian_loglik(&x, &xhat, sigma, &mut g);
        // ln N by its formula, coordinate by coordinate.
        let want: f64 = x
            .iter()
            .zip(xhat.iter())
            .map(|(a, b)| {
                -0.5 * ((a - b) / sigma).powi(2) - (sigma * std::f64::consts::TAU.sqrt()).ln()
            })
            .sum::<f64>()
            / 2.0;
        assert!((ll - want).abs() < 1e-14);
        fd_check(
            &|h| -gaussian_loglik(&x, h, sigma, &mut DMatrix::zeros(2, 2)),
            &xhat,
            &g,
        );
    }

    #[test]
    fn reparameterisation_backward_is_the_chain_rule() {
        // L(z) = Σ c ⊙ z for a fixed c: ∂L/∂(μ, s) by differences of L(z(μ, s)).
        let (mu_s, eps) = mats();
        let c = DMatrix::from_row_slice(3, 2, &[0.4, -0.3, 1.1, 0.6, -0.2, 0.9]);
        let l = |a: &DMatrix<f64>| {
            let mut z = DMatrix::zeros(3, 2);
            reparameterise(a, &eps, &mut z);
            z.component_mul(&c).sum()
        };
        let mut g = DMatrix::zeros(3, 4);
        reparameterise_backward(&mu_s, &eps, &c, &mut g);
        fd_check(&l, &mu_s, &g);
    }
}
