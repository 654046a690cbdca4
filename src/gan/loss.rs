//! GAN losses on discriminator logits, and their derivatives with respect to the logits.
//!
//! D outputs a logit l; D(x) = σ(l). All forms are the numerically stable
//! BCE-with-logits ones, with softplus(t) = ln(1 + eᵗ) = max(t, 0) + ln(1 + e^{−|t|}).
//!
//! | loss | L_D | L_G |
//! |---|---|---|
//! | `minimax` (Goodfellow et al. 2014, saturating) | E_r[softplus(l) − t·l] + E_f[softplus(l)] | −E_f[softplus(l)] = E_f[ln(1 − D)] |
//! | `non_saturating` (Goodfellow et al. 2014, §3) | same | E_f[softplus(−l)] = −E_f[ln D] |
//! | `wasserstein` (Arjovsky et al. 2017) | E_f(l) − E_r(l) | −E_f(l) |
//!
//! E_r is the mean over the real batch, E_f over the fake batch. t = 1 − α is the real
//! label under one-sided label smoothing with α ∈ [0, 1) (Salimans et al. 2016: only
//! the real targets are smoothed); t = 1 gives softplus(l) − l = softplus(−l) =
//! −ln D(x). Each player *minimises* its loss; with `minimax`, α = 0 and no
//! regulariser, L_G = −L_D + (a term without θ), the zero-sum game.

use serde::{Deserialize, Serialize};

use crate::nn::Float;

/// Which adversarial loss pair (L_D, L_G) is used (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GanLoss {
    /// The saturating minimax loss of Goodfellow et al. (2014).
    Minimax,
    /// The non-saturating generator loss −ln D(G(z)) (gan-vis, seed 002).
    #[default]
    NonSaturating,
    /// The Wasserstein critic loss (use with weight clipping or a gradient penalty).
    Wasserstein,
}

/// softplus(t) = ln(1 + eᵗ), stable for all t.
#[inline]
#[must_use]
pub fn softplus<T: Float>(t: T) -> T {
    let zero = T::zero();
    let m = if t > zero { t } else { zero };
    m + (T::one() + (-t.abs()).exp()).ln()
}

/// Summary of one discriminator-loss evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DLossStats {
    /// L_D (adversarial part only).
    pub loss: f64,
    /// Mean D on the real batch: mean σ(l) (mean critic value for WGAN).
    pub d_real: f64,
    /// Mean D on the fake batch.
    pub d_fake: f64,
}

impl GanLoss {
    /// Whether D's output is read through a sigmoid (false for the WGAN critic).
    #[must_use]
    pub fn uses_sigmoid(self) -> bool {
        !matches!(self, GanLoss::Wasserstein)
    }

    /// L_D and ∂L_D/∂l for every logit: `real` and `fake` logits in, their gradients
    /// written to `d_real` and `d_fake` (same lengths). `target` is t = 1 − α.
    pub fn discriminator<T: Float>(
        self,
        real: &[T],
        fake: &[T],
        target: f64,
        d_real: &mut [T],
        d_fake: &mut [T],
    ) -> DLossStats {
        let (nr, nf) = (real.len().max(1) as f64, fake.len().max(1) as f64);
        let (ir, if_) = (T::of(1.0 / nr), T::of(1.0 / nf));
        let t = T::of(target);
        let mut loss = 0.0;
        let (mut mr, mut mf) = (0.0, 0.0);
        match self {
            GanLoss::Minimax | GanLoss::NonSaturating => {
                for (&l, g) in real.iter().zip(d_real.iter_mut()) {
                    let s = crate::nn::sigmoid(l);
                    loss += (softplus(l) - t * l).f64() / nr;
                    mr += s.f64();
                    *g = (s - t) * ir;
                }
                for (&l, g) in fake.iter().zip(d_fake.iter_mut()) {
                    let s = crate::nn::sigmoid(l);
                    loss += softplus(l).f64() / nf;
                    mf += s.f64();
                    *g = s * if_;
                }
            }
            GanLoss::Wasserstein => {
                for (&l, g) in real.iter().zip(d_real.iter_mut()) {
                    loss -= l.f64() / nr;
                    mr += l.f64();
                    *g = -ir;
                }
                for (&l, g) in fake.iter().zip(d_fake.iter_mut()) {
                    loss += l.f64() / nf;
                    mf += l.f64();
                    *g = if_;
                }
            }
        }
        DLossStats {
            loss,
            d_real: mr / nr,
            d_fake: mf / nf,
        }
    }

