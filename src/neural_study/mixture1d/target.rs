//! The 1-D target mixture Σ wₖ N(μₖ, σₖ²) as the analysis needs it: its density (drawn
//! over the histograms), its mean and standard deviation (the phase figure's star), its
//! number of modes, and the W1 noise floor of two finite samples of it.

use nalgebra::DMatrix;

use crate::datasets::Dataset;
use crate::error::Result;
use crate::gan::TrainConfig;

/// Simulated pairs behind the W1 noise floor.
pub const FLOOR_REPS: usize = 200;

/// Density of a 1-D mixture at `x` ([`Dataset::mixture_density`]; NaN for another data
/// set).
#[must_use]
pub fn mixture_density(d: &Dataset, x: f64) -> f64 {
    d.mixture_density(x).unwrap_or(f64::NAN)
}

/// Mean and standard deviation of a 1-D mixture: m = Σ w̄ₖμₖ, s² = Σ w̄ₖ(σₖ² + μₖ²) − m²
/// (NaN for another data set).
#[must_use]
pub fn mixture_moments(d: &Dataset) -> (f64, f64) {
    if let Dataset::GaussianMixture1d {
        means,
        stds,
        weights,
    } = d
    {
        let tot: f64 = weights.iter().sum();
        let m: f64 = means.iter().zip(weights).map(|(m, w)| w / tot * m).sum();
        let m2: f64 = means
            .iter()
            .zip(stds)
            .zip(weights)
            .map(|((mu, s), w)| w / tot * (s * s + mu * mu))
            .sum();
        (m, (m2 - m * m).sqrt())
    } else {
        (f64::NAN, f64::NAN)
    }
}

/// W1 between two independent target samples of `eval_samples` each: mean and the
/// 5 % and 95 % quantiles over [`FLOOR_REPS`] pairs (fixed seed, so reproducible).
///
/// # Errors
/// An invalid data set.
pub fn w1_noise_floor(c: &TrainConfig) -> Result<(f64, f64, f64)> {
    let data = c.dataset.build()?;
    let mut r = crate::linalg::rng(0, 7);
    let mut w: Vec<f64> = (0..FLOOR_REPS)
        .map(|_| {
            let a: DMatrix<f64> = data.sample(&mut r, c.eval_samples);
            let b: DMatrix<f64> = data.sample(&mut r, c.eval_samples);
            crate::metrics::neural::wasserstein_1d(a.as_slice(), b.as_slice())
        })
        .collect();
    w.sort_by(f64::total_cmp);
    let q = |p: f64| w[((p * (w.len() - 1) as f64).round() as usize).min(w.len() - 1)];
    Ok((w.iter().sum::<f64>() / w.len() as f64, q(0.05), q(0.95)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Midpoint-rule error of ∫ xʲ p(x) dx (j = 0, 1, 2) over [−10, 10] at step
    /// h = 1e-3: (h²/24)·∫|(xʲp)''| ≲ 4e-8 · 10, and the tails beyond ±10 (16σ) are
    /// negligible; 1e-6 leaves a margin.
    const INTEGRAL_TOL: f64 = 1e-6;

    fn seed000() -> Dataset {
        Dataset::GaussianMixture1d {
            means: vec![-2.0, 2.0],
            stds: vec![0.5, 0.5],
            weights: vec![1.0, 3.0],
        }
    }

    #[test]
    fn density_and_moments_match_their_closed_forms() {
        let d = seed000();
        let h = 1e-3;
        let (mut mass, mut m1, mut m2) = (0.0, 0.0, 0.0);
        for i in 0..20_000 {
            let x = -10.0 + (f64::from(i) + 0.5) * h;
            let p = mixture_density(&d, x) * h;
            mass += p;
            m1 += x * p;
            m2 += x * x * p;
        }
        assert!((mass - 1.0).abs() < INTEGRAL_TOL, "{mass}");
        let (m, s) = mixture_moments(&d);
        // w̄ = (1/4, 3/4): m = 1, s² = 0.25 + 4 − 1 = 3.25.
        assert!((m - 1.0).abs() < 1e-12 && (s * s - 3.25).abs() < 1e-12);
        assert!((m1 - m).abs() < INTEGRAL_TOL && (m2 - m1 * m1 - s * s).abs() < INTEGRAL_TOL);
        assert!(mixture_density(&Dataset::TwoPoints, 0.0).is_nan());
    }
}
