//! Small statistics for the neural studies: Student-t intervals, paired differences,
//! Spearman rank correlation, the Kolmogorov–Smirnov test against the uniform law, a
//! chi-square test on a histogram, and a period estimate from the autocorrelation.
//!
//! Every interval in the reports is a two-sided 95 % Student-t interval
//! x̄ ± t₀.₉₇₅,ₙ₋₁ · s/√n over the seeds (finite values only). For a metric whose values
//! cannot leave a range (W1 ≥ 0, a fraction in [0, 1], a count of modes in [0, k]) the
//! interval is intersected with that range ([`Support`], [`MeanCi::within`]): with few
//! seeds (n = 2 gives t = 12.7) the plain interval reaches far below 0, which no mean of
//! such a metric can. Cutting keeps the coverage: the true mean lies in the range, so it
//! lies in the cut interval exactly when it lies in the uncut one. A cut interval is
//! shown as `mean [lo, hi]` instead of `mean ± half` ([`MeanCi::show`]).

/// t₀.₉₇₅ quantiles for 1..=30 degrees of freedom (standard tables).
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The 0.975 quantile of Student's t with `df` degrees of freedom: the table up to 30,
/// then the Cornish–Fisher expansion z + (z³ + z)/(4df) + (5z⁵ + 16z³ + 3z)/(96df²)
/// (error below 1e-3 for df > 30).
#[must_use]
pub fn t975(df: usize) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    if df <= 30 {
        return T975[df - 1];
    }
    let z: f64 = 1.959_964;
    let d = df as f64;
    z + (z.powi(3) + z) / (4.0 * d)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
}

/// The range a metric's values, and so its mean, cannot leave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Support {
    /// Smallest possible value (−∞: unbounded).
    pub lo: f64,
    /// Largest possible value (+∞: unbounded).
    pub hi: f64,
}

impl Support {
    /// The whole real line (differences, for example): intervals are never cut.
    pub const REAL: Support = Support {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };
    /// [0, ∞): distances (W1), errors, amplitudes, counts, steps.
    pub const NON_NEGATIVE: Support = Support {
        lo: 0.0,
        hi: f64::INFINITY,
    };
    /// [0, 1]: fractions and probabilities.
    pub const UNIT: Support = Support { lo: 0.0, hi: 1.0 };
    /// [0, `hi`]: a bounded count (modes covered of `hi`) or a step within a run.
    #[must_use]
    pub fn up_to(hi: f64) -> Support {
        Support { lo: 0.0, hi }
    }
}

/// Mean and the half-width of its 95 % t-interval over the finite values, with the
/// range the interval is cut to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanCi {
    /// Sample mean.
    pub mean: f64,
    /// Half-width of the t-interval before any cut (NaN with fewer than two values).
    pub half: f64,
    /// Number of finite values used.
    pub n: usize,
    /// The metric's range: [`MeanCi::lo`] and [`MeanCi::hi`] do not leave it.
    pub support: Support,
}

impl MeanCi {
    /// The same interval cut to `support` (see the module doc for why this keeps the
    /// coverage).
    #[must_use]
    pub fn within(self, support: Support) -> MeanCi {
        MeanCi { support, ..self }
    }
    /// Whether the t-interval leaves the support, so that [`MeanCi::lo`] or
    /// [`MeanCi::hi`] is the support's end rather than mean ∓ half.
    #[must_use]
    pub fn is_cut(&self) -> bool {
        self.mean - self.half < self.support.lo || self.mean + self.half > self.support.hi
    }
    /// `mean ± half` for reports, or `mean [lo, hi]` when the interval is cut to the
    /// support (the two ends then differ from mean ∓ half).
    #[must_use]
    pub fn show(&self, digits: usize) -> String {
        if self.n == 0 {
            return "n/a".into();
        }
        if !self.half.is_finite() {
            format!("{:.*}", digits, self.mean)
        } else if self.is_cut() {
            format!(
                "{:.*} [{:.*}, {:.*}]",
                digits,
                self.mean,
                digits,
                self.lo(),
                digits,
                self.hi()
            )
        } else {
            format!("{:.*} ± {:.*}", digits, self.mean, digits, self.half)
        }
    }
    /// Lower end of the interval: mean − half, or the support's lower end if that is
    /// larger (NaN when the half-width is NaN).
    #[must_use]
    pub fn lo(&self) -> f64 {
        let raw = self.mean - self.half;
        // `raw < lo` is false for NaN, so an undefined interval stays NaN.
        if raw < self.support.lo {
            self.support.lo
        } else {
            raw
        }
    }
    /// Upper end of the interval: mean + half, or the support's upper end if smaller.
    #[must_use]
    pub fn hi(&self) -> f64 {
        let raw = self.mean + self.half;
        if raw > self.support.hi {
            self.support.hi
        } else {
            raw
        }
    }
}

