//! The sliced Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015) and the
//! exact 1-D Wasserstein distances it averages.
//!
//! For a direction θ on the unit sphere S^{d−1}, θ#μ is the law of θ·X. The sliced
//! p-Wasserstein distance is SW_p(μ, ν) = (∫_{S^{d−1}} W_p^p(θ#μ, θ#ν) dσ(θ))^{1/p}, with σ
//! the uniform measure on the sphere. It is estimated by Monte Carlo over L directions
//! θ_l = g_l/‖g_l‖, g_l ~ N(0, I_d) (uniform on the sphere), drawn from
//! `rng(seed, SLICED_STREAM)` ([`crate::linalg::rng`], [`SLICED_STREAM`]), so the same seed gives the same
//! directions (and a training log that scores every step with one seed compares steps on the
//! same slices).
//!
//! We report both orders: SW₁ = (1/L) Σ_l W₁(θ_l#μ, θ_l#ν) and
//! SW₂ = ((1/L) Σ_l W₂²(θ_l#μ, θ_l#ν))^{1/2}.
//!
//! In 1-D, W_p^p(a, b) = ∫₀¹ |F_a⁻¹(u) − F_b⁻¹(u)|^p du (the quantile coupling is optimal
//! for convex costs). For empirical distributions of n and m points the quantile functions
//! are step functions with steps at i/n and j/m, so the integral is an exact finite sum over
//! the merged breakpoints ("quantile matching"): unequal sizes need no resampling. The
//! breakpoints are compared as integers (i·m against j·n), so the merge is exact.
//!
//! The projected values of each direction are sorted and matched in parallel (rayon); the
//! per-direction values are collected in order and summed sequentially, so the result is
//! bit-identical for any number of threads.

use nalgebra::DMatrix;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::Serialize;

use super::points::Points;
use crate::error::{Error, Result};
use crate::linalg::rng;

/// Default number of projections L. The Monte-Carlo standard error of SW₁ is
/// sd_θ(W₁(θ)) / √L; for a pure shift c in 2-D that is |c|·0.31/√L, ≈ 2 % of |c| at L = 256.
pub const DEFAULT_PROJECTIONS: usize = 256;

/// Stream of [`crate::linalg::rng`] from which the projection directions are drawn.
pub const SLICED_STREAM: u64 = 0x5117_CED0;

/// Sliced Wasserstein distances of orders 1 and 2.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SlicedWasserstein {
    /// SW₁ = mean over directions of the 1-D W₁ of the projections.
    pub sw1: f64,
    /// SW₂ = (mean over directions of the 1-D W₂²)^{1/2}.
    pub sw2: f64,
    /// Number of directions L.
    pub projections: usize,
    /// Seed of the directions.
    pub seed: u64,
}

/// Walks the quantile coupling of two sorted, non-empty slices: calls `visit(|a_i − b_j|, Δu)`
/// for each interval (u_prev, u_next] of the merged breakpoints {i/n} ∪ {j/m} on which the
/// quantile functions are a_i and b_j. Breakpoints are compared exactly as integers
/// ((i+1)·m against (j+1)·n).
fn quantile_coupling(a: &[f64], b: &[f64], mut visit: impl FnMut(f64, f64)) {
    let (n, m) = (a.len() as u128, b.len() as u128);
    let (mut i, mut j) = (0usize, 0usize);
    let mut prev = 0.0;
    while i < a.len() && j < b.len() {
        let (ia, jb) = ((i as u128 + 1) * m, (j as u128 + 1) * n);
        let next = if ia <= jb {
            (i + 1) as f64 / a.len() as f64
        } else {
            (j + 1) as f64 / b.len() as f64
        };
        visit((a[i] - b[j]).abs(), next - prev);
        prev = next;
        if ia <= jb {
            i += 1;
        }
        if jb <= ia {
            j += 1;
        }
    }
}

/// (W₁, W₂²) between the empirical distributions of two sorted, non-empty slices.
#[must_use]
fn w1_w2sq_sorted(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (mut w1, mut w2) = (0.0, 0.0);
    quantile_coupling(a, b, |diff, du| {
        w1 += diff * du;
        w2 += diff * diff * du;
    });
    (w1, w2)
}