    /// L_G and ∂L_G/∂l for the fake logits.
    pub fn generator<T: Float>(self, fake: &[T], d_fake: &mut [T]) -> f64 {
        let nf = fake.len().max(1) as f64;
        let inv = T::of(1.0 / nf);
        let mut loss = 0.0;
        for (&l, g) in fake.iter().zip(d_fake.iter_mut()) {
            match self {
                GanLoss::Minimax => {
                    loss -= softplus(l).f64() / nf;
                    *g = -crate::nn::sigmoid(l) * inv;
                }
                GanLoss::NonSaturating => {
                    loss += softplus(-l).f64() / nf;
                    *g = -crate::nn::sigmoid(-l) * inv;
                }
                GanLoss::Wasserstein => {
                    loss -= l.f64() / nf;
                    *g = -inv;
                }
            }
        }
        loss
    }
}

impl GanLoss {
    /// The second derivatives ∂²L_D/∂l² of the discriminator loss, one per logit (the
    /// Hessian in the logits is diagonal: each term depends on one logit), written to
    /// `c_real` and `c_fake`. With σ′(l) = σ(l)σ(−l): minimax and non-saturating
    /// σ′(l)/n for real and fake logits alike (the real target t = 1 − α enters only
    /// the first derivative, so label smoothing does not change it); Wasserstein 0.
    /// With [`GanLoss::discriminator`]'s gradients g, the tangent of the seed is
    /// R{g} = c ⊙ R{l}.
    pub fn discriminator_curvature<T: Float>(
        self,
        real: &[T],
        fake: &[T],
        c_real: &mut [T],
        c_fake: &mut [T],
    ) {
        let (ir, if_) = (
            T::of(1.0 / real.len().max(1) as f64),
            T::of(1.0 / fake.len().max(1) as f64),
        );
        for (logits, out, inv) in [(real, c_real, ir), (fake, c_fake, if_)] {
            for (&l, c) in logits.iter().zip(out.iter_mut()) {
                *c = match self {
                    GanLoss::Minimax | GanLoss::NonSaturating => sigmoid_prime(l) * inv,
                    GanLoss::Wasserstein => T::zero(),
                };
            }
        }
    }

    /// ∂²L_G/∂l² per fake logit: minimax −σ′(l)/n (L_G = −E softplus(l)),
    /// non-saturating σ′(l)/n (L_G = E softplus(−l)), Wasserstein 0.
    pub fn generator_curvature<T: Float>(self, fake: &[T], c: &mut [T]) {
        let inv = T::of(1.0 / fake.len().max(1) as f64);
        for (&l, ci) in fake.iter().zip(c.iter_mut()) {
            *ci = match self {
                GanLoss::Minimax => -sigmoid_prime(l) * inv,
                GanLoss::NonSaturating => sigmoid_prime(l) * inv,
                GanLoss::Wasserstein => T::zero(),
            };
        }
    }
}

/// σ′(l) = σ(l)·σ(−l), accurate in both tails (1 − σ(l) would round to 0 for l ≫ 0).
#[inline]
fn sigmoid_prime<T: Float>(l: T) -> T {
    crate::nn::sigmoid(l) * crate::nn::sigmoid(-l)
}

/// Tangent of [`categorical_cross_entropy`]'s gradient: with p = softmax(q) per row,
/// R{λ·∂L_CE/∂q} = (λ/B)·p ⊙ (R{q} − ⟨p, R{q}⟩) (the softmax Jacobian diag(p) − p pᵀ
/// applied to R{q}). `logits` and `r_logits` are B × k column-major; the result is
/// written to `out` (same layout).
pub fn categorical_cross_entropy_tangent<T: Float>(
    logits: &[T],
    batch: usize,
    r_logits: &[T],
    lambda: f64,
    out: &mut [T],
) {
    if batch == 0 {
        return;
    }
    let k = logits.len() / batch;
    let scale = T::of(lambda / batch as f64);
    for i in 0..batch {
        let mut m = logits[i];
        for j in 1..k {
            let v = logits[i + j * batch];
            if v > m {
                m = v;
            }
        }
        let mut z = T::zero();
        for j in 0..k {
            z += (logits[i + j * batch] - m).exp();
        }
        let lse = m + z.ln();
        let mut mean = T::zero();
        for j in 0..k {
            mean += (logits[i + j * batch] - lse).exp() * r_logits[i + j * batch];
        }
        for j in 0..k {
            let p = (logits[i + j * batch] - lse).exp();
            out[i + j * batch] = scale * p * (r_logits[i + j * batch] - mean);
        }
    }
}