/// 95 % t-interval of the mean of the finite values of `xs` (not cut: see
/// [`MeanCi::within`]).
#[must_use]
pub fn mean_ci(xs: &[f64]) -> MeanCi {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    let support = Support::REAL;
    if n == 0 {
        return MeanCi {
            mean: f64::NAN,
            half: f64::NAN,
            n,
            support,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return MeanCi {
            mean,
            half: f64::NAN,
            n,
            support,
        };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    MeanCi {
        mean,
        half: t975(n - 1) * (var / n as f64).sqrt(),
        n,
        support,
    }
}

/// 95 % t-interval of the paired differences a_i − b_i (pairs with a non-finite side
/// are dropped).
#[must_use]
pub fn paired_diff(a: &[f64], b: &[f64]) -> MeanCi {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| x - y)
        .collect();
    mean_ci(&d)
}

/// Ranks (1-based, ties get the average rank).
#[must_use]
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
    let mut r = vec![0.0; xs.len()];
    let mut k = 0;
    while k < idx.len() {
        let mut e = k;
        while e + 1 < idx.len() && xs[idx[e + 1]] == xs[idx[k]] {
            e += 1;
        }
        let avg = (k + e) as f64 / 2.0 + 1.0;
        for &i in &idx[k..=e] {
            r[i] = avg;
        }
        k = e + 1;
    }
    r
}

/// Spearman rank correlation of the pairs with both values finite (NaN if fewer than 3).
#[must_use]
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (x, y): (Vec<f64>, Vec<f64>) = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (*x, *y))
        .unzip();
    if x.len() < 3 {
        return f64::NAN;
    }
    pearson(&ranks(&x), &ranks(&y))
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// One-sample Kolmogorov–Smirnov test of `u` (values in [0, 1)) against U[0, 1):
/// returns (D, asymptotic p-value). p uses Q_KS(λ) = 2 Σ (−1)^{k−1} e^{−2k²λ²} with
/// λ = (√n + 0.12 + 0.11/√n)·D (Stephens 1970; Numerical Recipes §14.3).
#[must_use]
pub fn ks_uniform(u: &[f64]) -> (f64, f64) {
    let mut v: Vec<f64> = u.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    let nf = n as f64;
    let mut d: f64 = 0.0;
    for (i, x) in v.iter().enumerate() {
        let x = x.clamp(0.0, 1.0);
        d = d.max((i as f64 + 1.0) / nf - x).max(x - i as f64 / nf);
    }
    let sq = nf.sqrt();
    let lambda = (sq + 0.12 + 0.11 / sq) * d;
    (d, q_ks(lambda))
}

fn q_ks(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=100 {
        let kf = f64::from(k);
        let term = sign * (-2.0 * kf * kf * lambda * lambda).exp();
        sum += term;
        if term.abs() < 1e-12 {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// Chi-square statistic of `counts` against equal expected counts, with its degrees of
/// freedom (bins − 1) and the Wilson–Hilferty normal approximation of the p-value.
#[must_use]
pub fn chi_square_uniform(counts: &[usize]) -> (f64, usize, f64) {
    let n: usize = counts.iter().sum();
    let k = counts.len();
    if k < 2 || n == 0 {
        return (f64::NAN, 0, f64::NAN);
    }
    let e = n as f64 / k as f64;
    let chi: f64 = counts.iter().map(|c| (*c as f64 - e).powi(2) / e).sum();
    let df = (k - 1) as f64;
    let z = ((chi / df).cbrt() - (1.0 - 2.0 / (9.0 * df))) / (2.0 / (9.0 * df)).sqrt();
    (chi, k - 1, normal_sf(z))
}

/// Upper tail of the standard normal, 1 − Φ(z) (Abramowitz–Stegun 7.1.26 erfc, |ε| < 1.5e-7).
#[must_use]
pub fn normal_sf(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))))
        * (-x * x).exp();
    let erfc = if x >= 0.0 { y } else { 2.0 - y };
    0.5 * erfc
}

/// Sample autocorrelation of `x` at lags 0..=max_lag (mean removed).
#[must_use]
pub fn autocorrelation(x: &[f64], max_lag: usize) -> Vec<f64> {
    let n = x.len();
    if n < 2 {
        return vec![];
    }
    let m = x.iter().sum::<f64>() / n as f64;
    let c0: f64 = x.iter().map(|v| (v - m).powi(2)).sum();
    if c0 == 0.0 {
        return vec![];
    }
    (0..=max_lag.min(n - 1))
        .map(|l| (0..n - l).map(|i| (x[i] - m) * (x[i + l] - m)).sum::<f64>() / c0)
        .collect()
}