/// Exact p-Wasserstein distance W_p between the empirical distributions of two 1-D samples
/// of any sizes, W_p^p = ∫₀¹ |F_a⁻¹(u) − F_b⁻¹(u)|^p du (quantile matching; see the module
/// docs). For p = 1 it equals [`crate::metrics::neural::wasserstein_1d`].
///
/// # Errors
/// [`Error::Param`] for an empty or non-finite sample (key `a` or `b`) or p < 1 (key `p`).
pub fn wasserstein_1d_p(a: &[f64], b: &[f64], p: f64) -> Result<f64> {
    if !(p.is_finite() && p >= 1.0) {
        return Err(Error::param("p", format!("{p} is not an order p ≥ 1")));
    }
    for (key, s) in [("a", a), ("b", b)] {
        if s.is_empty() {
            return Err(Error::param(key, "the sample is empty"));
        }
        if let Some(i) = s.iter().position(|v| !v.is_finite()) {
            return Err(Error::param(
                key,
                format!("value {i} is not finite ({})", s[i]),
            ));
        }
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let mut w = 0.0;
    quantile_coupling(&a, &b, |diff, du| w += diff.powf(p) * du);
    Ok(w.powf(1.0 / p))
}

/// L unit directions in R^d, θ = g/‖g‖ with g ~ N(0, I_d), from `rng(seed, SLICED_STREAM)`.
fn directions(d: usize, projections: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut r = rng(seed, SLICED_STREAM);
    let mut out = Vec::with_capacity(projections);
    while out.len() < projections {
        let g: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut r)).collect();
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        // ‖g‖ = 0 has probability 0 (and a subnormal norm would lose the direction); redraw.
        if norm > 1e-150 {
            out.push(g.iter().map(|v| v / norm).collect());
        }
    }
    out
}

/// Sliced Wasserstein distances SW₁ and SW₂ between the rows of `x` and `y` (any sizes),
/// over `projections` directions seeded by `seed` (see the module docs).
///
/// # Errors
/// [`Error::Param`] for an empty or non-finite set (key `samples` for `x`, `target` for
/// `y`) or `projections` = 0 (key `projections`); [`Error::Dimension`] when the sets differ
/// in dimension.
pub fn sliced_wasserstein(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    projections: usize,
    seed: u64,
) -> Result<SlicedWasserstein> {
    let a = Points::from_matrix("samples", x)?;
    let b = Points::from_matrix("target", y)?;
    if a.d != b.d {
        return Err(Error::Dimension {
            what: "target points".into(),
            got: b.d,
            expected: a.d,
        });
    }
    check_projections(projections, a.d)?;
    Ok(sliced_points(&a, &b, projections, seed))
}

/// Most directions [`sliced_wasserstein`] takes. They are drawn (and held, L·d numbers)
/// before any is used, so that the result does not depend on the thread count; the
/// Monte-Carlo error of SW₁ falls as 1/√L, and 10⁶ directions is already 60 times below the
/// default's.
pub const MAX_PROJECTIONS: usize = 1_000_000;

/// Most bytes the L directions in R^d may take (L·d·8), checked before they are drawn.
const MAX_DIRECTION_BYTES: usize = 1 << 30;

/// Refuses zero projections, more than [`MAX_PROJECTIONS`], or directions in R^`dim` over
/// [`MAX_DIRECTION_BYTES`].
pub(crate) fn check_projections(projections: usize, dim: usize) -> Result<()> {
    if projections == 0 {
        return Err(Error::param(
            "projections",
            "0: need at least one direction",
        ));
    }
    if projections > MAX_PROJECTIONS {
        return Err(Error::param(
            "projections",
            format!(
                "{projections} is more than {MAX_PROJECTIONS} (the Monte-Carlo error falls as \
                 1/√L; 10⁶ directions is already 60 times below the default's {DEFAULT_PROJECTIONS})"
            ),
        ));
    }
    let bytes = projections.saturating_mul(dim).saturating_mul(8);
    if bytes > MAX_DIRECTION_BYTES {
        return Err(Error::param(
            "projections",
            format!(
                "{projections} directions in {dim} dimensions take {:.1} GiB, more than {} GiB",
                bytes as f64 / f64::from(1u32 << 30),
                MAX_DIRECTION_BYTES >> 30
            ),
        ));
    }
    Ok(())
}

