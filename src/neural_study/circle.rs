//! The `circle` analysis (seed 002): a GAN on the uniform law on the unit circle, where
//! the seed claims the generator covers the circle uniformly. Each run's final samples
//! are tested for uniform angles (Kolmogorov–Smirnov and chi-square) and measured for
//! their distance to the circle.

use std::f64::consts::TAU;
use std::fmt::Write as _;

use super::outputs::{RunLog, column, read_csv};
use super::render::{self, Ctx, StatRow, lr_of, setting_desc};
use super::stats::{self, MeanCi, Support, mean_ci};
use super::training::TRACE_SAMPLES;
use crate::error::Result;
use crate::export::{Table, num};
use crate::plot::{self, Histogram};

/// Bins of the circle's angle histogram (chi-square test): 10° each, so that with the
/// study's 2000 samples every bin expects about 56, well above the 5 the chi-square
/// approximation needs.
pub const ANGLE_BINS: usize = 36;
/// A uniformity test passes when its p-value exceeds this (the conventional 5 % level).
pub const TEST_LEVEL: f64 = 0.05;
/// A sample is "on" the circle when its radius is within this of 1 (the same 0.1 as
/// "at a point" for the point targets, [`crate::datasets::POINT_COVERAGE_RADIUS`]).
pub const NEAR_CIRCLE: f64 = crate::datasets::POINT_COVERAGE_RADIUS;

/// One run's final samples, tested.
#[derive(Debug, Clone, PartialEq)]
pub struct CircleRun {
    /// The angles θ/2π ∈ [0, 1) of the samples.
    pub angles: Vec<f64>,
    /// KS distance to U[0, 1) and its p-value.
    pub ks: (f64, f64),
    /// χ² statistic, degrees of freedom and p-value on [`ANGLE_BINS`] bins.
    pub chi2: (f64, usize, f64),
    /// Mean |r − 1|.
    pub radius_error: f64,
    /// Fraction of samples with |r − 1| ≤ [`NEAR_CIRCLE`].
    pub near: f64,
}

impl CircleRun {
    /// Tests the samples (`x[i]`, `y[i]`).
    #[must_use]
    pub fn new(x: &[f64], y: &[f64]) -> CircleRun {
        let angles: Vec<f64> = x
            .iter()
            .zip(y)
            .map(|(a, b)| b.atan2(*a).rem_euclid(TAU) / TAU)
            .collect();
        let radius: Vec<f64> = x.iter().zip(y).map(|(a, b)| a.hypot(*b)).collect();
        let mut counts = vec![0usize; ANGLE_BINS];
        for a in angles.iter().filter(|a| a.is_finite()) {
            counts[((a * ANGLE_BINS as f64) as usize).min(ANGLE_BINS - 1)] += 1;
        }
        let n = radius.len().max(1) as f64;
        CircleRun {
            ks: stats::ks_uniform(&angles),
            chi2: stats::chi_square_uniform(&counts),
            radius_error: radius.iter().map(|r| (r - 1.0).abs()).sum::<f64>() / n,
            near: radius
                .iter()
                .filter(|r| (*r - 1.0).abs() <= NEAR_CIRCLE)
                .count() as f64
                / n,
            angles,
        }
    }
    /// Whether the KS test passes.
    #[must_use]
    pub fn ks_passes(&self) -> bool {
        self.ks.1 > TEST_LEVEL
    }
    /// Whether the chi-square test passes.
    #[must_use]
    pub fn chi2_passes(&self) -> bool {
        self.chi2.2 > TEST_LEVEL
    }
}

/// The verdict on "uniformly distributed" for `n` seeds of which `ks` pass the KS
/// test and `chi2` the chi-square test, within `steps` training steps: both tests pass
/// for every seed, neither test passes for any seed, or in between.
#[must_use]
pub fn verdict(n: usize, ks: usize, chi2: usize, steps: usize) -> String {
    if ks == n && chi2 == n {
        "holds".to_string()
    } else if ks == 0 && chi2 == 0 {
        format!("not reached in {steps} steps (every seed rejected)")
    } else {
        "holds for some seeds only".to_string()
    }
}

