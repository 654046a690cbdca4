//! The `two_points` analysis (seed 002): a GAN on the two points (−1, 0) and (1, 0),
//! where the seed claims the generator's mass splits 0.5 each. Each run is summarised
//! from its per-point mass series ([`TwoPointRun`]): when it first splits, whether it
//! is split at the end, whether it collapsed onto one point, and how often the mass
//! hopped between the points.

use std::fmt::Write as _;

use super::hops::{DOMINANT, dominant_switches};
use super::outputs::RunLog;
use super::render::{self, Ctx, StatRow, lr_of, mass_figure, setting_desc};
use super::stats::{MeanCi, Support, mean_ci};
use crate::error::Result;
use crate::export::{Table, num};
use crate::plot::Series;

/// Two-point split band: each point holds 0.5 ± this (seed 002's "0.5 each"). The
/// fractions are measured on 1000 samples, whose binomial standard error at 0.5 is
/// √(0.25/1000) ≈ 0.016: a true split never leaves the band by sampling noise (6σ),
/// while 0.4 : 0.6 is a visible imbalance.
pub const SPLIT_TOL: f64 = 0.1;
/// A two-point run has collapsed when one point holds at least this fraction at some
/// log step of the last 10 % of training: 0.8 is 19 standard errors above 0.5, so no
/// noisy split reaches it.
pub const COLLAPSED: f64 = 0.8;
/// … while the other point stays below this fraction over the same steps: the mass
/// never comes back to it (a split would need 0.4 there), only its stray samples.
pub const ABANDONED: f64 = 0.1;
/// A collapse is judged over the last 1/`TAIL_PARTS` of the log (its last tenth): long
/// enough to see a wobble around one point, short enough to be the end state.
pub const TAIL_PARTS: usize = 10;

/// Whether the fractions (`left`, `right`) at the two points form a split.
#[must_use]
pub fn is_split(left: f64, right: f64) -> bool {
    (left - 0.5).abs() <= SPLIT_TOL && (right - 0.5).abs() <= SPLIT_TOL
}

/// Whether the mass series `left`, `right` end collapsed: over the last
/// 1/[`TAIL_PARTS`] of the log one point reaches ≥ [`COLLAPSED`] while the other
/// stays below [`ABANDONED`] (the generator wobbles around one point).
#[must_use]
pub fn is_collapsed(left: &[f64], right: &[f64]) -> bool {
    let n = left.len().min(right.len());
    let tail = n - n.div_ceil(TAIL_PARTS);
    let max = |v: &[f64]| v[tail..n].iter().copied().fold(0.0, f64::max);
    let (ml, mr) = (max(left), max(right));
    (ml >= COLLAPSED && mr < ABANDONED) || (mr >= COLLAPSED && ml < ABANDONED)
}

/// One run, summarised from its mass series.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoPointRun {
    /// The first log step at which the mass is split (NaN: never).
    pub first_split: f64,
    /// Split at the last log step.
    pub split_at_end: bool,
    /// Collapsed onto one point at the end ([`is_collapsed`]).
    pub collapsed: bool,
    /// Hops of the dominant point between the two points.
    pub switches: usize,
}

impl TwoPointRun {
    /// Summarises the fractions `left`, `right` at the log steps `steps`.
    #[must_use]
    pub fn new(steps: &[f64], left: &[f64], right: &[f64]) -> TwoPointRun {
        let ok = |i: usize| is_split(left[i], right[i]);
        TwoPointRun {
            first_split: (0..steps.len())
                .find(|&i| ok(i))
                .map_or(f64::NAN, |i| steps[i]),
            split_at_end: !steps.is_empty() && ok(steps.len() - 1),
            collapsed: is_collapsed(left, right),
            switches: dominant_switches(&[left.to_vec(), right.to_vec()]),
        }
    }
}

/// A setting's seeds.
#[derive(Debug, Clone, Default)]
pub struct TwoPointSetting {
    /// The runs.
    pub runs: Vec<TwoPointRun>,
    /// Training steps (the range of the first split step).
    pub steps: usize,
}