/// Minimum autocorrelation peak for a period to count as detected (the mixture's gap,
/// the four points' masses). The sample autocorrelation of white noise at a fixed lag
/// has standard error about 1/√n; the second half of a study run holds n ≈ 100–200 log
/// points, so 0.2 is 2–3 standard errors: a peak above it is a repeating pattern, not
/// noise.
pub const ACF_MIN_PEAK: f64 = 0.2;

/// The dominant period of `x` in samples: the lag of the highest autocorrelation
/// peak after the first negative value, when that peak exceeds `min_peak` (else None).
/// Lags up to half the series are searched.
#[must_use]
pub fn acf_period(x: &[f64], min_peak: f64) -> Option<(f64, f64)> {
    acf_peak(&autocorrelation(x, x.len() / 2), min_peak)
}

/// The highest local maximum of an autocorrelation `acf` (lags 0, 1, …) after its
/// first negative value, if it exceeds `min_peak`: (lag, value). Starting after the
/// first zero crossing skips the lag-0 peak and its slow decay, so a peak found is a
/// return of the series to itself, i.e. a period. None when the autocorrelation never
/// goes negative (a trend or a single transient) or no peak clears `min_peak`.
#[must_use]
pub fn acf_peak(acf: &[f64], min_peak: f64) -> Option<(f64, f64)> {
    let first_neg = acf.iter().position(|v| *v < 0.0)?;
    let mut best: Option<(usize, f64)> = None;
    for l in first_neg.max(1)..acf.len().saturating_sub(1) {
        if acf[l] > acf[l - 1]
            && acf[l] >= acf[l + 1]
            && acf[l] > min_peak
            && best.is_none_or(|(_, b)| acf[l] > b)
        {
            best = Some((l, acf[l]));
        }
    }
    best.map(|(l, v)| (l as f64, v))
}

/// Half the 5–95 % inter-quantile range: a robust oscillation amplitude.
#[must_use]
pub fn half_range_90(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (v.len() - 1) as f64;
        let (i, f) = (pos.floor() as usize, pos.fract());
        v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
    };
    0.5 * (q(0.95) - q(0.05))
}