/// InfoGAN's categorical term (Chen et al. 2016): with Q(c | x) = softmax(q(x))_c,
/// L_CE = −E[ln Q(c | G(z, c))] = E[logsumexp(q) − q_c] ≥ 0, and its gradient
/// ∂L_CE/∂q = (softmax(q) − onehot(c)) / B. `logits` is B × k column-major.
/// Returns L_CE and writes λ·∂L_CE/∂q to `grad` (same layout).
pub fn categorical_cross_entropy<T: Float>(
    logits: &[T],
    batch: usize,
    codes: &[usize],
    lambda: f64,
    grad: &mut [T],
) -> f64 {
    if batch == 0 {
        return 0.0;
    }
    let k = logits.len() / batch;
    let scale = T::of(lambda / batch as f64);
    let mut loss = 0.0;
    for (i, &c) in codes.iter().enumerate().take(batch) {
        let mut m = logits[i];
        for j in 1..k {
            let v = logits[i + j * batch];
            if v > m {
                m = v;
            }
        }
        let mut z = T::zero();
        for j in 0..k {
            z += (logits[i + j * batch] - m).exp();
        }
        let lse = m + z.ln();
        loss += (lse - logits[i + c * batch]).f64();
        for j in 0..k {
            let p = (logits[i + j * batch] - lse).exp();
            let y = if j == c { T::one() } else { T::zero() };
            grad[i + j * batch] = (p - y) * scale;
        }
    }
    loss / batch as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative tolerance of the f64 central-difference checks. The step h = 1e-4 keeps
    /// the rounding error (ε·|L|/h, with |L| up to ~20 at the extreme logits) and the
    /// truncation error (h²·|L‴|/6) both below 1e-9.
    const GRAD_CHECK_TOL: f64 = 1e-6;
    const H: f64 = 1e-4;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= GRAD_CHECK_TOL * a.abs().max(b.abs()).max(1e-3)
    }

    #[test]
    fn logit_gradients_match_differences_for_every_loss() {
        let real = [0.3, -2.0, 5.0, -40.0];
        let fake = [1.2, -0.7, 35.0, -3.0, 0.0];
        for loss in [
            GanLoss::Minimax,
            GanLoss::NonSaturating,
            GanLoss::Wasserstein,
        ] {
            for target in [1.0, 0.9] {
                let mut gr = [0.0; 4];
                let mut gf = [0.0; 5];
                loss.discriminator(&real, &fake, target, &mut gr, &mut gf);
                let ld = |r: &[f64], f: &[f64]| {
                    loss.discriminator(r, f, target, &mut [0.0; 4], &mut [0.0; 5])
                        .loss
                };
                for i in 0..4 {
                    let (mut p, mut m) = (real, real);
                    p[i] += H;
                    m[i] -= H;
                    assert!(
                        close(gr[i], (ld(&p, &fake) - ld(&m, &fake)) / (2.0 * H)),
                        "{loss:?} real {i}"
                    );
                }
                for i in 0..5 {
                    let (mut p, mut m) = (fake, fake);
                    p[i] += H;
                    m[i] -= H;
                    assert!(
                        close(gf[i], (ld(&real, &p) - ld(&real, &m)) / (2.0 * H)),
                        "{loss:?} fake {i}"
                    );
                }
            }
            let mut gg = [0.0; 5];
            loss.generator(&fake, &mut gg);
            for i in 0..5 {
                let (mut p, mut m) = (fake, fake);
                p[i] += H;
                m[i] -= H;
                let fd = (loss.generator(&p, &mut [0.0; 5]) - loss.generator(&m, &mut [0.0; 5]))
                    / (2.0 * H);
                assert!(close(gg[i], fd), "{loss:?} G {i}");
            }
        }
    }

    #[test]
    fn losses_are_finite_at_extreme_logits_and_match_closed_forms() {
        let mut g = [0.0; 2];
        let l = GanLoss::NonSaturating.generator(&[-800.0f64, 800.0], &mut g);
        assert!(l.is_finite() && (l - 400.0).abs() < 1e-9);
        // Minimax with D = ½ everywhere: L_D = 2 ln 2, L_G = −ln 2.
        let s = GanLoss::Minimax.discriminator(&[0.0f64], &[0.0], 1.0, &mut [0.0], &mut [0.0]);
        assert!((s.loss - 2.0 * std::f64::consts::LN_2).abs() < 1e-15 && s.d_real == 0.5);
        let lg = GanLoss::Minimax.generator(&[0.0f64], &mut [0.0]);
        assert!((lg + std::f64::consts::LN_2).abs() < 1e-15);
    }

    #[test]
    fn logit_curvatures_match_differences_of_the_gradients() {
        let real = [0.3, -2.0, 5.0, -40.0];
        let fake = [1.2, -0.7, 35.0, -3.0, 0.0];
        for loss in [
            GanLoss::Minimax,
            GanLoss::NonSaturating,
            GanLoss::Wasserstein,
        ] {
            for target in [1.0, 0.9] {
                let (mut cr, mut cf) = ([0.0; 4], [0.0; 5]);
                loss.discriminator_curvature(&real, &fake, &mut cr, &mut cf);
                let grads = |r: &[f64], f: &[f64]| {
                    let (mut gr, mut gf) = ([0.0; 4], [0.0; 5]);
                    loss.discriminator(r, f, target, &mut gr, &mut gf);
                    (gr, gf)
                };
                for i in 0..4 {
                    let (mut p, mut m) = (real, real);
                    p[i] += H;
                    m[i] -= H;
                    let fd = (grads(&p, &fake).0[i] - grads(&m, &fake).0[i]) / (2.0 * H);
                    assert!(close(cr[i], fd), "{loss:?} real {i}: {} vs {fd}", cr[i]);
                }
                for i in 0..5 {
                    let (mut p, mut m) = (fake, fake);
                    p[i] += H;
                    m[i] -= H;
                    let fd = (grads(&real, &p).1[i] - grads(&real, &m).1[i]) / (2.0 * H);
                    assert!(close(cf[i], fd), "{loss:?} fake {i}: {} vs {fd}", cf[i]);
                }
            }
            let mut cg = [0.0; 5];
            loss.generator_curvature(&fake, &mut cg);
            for i in 0..5 {
                let (mut p, mut m) = (fake, fake);
                p[i] += H;
                m[i] -= H;
                let g = |f: &[f64]| {
                    let mut out = [0.0; 5];
                    loss.generator(f, &mut out);
                    out[i]
                };
                assert!(close(cg[i], (g(&p) - g(&m)) / (2.0 * H)), "{loss:?} G {i}");
            }
        }
    }

    #[test]
    fn cross_entropy_tangent_matches_differences_of_the_gradient() {
        let logits = [0.2, -1.0, 3.0, 0.5, 0.0, -2.0]; // B = 2, k = 3
        let dir = [0.7, -0.3, 1.1, 0.4, -0.9, 0.25];
        let codes = [2, 0];
        let mut out = [0.0; 6];
        categorical_cross_entropy_tangent(&logits, 2, &dir, 1.5, &mut out);
        let grad = |t: f64| {
            let q: Vec<f64> = logits.iter().zip(&dir).map(|(l, d)| l + t * d).collect();
            let mut g = [0.0; 6];
            categorical_cross_entropy(&q, 2, &codes, 1.5, &mut g);
            g
        };
        let (gp, gm) = (grad(H), grad(-H));
        for i in 0..6 {
            assert!(close(out[i], (gp[i] - gm[i]) / (2.0 * H)), "{i}");
        }
    }

    #[test]
    fn cross_entropy_gradient_matches_differences() {
        let logits = [0.2, -1.0, 3.0, 0.5, 0.0, -2.0]; // B = 2, k = 3
        let codes = [2, 0];
        let mut g = [0.0; 6];
        let l0 = categorical_cross_entropy(&logits, 2, &codes, 1.5, &mut g);
        assert!(l0 > 0.0);
        for i in 0..6 {
            let (mut p, mut m) = (logits, logits);
            p[i] += H;
            m[i] -= H;
            let f = |x: &[f64]| 1.5 * categorical_cross_entropy(x, 2, &codes, 1.0, &mut [0.0; 6]);
            assert!(close(g[i], (f(&p) - f(&m)) / (2.0 * H)), "{i}");
        }
    }
}
