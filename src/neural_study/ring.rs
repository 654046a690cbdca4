//! The `ring` analysis (seed 001, the gan-vis blog): a 2-D GAN on a ring of Gaussian
//! modes, measured by the modes covered over training and at the end, against the
//! outcome the blog reports for each model ([`super::Setting::expect_modes`]).

use std::fmt::Write as _;

use super::RunSpec;
use super::frames::frames_report;
use super::outputs::RunLog;
use super::render::{self, Ctx, StatRow, fig_line, losses_figure};
use super::stats::{MeanCi, Support, mean_ci};
use crate::error::Result;
use crate::export::{Table, num};
use crate::plot::{self, LinePlot, Series};

/// One run, summarised from its log.
#[derive(Debug, Clone)]
pub struct RingRun {
    /// The first log step at which every mode is covered (NaN: never).
    pub first_all_covered: f64,
    /// Modes covered at the end.
    pub modes_covered: f64,
    /// Fraction of samples within 3σ of some mode at the end.
    pub high_quality: f64,
    /// (step, modes covered) at each log step.
    pub coverage: Vec<(f64, f64)>,
}

impl RingRun {
    /// Summarises a run whose target has `modes` modes.
    #[must_use]
    pub fn from_log(d: &RunLog, modes: usize) -> RingRun {
        let st = d.col("step");
        let mc = d.col("modes_covered");
        RingRun {
            first_all_covered: st
                .iter()
                .zip(&mc)
                .find(|(_, m)| **m >= modes as f64)
                .map_or(f64::NAN, |(s, _)| *s),
            modes_covered: d.last("modes_covered"),
            high_quality: d.last("high_quality"),
            coverage: st.into_iter().zip(mc).collect(),
        }
    }
}

/// How a setting's final coverage compares with the blog's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingVerdict {
    /// No expected outcome given.
    NoExpectation,
    /// Every seed ends with an expected number of modes.
    Agrees,
    /// At least half of the seeds do.
    MostlyAgrees,
    /// Fewer than half do.
    Differs,
}

/// Seeds ending with a number of modes in `expect`, and the verdict: all of them
/// agree, at least half mostly agree (a majority outcome), fewer differ.
#[must_use]
pub fn ring_verdict(finals: &[f64], expect: &[usize]) -> (usize, RingVerdict) {
    let inside = finals
        .iter()
        .filter(|v| expect.iter().any(|k| (*k as f64) == **v))
        .count();
    let n = finals.len();
    let v = if expect.is_empty() {
        RingVerdict::NoExpectation
    } else if inside == n {
        RingVerdict::Agrees
    } else if 2 * inside >= n {
        RingVerdict::MostlyAgrees
    } else {
        RingVerdict::Differs
    };
    (inside, v)
}

/// A setting's runs.
struct RingSetting {
    finals: Vec<f64>,
    high_quality: Vec<f64>,
    /// (step, mean modes covered over the seeds) per log step.
    curve: Vec<(f64, f64)>,
    modes: usize,
}

impl RingSetting {
    fn new(runs: &[RingRun], modes: usize) -> RingSetting {
        let mut acc: Vec<(f64, Vec<f64>)> = Vec::new();
        for r in runs {
            for (i, (x, m)) in r.coverage.iter().enumerate() {
                if acc.len() <= i {
                    acc.push((*x, vec![]));
                }
                acc[i].1.push(*m);
            }
        }
        RingSetting {
            finals: runs.iter().map(|r| r.modes_covered).collect(),
            high_quality: runs.iter().map(|r| r.high_quality).collect(),
            curve: acc.iter().map(|(x, v)| (*x, mean_ci(v).mean)).collect(),
            modes,
        }
    }
    fn covered(&self) -> MeanCi {
        mean_ci(&self.finals).within(Support::up_to(self.modes as f64))
    }
    fn quality(&self) -> MeanCi {
        mean_ci(&self.high_quality).within(Support::UNIT)
    }
}