/// The mean over runs of (step, value) curves, point by point: at index i, the step of
/// the first run that has a point i and the mean of every run's value there (runs that
/// ended early drop out of the later means).
#[must_use]
pub fn mean_curve(curves: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let n = curves.iter().map(Vec::len).max().unwrap_or(0);
    (0..n)
        .filter_map(|i| {
            let v: Vec<f64> = curves
                .iter()
                .filter_map(|c| c.get(i))
                .map(|p| p.1)
                .collect();
            let step = curves.iter().find_map(|c| c.get(i))?.0;
            Some((step, mean_ci(&v).mean))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Point-by-point means; a run that ended early drops out of the later points.
    #[test]
    fn mean_curve_averages_point_by_point() {
        let c = mean_curve(&[
            vec![(0.0, 1.0), (10.0, 3.0), (20.0, 5.0)],
            vec![(0.0, 3.0), (10.0, 5.0)],
        ]);
        assert_eq!(c, vec![(0.0, 2.0), (10.0, 4.0), (20.0, 5.0)]);
        assert!(mean_curve(&[]).is_empty());
    }

    /// Tolerance for closed-form checks of the statistics.
    const TOL: f64 = 1e-3;

    #[test]
    fn t_quantile_table_and_expansion_agree_with_known_values() {
        assert!((t975(9) - 2.262).abs() < TOL);
        // t_{0.975, 60} = 2.000, t_{0.975, 120} = 1.980.
        assert!((t975(60) - 2.000).abs() < TOL, "{}", t975(60));
        assert!((t975(120) - 1.980).abs() < TOL, "{}", t975(120));
    }

    #[test]
    fn interval_of_known_sample() {
        // 1..=5: mean 3, s = √2.5, half = 2.776·√(2.5/5).
        let c = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN]);
        assert_eq!(c.n, 5);
        assert!((c.mean - 3.0).abs() < 1e-12);
        assert!((c.half - 2.776 * 0.5f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn intervals_of_non_negative_metrics_are_cut_at_zero() {
        // n = 2 W1 values 0.1 and 3.0: mean 1.55, half = 12.706 · 2.05/√2 ≈ 18.4.
        let raw = mean_ci(&[0.1, 3.0]);
        assert!(raw.lo() < 0.0 && !raw.is_cut());
        let c = raw.within(Support::NON_NEGATIVE);
        assert!(c.is_cut());
        assert_eq!(c.lo(), 0.0);
        assert_eq!(c.hi(), raw.hi());
        assert_eq!((c.mean, c.half, c.n), (raw.mean, raw.half, raw.n));
        assert_eq!(c.show(3), format!("1.550 [0.000, {:.3}]", raw.hi()));
        // An interval inside the support is untouched, and shown as before.
        let inside = mean_ci(&[1.0, 1.1, 0.9, 1.0, 1.05]);
        let cut = inside.within(Support::NON_NEGATIVE);
        assert!(!cut.is_cut());
        assert_eq!((cut.lo(), cut.hi()), (inside.lo(), inside.hi()));
        assert_eq!(cut.show(3), inside.show(3));
        assert!(cut.show(3).contains(" ± "));
        // A fraction's interval is cut at both ends of [0, 1].
        let f = mean_ci(&[0.05, 0.95]).within(Support::UNIT);
        assert_eq!((f.lo(), f.hi()), (0.0, 1.0));
        // A zero-width interval on the boundary is not cut.
        assert!(!mean_ci(&[0.0, 0.0]).within(Support::NON_NEGATIVE).is_cut());
        // Fewer than two values: no interval, nothing to cut.
        let one = mean_ci(&[2.0]).within(Support::NON_NEGATIVE);
        assert!(one.lo().is_nan() && one.hi().is_nan() && !one.is_cut());
        assert_eq!(one.show(1), "2.0");
        assert_eq!(mean_ci(&[]).within(Support::UNIT).show(1), "n/a");
    }

    #[test]
    fn cutting_never_changes_whether_a_mean_in_the_support_is_covered() {
        // For every sample pair from a grid and true means inside [0, ∞), the cut
        // interval contains μ exactly when the uncut one does (so coverage is kept).
        let covers = |c: &MeanCi, mu: f64| c.lo() <= mu && mu <= c.hi();
        for i in 0..40 {
            for j in 0..40 {
                let xs = [0.05 * f64::from(i), 0.3 * f64::from(j)];
                let raw = mean_ci(&xs);
                let cut = raw.within(Support::NON_NEGATIVE);
                for mu in [0.0, 0.01, 0.5, 2.0, 7.0, 40.0] {
                    assert_eq!(covers(&raw, mu), covers(&cut, mu), "{xs:?} {mu}");
                }
            }
        }
    }

    #[test]
    fn the_acf_peak_skips_lag_zero_and_weak_peaks() {
        // Decays, goes negative at lag 3, peaks at lag 6 (0.5) and lag 9 (0.3).
        let acf = [1.0, 0.5, 0.1, -0.2, 0.0, 0.2, 0.5, 0.1, 0.2, 0.3, 0.0];
        assert_eq!(acf_peak(&acf, ACF_MIN_PEAK), Some((6.0, 0.5)));
        // A peak at the threshold itself does not count (strictly above).
        let weak = [1.0, 0.1, -0.1, 0.1, ACF_MIN_PEAK, 0.0];
        assert_eq!(acf_peak(&weak, ACF_MIN_PEAK), None);
        let strong = [1.0, 0.1, -0.1, 0.1, ACF_MIN_PEAK + 1e-9, 0.0];
        assert_eq!(acf_peak(&strong, ACF_MIN_PEAK).map(|p| p.0), Some(4.0));
        // Never negative (a trend): no period.
        assert_eq!(acf_peak(&[1.0, 0.9, 0.8, 0.9, 0.7], ACF_MIN_PEAK), None);
    }

    #[test]
    fn spearman_of_monotone_and_reversed() {
        let a = [1.0, 5.0, 2.0, 9.0];
        assert!((spearman(&a, &a.map(|x| x * x)) - 1.0).abs() < 1e-12);
        assert!((spearman(&a, &a.map(|x| -x)) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn ks_accepts_a_uniform_grid_and_rejects_a_clump() {
        let grid: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        let (d, p) = ks_uniform(&grid);
        assert!(d <= 0.0005 + 1e-12 && p > 0.99, "{d} {p}");
        let clump: Vec<f64> = (0..1000).map(|i| 0.25 * i as f64 / 1000.0).collect();
        let (d, p) = ks_uniform(&clump);
        assert!((d - 0.75).abs() < 0.01 && p < 1e-6, "{d} {p}");
    }

    #[test]
    fn chi_square_p_value_matches_tables() {
        // χ² = 16.92 at 9 df is the 95 % point: p ≈ 0.05.
        let (_, df, p) = chi_square_uniform(&[10; 10]);
        assert_eq!(df, 9);
        assert!(p > 0.99);
        assert!((normal_sf(1.959_964) - 0.025).abs() < 1e-5);
    }

    #[test]
    fn period_of_a_sine_is_found() {
        let x: Vec<f64> = (0..400)
            .map(|i| (std::f64::consts::TAU * i as f64 / 25.0).sin())
            .collect();
        let (p, peak) = acf_period(&x, 0.3).unwrap();
        assert!((p - 25.0).abs() <= 1.0 && peak > 0.8, "{p} {peak}");
        let flat: Vec<f64> = (0..400).map(|i| i as f64).collect();
        assert!(acf_period(&flat, 0.3).is_none());
    }
}