/// A setting's seeds.
struct CircleSetting {
    runs: Vec<CircleRun>,
}

impl CircleSetting {
    fn ci(&self, f: impl Fn(&CircleRun) -> f64, s: Support) -> MeanCi {
        let v: Vec<f64> = self.runs.iter().map(f).collect();
        mean_ci(&v).within(s)
    }
    fn metrics(&self) -> [(&'static str, MeanCi); 3] {
        [
            ("ks_d", self.ci(|r| r.ks.0, Support::UNIT)),
            (
                "mean_abs_radius_error",
                self.ci(|r| r.radius_error, Support::NON_NEGATIVE),
            ),
            (
                "frac_within_0.1_of_circle",
                self.ci(|r| r.near, Support::UNIT),
            ),
        ]
    }
}

/// The aggregation of a `circle` block.
pub(super) fn aggregate(ctx: &Ctx<'_>, report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    let mut t = Table::new([
        "setting",
        "seed_index",
        "seed",
        "lr",
        "steps",
        "status",
        "n_samples",
        "ks_d",
        "ks_p",
        "chi2",
        "chi2_df",
        "chi2_p",
        "mean_abs_radius_error",
        "frac_within_0.1_of_circle",
    ]);
    let mut settings = Vec::new();
    ctx.make_fig_dir()?;
    for s in 0..b.settings.len() {
        let mut runs = Vec::new();
        for r in ctx.runs_of(s) {
            let d = RunLog::load(r)?;
            let smp = read_csv(&r.dir.join("samples_final.csv"))?;
            let run = CircleRun::new(&column(&smp, "x0"), &column(&smp, "x1"));
            t.push(vec![
                ctx.label(s).to_string(),
                r.seed_index.to_string(),
                r.seed.to_string(),
                num(lr_of(&r.config.optimizer_g)),
                b.steps.to_string(),
                d.status.clone(),
                run.angles.len().to_string(),
                num(run.ks.0),
                num(run.ks.1),
                num(run.chi2.0),
                run.chi2.1.to_string(),
                num(run.chi2.2),
                num(run.radius_error),
                num(run.near),
            ]);
            if r.seed_index == 0 {
                plot::histogram(
                    &ctx.setting_stem(s, "angles"),
                    &Histogram {
                        title: format!(
                            "{}: angles of the final samples (seed index 0)",
                            ctx.label(s)
                        ),
                        x_label: "angle / 2π".into(),
                        samples: run.angles.clone(),
                        bins: ANGLE_BINS,
                        range: (0.0, 1.0),
                        density: vec![(0.0, 1.0), (1.0, 1.0)],
                    },
                )?;
            }
            runs.push(run);
        }
        settings.push(CircleSetting { runs });
    }
    let mut srows = Vec::new();
    for (s, m) in settings.iter().enumerate() {
        for (name, ci) in m.metrics() {
            srows.push(StatRow::new(ctx.label(s), name, ci));
        }
    }
    let paths = render::write_tables(ctx, &t, &srows)?;
    let nsamp = ctx.r.configs[0].snapshot_samples.max(TRACE_SAMPLES);
    render::data_line(report, ctx, &paths);
    writeln!(report, "Uniformity of the angle θ = atan2(y, x) of {nsamp} final generator samples: one-sample Kolmogorov–Smirnov test against U[0, 2π) (D = the largest gap between the empirical and the uniform CDF; asymptotic p-value) and a chi-square test on {ANGLE_BINS} equal bins (Wilson–Hilferty p-value). A test \"passes\" at p > {TEST_LEVEL}. With {nsamp} samples the KS test detects CDF gaps of about 1.36/√{nsamp} ≈ {:.3}, so D is the effect size to read. The radius error is mean |r − 1|.\n", 1.36 / (nsamp as f64).sqrt()).ok();
    writeln!(report, "| setting | configuration | KS D (mean ± CI) | KS passes | χ² passes | mean abs radius error | fraction within 0.1 of the circle | verdict on \"uniformly distributed\" |").ok();
    writeln!(report, "|---|---|---|---|---|---|---|---|").ok();
    for (s, m) in settings.iter().enumerate() {
        let n = m.runs.len();
        let kp = m.runs.iter().filter(|r| r.ks_passes()).count();
        let cp = m.runs.iter().filter(|r| r.chi2_passes()).count();
        let [ks, rad, near] = m.metrics().map(|x| x.1);
        writeln!(
            report,
            "| {} | {} | {} | {kp}/{n} | {cp}/{n} | {} | {} | {} |",
            ctx.label(s),
            setting_desc(&ctx.r.configs[s]),
            ks.show(3),
            rad.show(3),
            near.show(2),
            verdict(n, kp, cp, b.steps)
        )
        .ok();
    }
    writeln!(report).ok();
    render::setting_figures(ctx, report, "angles", "angle histogram")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points at angles `a` (fractions of a turn) on the circle of radius `r`.
    fn on_circle(a: &[f64], r: f64) -> (Vec<f64>, Vec<f64>) {
        a.iter()
            .map(|t| (r * (TAU * t).cos(), r * (TAU * t).sin()))
            .unzip()
    }

    #[test]
    fn evenly_spread_samples_pass_and_a_half_circle_fails() {
        let even: Vec<f64> = (0..2000).map(|i| (f64::from(i) + 0.5) / 2000.0).collect();
        let (x, y) = on_circle(&even, 1.0);
        let r = CircleRun::new(&x, &y);
        assert!(r.ks_passes() && r.chi2_passes(), "{:?} {:?}", r.ks, r.chi2);
        assert!(r.radius_error < 1e-12 && r.near == 1.0);
        // Angles back from atan2 on [0, 1).
        assert!((r.angles[0] - even[0]).abs() < 1e-12);
        assert!((r.angles[1999] - even[1999]).abs() < 1e-12);
        // Half the circle only: D = 1/2, both tests reject.
        let half: Vec<f64> = even.iter().map(|t| t / 2.0).collect();
        let (x, y) = on_circle(&half, 1.2);
        let r = CircleRun::new(&x, &y);
        assert!((r.ks.0 - 0.5).abs() < 1e-3);
        assert!(!r.ks_passes() && !r.chi2_passes());
        // Radius 1.2: every sample 0.2 off the circle, none within NEAR_CIRCLE.
        assert!((r.radius_error - 0.2).abs() < 1e-12 && r.near == 0.0);
    }

    #[test]
    fn the_near_circle_band_is_inclusive() {
        let (x, y) = on_circle(&[0.1, 0.6], 1.0 + NEAR_CIRCLE - 1e-9);
        assert_eq!(CircleRun::new(&x, &y).near, 1.0);
        let (x, y) = on_circle(&[0.1, 0.6], 1.0 + NEAR_CIRCLE + 1e-9);
        assert_eq!(CircleRun::new(&x, &y).near, 0.0);
    }

    #[test]
    fn the_test_level_separates_pass_from_fail() {
        let run = |p: f64| CircleRun {
            angles: vec![],
            ks: (0.0, p),
            chi2: (0.0, 35, p),
            radius_error: 0.0,
            near: 1.0,
        };
        assert!(run(TEST_LEVEL + 1e-9).ks_passes() && run(TEST_LEVEL + 1e-9).chi2_passes());
        assert!(!run(TEST_LEVEL).ks_passes() && !run(TEST_LEVEL).chi2_passes());
    }

    #[test]
    fn the_verdict_needs_both_tests_for_every_seed() {
        assert_eq!(verdict(10, 10, 10, 2000), "holds");
        assert_eq!(verdict(10, 10, 9, 2000), "holds for some seeds only");
        assert_eq!(verdict(10, 0, 1, 2000), "holds for some seeds only");
        assert_eq!(
            verdict(10, 0, 0, 2000),
            "not reached in 2000 steps (every seed rejected)"
        );
    }
}