impl TwoPointSetting {
    /// Seeds that split at some log step.
    #[must_use]
    pub fn reached(&self) -> usize {
        self.runs
            .iter()
            .filter(|r| r.first_split.is_finite())
            .count()
    }
    /// Seeds split at the end.
    #[must_use]
    pub fn at_end(&self) -> usize {
        self.runs.iter().filter(|r| r.split_at_end).count()
    }
    /// Seeds collapsed at the end.
    #[must_use]
    pub fn collapsed(&self) -> usize {
        self.runs.iter().filter(|r| r.collapsed).count()
    }
    /// The first split step over the seeds that split.
    #[must_use]
    pub fn first_split(&self) -> MeanCi {
        let v: Vec<f64> = self.runs.iter().map(|r| r.first_split).collect();
        mean_ci(&v).within(Support::up_to(self.steps as f64))
    }
    /// Hops per seed.
    #[must_use]
    pub fn switches(&self) -> MeanCi {
        let v: Vec<f64> = self.runs.iter().map(|r| r.switches as f64).collect();
        mean_ci(&v).within(Support::NON_NEGATIVE)
    }
    /// The verdict on "0.5 each", with the collapse warning.
    #[must_use]
    pub fn verdict(&self) -> String {
        let (n, end, col) = (self.runs.len(), self.at_end(), self.collapsed());
        let verdict = if end == n {
            "holds".to_string()
        } else if self.reached() == 0 {
            format!("not reached in {} steps", self.steps)
        } else {
            format!("holds in {end} of {n} seeds at the end")
        };
        if col > 0 {
            format!(
                "{verdict}; **{col} of {n} seeds ended collapsed onto one point** (mode collapse instead of a split)"
            )
        } else {
            verdict
        }
    }
}