/// The aggregation of a `ring` block.
pub(super) fn aggregate(ctx: &Ctx<'_>, report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    let ns = b.settings.len();
    let mut t = Table::new([
        "setting",
        "seed_index",
        "seed",
        "steps",
        "status",
        "modes_covered",
        "high_quality",
        "mode_frac_0",
        "mode_frac_1",
        "mode_frac_2",
        "first_step_all_covered",
        "energy_distance",
    ]);
    let mut settings = Vec::new();
    for s in 0..ns {
        let mut runs = Vec::new();
        let mut modes = 0;
        for r in ctx.runs_of(s) {
            let d = RunLog::load(r)?;
            modes = super::mode_count(&r.config);
            let rr = RingRun::from_log(&d, modes);
            t.push(summary_row(ctx, s, r, &d, &rr));
            runs.push(rr);
        }
        settings.push(RingSetting::new(&runs, modes));
    }
    let mut srows = Vec::new();
    for (s, m) in settings.iter().enumerate() {
        srows.push(StatRow::new(ctx.label(s), "modes_covered", m.covered()));
        srows.push(StatRow::new(ctx.label(s), "high_quality", m.quality()));
    }
    let paths = render::write_tables(ctx, &t, &srows)?;
    writeln!(
        report,
        "Data: `{}` (one row per run), `{}`; per-run logs, samples and frames under `{}/runs/`.\n",
        ctx.rel_data(&paths[0]),
        ctx.rel_data(&paths[1]),
        b.name
    )
    .ok();
    let c0 = &ctx.r.configs[0];
    let sigma = c0.dataset.mode_std().unwrap_or(f64::NAN);
    writeln!(report, "A mode is covered when at least {:.0} % of {} generator samples (evaluation mode, no dropout) lie within 3σ = {:.2} of its mean and nearer to it than to the other means. \"High quality\" is the fraction of samples within 3σ of some mode.\n", 100.0 * c0.coverage_min_fraction, c0.eval_samples, 3.0 * sigma).ok();
    writeln!(report, "| model | modes covered at the end (mean ± 95 % CI) | seeds with 0 / 1 / 2 / 3 modes | high-quality fraction | blog (SETUPS.md C) | seeds inside the blog's outcome | verdict |").ok();
    writeln!(report, "|---|---|---|---|---|---|---|").ok();
    for (s, m) in settings.iter().enumerate() {
        let cnt = |k: f64| m.finals.iter().filter(|v| **v == k).count();
        let set = &b.settings[s];
        let e = &set.expect_modes;
        let n = m.finals.len();
        let (inside, v) = ring_verdict(&m.finals, e);
        let verdict = match v {
            RingVerdict::NoExpectation => "–".to_string(),
            RingVerdict::Agrees => "agrees".to_string(),
            RingVerdict::MostlyAgrees => "mostly agrees".to_string(),
            RingVerdict::Differs => format!(
                "**differs** after {} steps (the blog ran 30k–100k)",
                b.steps
            ),
        };
        writeln!(
            report,
            "| {} | {} | {} / {} / {} / {} | {} | {} | {} | {verdict} |",
            set.label,
            m.covered().show(2),
            cnt(0.0),
            cnt(1.0),
            cnt(2.0),
            cnt(3.0),
            m.quality().show(2),
            if set.expect.is_empty() {
                "–"
            } else {
                &set.expect
            },
            if e.is_empty() {
                "–".to_string()
            } else {
                format!("{inside}/{n} (expected {e:?} modes)")
            }
        )
        .ok();
    }
    writeln!(report).ok();
    ctx.make_fig_dir()?;
    let stem = ctx.figs.join("coverage_vs_step");
    plot::line_plot(
        &stem,
        &LinePlot {
            title: format!("{}: modes covered, mean over {} seeds", b.name, b.seeds),
            x_label: "training step".into(),
            y_label: "modes covered (of 3)".into(),
            series: settings
                .iter()
                .enumerate()
                .map(|(s, m)| Series {
                    label: ctx.label(s).to_string(),
                    points: m.curve.clone(),
                })
                .collect(),
            ..Default::default()
        },
    )?;
    fig_line(report, ctx, "modes covered over training", &stem);
    for s in 0..ns {
        writeln!(report, "### {}\n", ctx.label(s)).ok();
        frames_report(ctx, report, s)?;
        losses_figure(ctx, report, s)?;
    }
    Ok(())
}

/// A run's row of `summary.csv`.
fn summary_row(ctx: &Ctx<'_>, s: usize, r: &RunSpec, d: &RunLog, rr: &RingRun) -> Vec<String> {
    vec![
        ctx.label(s).to_string(),
        r.seed_index.to_string(),
        r.seed.to_string(),
        ctx.r.block.steps.to_string(),
        d.status.clone(),
        num(rr.modes_covered),
        num(rr.high_quality),
        num(d.last("mode_frac_0")),
        num(d.last("mode_frac_1")),
        num(d.last("mode_frac_2")),
        num(rr.first_all_covered),
        num(d.last("energy_distance")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blog_outcome_agrees_mostly_or_differs_by_the_share_of_seeds() {
        let e = [1, 2];
        assert_eq!(
            ring_verdict(&[1.0, 2.0, 2.0, 1.0], &e),
            (4, RingVerdict::Agrees)
        );
        // Exactly half inside: mostly agrees; one fewer: differs.
        assert_eq!(
            ring_verdict(&[1.0, 3.0, 2.0, 3.0], &e),
            (2, RingVerdict::MostlyAgrees)
        );
        assert_eq!(
            ring_verdict(&[1.0, 3.0, 3.0, 3.0], &e),
            (1, RingVerdict::Differs)
        );
        // A non-integer (a diverged run's NaN) is never inside.
        assert_eq!(
            ring_verdict(&[f64::NAN, 1.0], &e),
            (1, RingVerdict::MostlyAgrees)
        );
        assert_eq!(ring_verdict(&[3.0], &[]), (0, RingVerdict::NoExpectation));
    }

    #[test]
    fn a_setting_averages_coverage_per_log_step() {
        let run = |m: [f64; 3]| RingRun {
            first_all_covered: f64::NAN,
            modes_covered: m[2],
            high_quality: 0.9,
            coverage: vec![(0.0, m[0]), (10.0, m[1]), (20.0, m[2])],
        };
        let s = RingSetting::new(&[run([0.0, 1.0, 3.0]), run([1.0, 2.0, 2.0])], 3);
        assert_eq!(s.curve, vec![(0.0, 0.5), (10.0, 1.5), (20.0, 2.5)]);
        // Two seeds, 3 and 2 modes: the interval is cut to [0, 3] at the top.
        assert!(s.covered().is_cut() && s.covered().hi() == 3.0);
    }
}