/// [`sliced_wasserstein`] on validated point sets of one dimension, `projections` ≥ 1.
pub(crate) fn sliced_points(
    a: &Points,
    b: &Points,
    projections: usize,
    seed: u64,
) -> SlicedWasserstein {
    let dirs = directions(a.d, projections, seed);
    let per: Vec<(f64, f64)> = dirs
        .par_iter()
        .map_init(
            || (Vec::with_capacity(a.n), Vec::with_capacity(b.n)),
            |(pa, pb), theta| {
                let dot = |p: &[f64]| p.iter().zip(theta).map(|(u, v)| u * v).sum::<f64>();
                pa.clear();
                pb.clear();
                pa.extend((0..a.n).map(|i| dot(a.row(i))));
                pb.extend((0..b.n).map(|i| dot(b.row(i))));
                pa.sort_unstable_by(f64::total_cmp);
                pb.sort_unstable_by(f64::total_cmp);
                w1_w2sq_sorted(pa, pb)
            },
        )
        .collect();
    let l = projections as f64;
    let (s1, s2) = per
        .iter()
        .fold((0.0, 0.0), |(s1, s2), (w1, w2)| (s1 + w1, s2 + w2));
    SlicedWasserstein {
        sw1: s1 / l,
        sw2: (s2 / l).sqrt(),
        projections,
        seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Dataset;
    use crate::metrics::neural::wasserstein_1d;
    use rand::RngExt;
    use std::f64::consts::PI;

    /// Exact 1-D cases are sums of a few products of exactly representable numbers; the only
    /// error is rounding, a few ulps of the values (≤ 10).
    const EXACT_TOL: f64 = 1e-12;

    /// Number of Monte-Carlo standard errors allowed for the SW of a pure shift: the
    /// estimate is a mean of L i.i.d. terms, nearly normal at L = 400, and 5 standard errors
    /// are exceeded with probability ≈ 6e-7.
    const MC_SIGMAS: f64 = 5.0;

    #[test]
    fn one_d_closed_forms() {
        let a: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.01).collect();
        // A shift by c: W_p = |c| for every p.
        let b: Vec<f64> = a.iter().map(|v| v - 0.375).collect();
        for p in [1.0, 2.0, 3.0] {
            assert!((wasserstein_1d_p(&a, &b, p).unwrap() - 0.375).abs() < EXACT_TOL);
        }
        // Unequal sizes, by hand: {0, 1} vs {0.5}: every quantile is 0.5 away → W₁ = W₂ = 0.5.
        assert!((wasserstein_1d_p(&[0.0, 1.0], &[0.5], 1.0).unwrap() - 0.5).abs() < EXACT_TOL);
        assert!((wasserstein_1d_p(&[0.0, 1.0], &[0.5], 2.0).unwrap() - 0.5).abs() < EXACT_TOL);
        // {0, 1, 2} vs {0, 3}: on (0,1/3] 0 vs 0; (1/3,1/2] 1 vs 0; (1/2,2/3] 1 vs 3;
        // (2/3,1] 2 vs 3. W₁ = 1/6 + 2/6 + 1/3 = 5/6; W₂² = 1/6 + 4/6 + 1/3 = 7/6.
        let (w1, w2) = (
            wasserstein_1d_p(&[2.0, 0.0, 1.0], &[3.0, 0.0], 1.0).unwrap(),
            wasserstein_1d_p(&[0.0, 1.0, 2.0], &[0.0, 3.0], 2.0).unwrap(),
        );
        assert!((w1 - 5.0 / 6.0).abs() < EXACT_TOL, "{w1}");
        assert!((w2 * w2 - 7.0 / 6.0).abs() < EXACT_TOL, "{w2}");
        // A scaling about 0 of a set symmetric about 0: the quantile coupling pairs x with sx,
        // so W₁ = |1 − s|·mean|x| and W₂ = |1 − s|·rms(x).
        let x: Vec<f64> = (-50..=50).map(|i| f64::from(i) / 10.0).collect();
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v).collect();
        let mean_abs = x.iter().map(|v| v.abs()).sum::<f64>() / x.len() as f64;
        let rms = (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt();
        assert!((wasserstein_1d_p(&x, &y, 1.0).unwrap() - 2.0 * mean_abs).abs() < EXACT_TOL);
        assert!((wasserstein_1d_p(&x, &y, 2.0).unwrap() - 2.0 * rms).abs() < EXACT_TOL);
    }

    #[test]
    fn quantile_w1_equals_the_cdf_form_for_unequal_sizes() {
        // Two computations of the same W₁: ∫|F⁻¹ − G⁻¹| du here, ∫|F − G| dt in neural.rs.
        let mut r = rng(11, 0);
        for (n, m) in [(7usize, 13usize), (100, 37), (1, 5), (64, 64)] {
            let a: Vec<f64> = (0..n).map(|_| r.random::<f64>() * 4.0 - 1.0).collect();
            let b: Vec<f64> = (0..m).map(|_| r.random::<f64>() * 2.0).collect();
            let q = wasserstein_1d_p(&a, &b, 1.0).unwrap();
            assert!((q - wasserstein_1d(&a, &b)).abs() < EXACT_TOL, "{n} {m}");
        }
    }

    #[test]
    fn identical_sets_are_at_distance_zero_and_one_d_slices_are_exact() {
        let x: DMatrix<f64> = Dataset::Grid25.build().unwrap().sample(&mut rng(1, 0), 400);
        let s = sliced_wasserstein(&x, &x, 64, 9).unwrap();
        assert_eq!((s.sw1, s.sw2), (0.0, 0.0));
        // In 1-D every direction is ±1 and W is sign-invariant: SW_p = W_p exactly.
        let a = DMatrix::from_fn(50, 1, |i, _| (i as f64).sqrt());
        let b = DMatrix::from_fn(20, 1, |i, _| i as f64 * 0.3 - 1.0);
        let s = sliced_wasserstein(&a, &b, 16, 3).unwrap();
        let (av, bv) = (a.as_slice(), b.as_slice());
        assert!((s.sw1 - wasserstein_1d_p(av, bv, 1.0).unwrap()).abs() < EXACT_TOL);
        assert!((s.sw2 - wasserstein_1d_p(av, bv, 2.0).unwrap()).abs() < EXACT_TOL);
    }

    #[test]
    fn a_pure_shift_gives_its_projected_length() {
        // Y = X + c exactly, so every projection is shifted by θ·c and W_p(θ) = |θ·c| = |c||cos φ|
        // with φ uniform on [0, 2π) in 2-D. Hence
        //   E[SW₁] = |c| E|cos φ| = |c|·2/π,            sd of one term |c|·√(1/2 − 4/π²);
        //   E[SW₂²] = |c|² E cos²φ = |c|²/2,            sd of one term |c|²·√(3/8 − 1/4) = |c|²/√8.
        // The Monte-Carlo error of L directions is sd/√L; the test allows MC_SIGMAS of it and
        // runs on three seeds (each must pass).
        let x: DMatrix<f64> = Dataset::Ring8.build().unwrap().sample(&mut rng(2, 0), 300);
        let c = [0.6, -0.8]; // |c| = 1
        let y = DMatrix::from_fn(300, 2, |i, j| x[(i, j)] + c[j]);
        let l = 400usize;
        let se1 = (0.5 - 4.0 / (PI * PI)).sqrt() / (l as f64).sqrt();
        let se2 = (1.0 / 8.0f64).sqrt() / (l as f64).sqrt();
        for seed in [0, 1, 2] {
            let s = sliced_wasserstein(&x, &y, l, seed).unwrap();
            assert!(
                (s.sw1 - 2.0 / PI).abs() < MC_SIGMAS * se1,
                "seed {seed}: {}",
                s.sw1
            );
            assert!(
                (s.sw2 * s.sw2 - 0.5).abs() < MC_SIGMAS * se2,
                "seed {seed}: {}",
                s.sw2
            );
        }
    }

    #[test]
    fn seeded_and_independent_of_the_thread_count() {
        let d = Dataset::Ring8.build().unwrap();
        let a: DMatrix<f64> = d.sample(&mut rng(7, 0), 500);
        let b: DMatrix<f64> = d.sample(&mut rng(7, 1), 333);
        let run = |t: usize, seed: u64| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| sliced_wasserstein(&a, &b, 100, seed).unwrap())
        };
        assert_eq!(run(1, 5), run(3, 5));
        assert_ne!(run(1, 5).sw1, run(1, 6).sw1);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let x = DMatrix::from_element(3, 2, 1.0);
        assert!(
            sliced_wasserstein(&x, &x, 0, 0)
                .unwrap_err()
                .to_string()
                .contains("projections")
        );
        // Too many directions is refused before any is drawn (L·d numbers are held).
        for l in [MAX_PROJECTIONS + 1, usize::MAX] {
            let e = sliced_wasserstein(&x, &x, l, 0).unwrap_err().to_string();
            assert!(e.contains("projections") && e.contains("more than"), "{e}");
        }
        let wide = DMatrix::from_element(3, 1000, 1.0);
        let e = sliced_wasserstein(&wide, &wide, MAX_PROJECTIONS, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("GiB"), "{e}");
        assert!(sliced_wasserstein(&x, &DMatrix::zeros(3, 1), 4, 0).is_err());
        assert!(sliced_wasserstein(&x, &DMatrix::zeros(0, 2), 4, 0).is_err());
        assert!(wasserstein_1d_p(&[], &[1.0], 1.0).is_err());
        assert!(wasserstein_1d_p(&[1.0], &[1.0], 0.5).is_err());
    }
}