/// The aggregation of a `two_points` block.
pub(super) fn aggregate(ctx: &Ctx<'_>, report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    let mut t = Table::new([
        "setting",
        "seed_index",
        "seed",
        "lr",
        "steps",
        "status",
        "first_split_step",
        "split_at_end",
        "mass_left_final",
        "mass_right_final",
        "high_quality_final",
    ]);
    let mut settings = Vec::new();
    ctx.make_fig_dir()?;
    for s in 0..b.settings.len() {
        let mut m = TwoPointSetting {
            runs: vec![],
            steps: b.steps,
        };
        let mut series = Vec::new();
        for r in ctx.runs_of(s) {
            let d = RunLog::load(r)?;
            let st = d.col("step");
            let (l, rr) = (d.col("mode_frac_0"), d.col("mode_frac_1"));
            let run = TwoPointRun::new(&st, &l, &rr);
            t.push(vec![
                ctx.label(s).to_string(),
                r.seed_index.to_string(),
                r.seed.to_string(),
                num(lr_of(&r.config.optimizer_g)),
                b.steps.to_string(),
                d.status.clone(),
                num(run.first_split),
                run.split_at_end.to_string(),
                num(d.last("mode_frac_0")),
                num(d.last("mode_frac_1")),
                num(d.last("high_quality")),
            ]);
            series.push(Series {
                label: format!("seed index {}", r.seed_index),
                points: st.iter().copied().zip(l.iter().copied()).collect(),
            });
            m.runs.push(run);
        }
        mass_figure(
            &ctx.setting_stem(s, "mass"),
            &format!("{}: mass at (−1, 0), first 3 seeds", ctx.label(s)),
            "fraction of samples within 0.1 of (−1, 0)",
            series.into_iter().take(3).collect(),
            &[0.5 - SPLIT_TOL, 0.5 + SPLIT_TOL],
        )?;
        settings.push(m);
    }
    let srows: Vec<StatRow> = settings
        .iter()
        .enumerate()
        .map(|(s, m)| StatRow::new(ctx.label(s), "first_split_step", m.first_split()))
        .collect();
    let paths = render::write_tables(ctx, &t, &srows)?;
    render::data_line(report, ctx, &paths);
    writeln!(report, "Criterion: the mass has split when each point holds 0.5 ± {SPLIT_TOL} of {} generator samples (a sample is at a point when within 0.1 of it), checked every {} steps.\n", ctx.r.configs[0].eval_samples, ctx.r.configs[0].log_every).ok();
    writeln!(report, "| setting | configuration | seeds that split within {} steps | split at the end | collapsed onto one point (last 10 % of training: one point reaches ≥ {COLLAPSED} of the samples, the other never {ABANDONED}) | hops between the points (switches of the dominant point, ≥ {DOMINANT} of the samples) | first split step (mean ± CI over the seeds that split) | verdict on \"0.5 each\" |", b.steps).ok();
    writeln!(report, "|---|---|---|---|---|---|---|---|").ok();
    for (s, m) in settings.iter().enumerate() {
        let n = m.runs.len();
        writeln!(
            report,
            "| {} | {} | {}/{n} | {}/{n} | {}/{n} | {} | {} | {} |",
            ctx.label(s),
            setting_desc(&ctx.r.configs[s]),
            m.reached(),
            m.at_end(),
            m.collapsed(),
            m.switches().show(1),
            m.first_split().show(0),
            m.verdict()
        )
        .ok();
    }
    writeln!(report).ok();
    render::setting_figures(ctx, report, "mass", "mass at (−1, 0)")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step just inside / outside a band edge, well above rounding.
    const EPS: f64 = 1e-6;

    #[test]
    fn a_split_is_each_point_within_the_band() {
        assert!(is_split(0.5, 0.5));
        assert!(is_split(0.5 - SPLIT_TOL + EPS, 0.5 + SPLIT_TOL - EPS));
        assert!(!is_split(0.5 - SPLIT_TOL - EPS, 0.5));
        assert!(!is_split(0.5, 0.5 + SPLIT_TOL + EPS));
        // Both inside the band for the left point but mass lost elsewhere: no split.
        assert!(!is_split(0.45, 0.3));
        assert!(!is_split(f64::NAN, 0.5));
    }

    /// A 20-step log: `left` is `head` for the first 18 steps, then `tail`.
    fn series(head: f64, tail: [f64; 2]) -> Vec<f64> {
        let mut v = vec![head; 18];
        v.extend(tail);
        v
    }

    #[test]
    fn collapse_needs_one_point_high_and_the_other_abandoned_at_the_end() {
        // Last tenth of 20 steps = the last 2 steps.
        let hi = series(0.5, [COLLAPSED, 0.9]);
        let lo = series(0.5, [ABANDONED - EPS, 0.05]);
        assert!(is_collapsed(&hi, &lo));
        assert!(is_collapsed(&lo, &hi), "either point");
        // The high point just short of COLLAPSED: not collapsed.
        assert!(!is_collapsed(&series(0.5, [COLLAPSED - EPS, 0.7]), &lo));
        // The other point reaches ABANDONED once in the tail: not collapsed.
        assert!(!is_collapsed(&hi, &series(0.5, [ABANDONED, 0.0])));
        // A collapse before the tail does not count.
        let early = series(0.95, [0.5, 0.5]);
        let other = series(0.0, [0.45, 0.45]);
        assert!(!is_collapsed(&early, &other));
        assert!(!is_collapsed(&[], &[]));
    }

    #[test]
    fn a_run_records_its_first_split_its_end_and_its_hops() {
        let steps = [0.0, 10.0, 20.0, 30.0, 40.0];
        let left = [0.9, 0.55, 0.1, 0.9, 0.45];
        let right: Vec<f64> = left.iter().map(|l| 1.0 - l).collect();
        let r = TwoPointRun::new(&steps, &left, &right);
        assert_eq!(r.first_split, 10.0);
        assert!(r.split_at_end);
        // Dominant: 0, 0 (0.55 ≥ 0.4 first), 1, 0, 0 (0.45 is dominant, first): 2 hops.
        assert_eq!(r.switches, 2);
        assert!(!r.collapsed);
        let never = TwoPointRun::new(&steps, &[0.9; 5], &[0.0; 5]);
        assert!(never.first_split.is_nan() && !never.split_at_end && never.collapsed);
    }

    #[test]
    fn the_verdict_separates_holds_partial_unreached_and_collapse() {
        let run = |first: f64, end: bool, col: bool| TwoPointRun {
            first_split: first,
            split_at_end: end,
            collapsed: col,
            switches: 0,
        };
        let s = |runs| TwoPointSetting { runs, steps: 2000 };
        assert_eq!(s(vec![run(5.0, true, false); 2]).verdict(), "holds");
        assert_eq!(
            s(vec![run(5.0, true, false), run(8.0, false, false)]).verdict(),
            "holds in 1 of 2 seeds at the end"
        );
        assert_eq!(
            s(vec![run(f64::NAN, false, false); 2]).verdict(),
            "not reached in 2000 steps"
        );
        assert!(
            s(vec![
                run(f64::NAN, false, true),
                run(f64::NAN, false, false)
            ])
            .verdict()
            .contains("**1 of 2 seeds ended collapsed")
        );
    }
}
