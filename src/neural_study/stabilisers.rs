//! The `stabilisers` analysis (seeds 002 and 003): on a 2-D target with modes, a
//! baseline (the block's first setting) against remedies for mode collapse and
//! instability, and against the VAE, over common seeds.
//!
//! Per run, from its files: the modes covered, the high-quality fraction and the
//! energy distance to the target at the last log step (the trainer's metrics, on
//! `eval_samples` samples), and the mean distance of the final samples
//! (`samples_final.csv`) to their nearest mode mean, which measures blur. Per setting:
//! means with 95 % t-intervals. Against the baseline: paired 95 % t-intervals of the
//! differences (every setting sees the same seeds), and a verdict per metric —
//! *better* or *worse* when the interval excludes 0, otherwise *no detectable
//! difference* — and per setting — *helps* (better somewhere, worse nowhere), *hurts*
//! (the reverse), *mixed*, or *no detectable effect* — over the three metrics that
//! measure the distribution (modes covered ↑, high-quality fraction ↑, energy distance
//! ↓). The blur distance is shown, not judged: below the target's own spread a
//! smaller value is not better.

use std::fmt::Write as _;

use super::frames::frames_report;
use super::outputs::{RunLog, column, read_csv};
use super::render::{self, Ctx, StatRow, fig_line, losses_figure};
use super::stats::{MeanCi, Support, mean_ci, paired_diff};
use crate::datasets::Modes;
use crate::error::Result;
use crate::export::{Table, num};
use crate::gan::train::Model;
use crate::gan::{Penalty, TrainConfig};
use crate::plot::{self, LinePlot, Series};

/// One run's end state.
#[derive(Debug, Clone, PartialEq)]
pub struct StabiliserRun {
    /// Modes covered at the last log step.
    pub modes_covered: f64,
    /// High-quality fraction at the last log step.
    pub high_quality: f64,
    /// Energy distance to the target at the last log step.
    pub energy_distance: f64,
    /// Mean distance of the final samples to their nearest mode mean.
    pub mode_distance: f64,
    /// (step, modes covered, energy distance) at each log step.
    pub curve: Vec<(f64, f64, f64)>,
    /// Whether the run completed.
    pub completed: bool,
}

/// Mean Euclidean distance of the points (x₀, x₁) to their nearest mode mean (NaN for
/// no points or no modes).
#[must_use]
pub fn nearest_mode_distance(points: &[(f64, f64)], modes: &Modes) -> f64 {
    let d: Vec<f64> = points
        .iter()
        .map(|(x, y)| {
            modes
                .means
                .iter()
                .map(|m| (x - m[0]).hypot(y - m[1]))
                .fold(f64::INFINITY, f64::min)
        })
        .filter(|v| v.is_finite())
        .collect();
    if d.is_empty() {
        f64::NAN
    } else {
        d.iter().sum::<f64>() / d.len() as f64
    }
}

/// The target's own value of [`nearest_mode_distance`] for isotropic Gaussian modes
/// of standard deviation σ in 2-D: E‖x − μ‖ = σ√(π/2) (the Rayleigh mean; 0 for point
/// targets), if its modes are far apart compared with σ.
#[must_use]
pub fn target_mode_distance(modes: &Modes) -> f64 {
    let w: f64 = modes.weights.iter().sum();
    modes
        .stds
        .iter()
        .zip(&modes.weights)
        .map(|(s, wk)| wk * s * (std::f64::consts::PI / 2.0).sqrt())
        .sum::<f64>()
        / w.max(f64::MIN_POSITIVE)
}

/// Which way a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Larger is better.
    Higher,
    /// Smaller is better.
    Lower,
}

/// How a setting compares with the baseline on one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The paired interval lies on the good side of 0.
    Better,
    /// The paired interval lies on the bad side of 0.
    Worse,
    /// The interval contains 0 (or is undefined).
    Same,
}

/// The verdict on a paired difference (setting − baseline) `d` for a metric where
/// `better` is the good direction. An interval of zero width (every seed gave the
/// same difference) counts as excluding 0 unless the difference is 0.
#[must_use]
pub fn change(d: &MeanCi, better: Better) -> Change {
    if d.n < 2 || !d.half.is_finite() || !d.mean.is_finite() {
        return Change::Same;
    }
    let (lo, hi) = (d.mean - d.half, d.mean + d.half);
    let up = lo > 0.0 || (d.half == 0.0 && d.mean > 0.0);
    let down = hi < 0.0 || (d.half == 0.0 && d.mean < 0.0);
    match (better, up, down) {
        (Better::Higher, true, _) | (Better::Lower, _, true) => Change::Better,
        (Better::Higher, _, true) | (Better::Lower, true, _) => Change::Worse,
        _ => Change::Same,
    }
}

/// A setting's verdict from its changes on the judged metrics.
#[must_use]
pub fn verdict(changes: &[Change]) -> &'static str {
    let better = changes.contains(&Change::Better);
    let worse = changes.contains(&Change::Worse);
    match (better, worse) {
        (true, false) => "helps",
        (false, true) => "hurts",
        (true, true) => "mixed",
        (false, false) => "no detectable effect",
    }
}

/// The paired differences of every setting after the first with the first (the baseline),
/// on the `judged` columns (name, which way is better): writes `comparison.csv` (one row per
/// setting and column) and returns, per setting after the first, the report cells
/// ("mean ± half (word)", with `digits(column)` decimals) and the changes.
///
/// # Errors
/// [`crate::error::Error::File`] if the CSV cannot be written.
pub(super) fn paired_comparison(
    ctx: &Ctx<'_>,
    values: &dyn Fn(usize, &str) -> Vec<f64>,
    judged: &[(&str, Better)],
    digits: &dyn Fn(&str) -> usize,
) -> Result<Vec<(Vec<String>, Vec<Change>)>> {
    let mut t = Table::new([
        "setting",
        "metric",
        "n",
        "diff_mean",
        "ci95_lo",
        "ci95_hi",
        "change",
    ]);
    let mut out = Vec::new();
    for s in 1..ctx.r.block.settings.len() {
        let mut cells = Vec::new();
        let mut changes = Vec::new();
        for &(col, better) in judged {
            let d = paired_diff(&values(s, col), &values(0, col));
            let c = change(&d, better);
            changes.push(c);
            let word = match c {
                Change::Better => "better",
                Change::Worse => "worse",
                Change::Same => "no detectable difference",
            };
            t.push(vec![
                ctx.label(s).to_string(),
                col.to_string(),
                d.n.to_string(),
                num(d.mean),
                num(d.mean - d.half),
                num(d.mean + d.half),
                word.to_string(),
            ]);
            cells.push(format!("{} ({word})", d.show(digits(col))));
        }
        out.push((cells, changes));
    }
    t.write(&ctx.data.join("comparison.csv"))?;
    Ok(out)
}

/// The judged metrics: column name, report name, direction, range.
const JUDGED: [(&str, &str, Better); 3] = [
    ("modes_covered", "modes covered", Better::Higher),
    ("high_quality", "high-quality fraction", Better::Higher),
    ("energy_distance", "energy distance", Better::Lower),
];

/// A setting's configuration in a few words (the model, what differs from a plain
/// GAN, the learning rates).
#[must_use]
pub fn describe(c: &TrainConfig) -> String {
    let lrs = format!("lr_G {}, lr_D {}", c.optimizer_g.lr(), c.optimizer_d.lr());
    if c.model == Model::Vae {
        let v = c.vae_config();
        return format!(
            "VAE, σ_x = {}, {}-D Gaussian latent, samples: decoder {}; lr {}",
            v.decoder_std,
            c.latent.dim,
            match v.samples {
                crate::vae::VaeSamples::Mean => "means",
                crate::vae::VaeSamples::Noisy => "means + noise",
            },
            c.optimizer_g.lr()
        );
    }
    let mut parts = vec![
        match c.loss {
            crate::gan::GanLoss::Minimax => "minimax loss",
            crate::gan::GanLoss::NonSaturating => "non-saturating loss",
            crate::gan::GanLoss::Wasserstein => "Wasserstein loss",
        }
        .to_string(),
    ];
    match c.penalty {
        Penalty::None => {}
        Penalty::GradientPenalty { lambda } => parts.push(format!("WGAN-GP λ = {lambda}")),
        Penalty::R1 { gamma } => parts.push(format!("R1 γ = {gamma}")),
        Penalty::R2 { gamma } => parts.push(format!("R2 γ = {gamma}")),
    }
    if c.label_smoothing > 0.0 {
        parts.push(format!(
            "one-sided label smoothing α = {}",
            c.label_smoothing
        ));
    }
    if c.discriminator.spectral_norm {
        parts.push("spectral norm on D".into());
    }
    if let Some(m) = &c.discriminator.minibatch {
        parts.push(format!(
            "minibatch discrimination {} × {}",
            m.kernels, m.dim
        ));
    }
    if let Some(u) = &c.unroll {
        parts.push(format!(
            "unrolled k = {}, η = {}, {}",
            u.steps,
            u.lr.unwrap_or(c.optimizer_d.lr()),
            if u.backprop {
                "backprop through the look-ahead"
            } else {
                "no backprop through the look-ahead"
            }
        ));
    }
    if let Some(f) = &c.feature_matching {
        parts.push(match f.layer {
            Some(l) => format!("feature matching on D's hidden layer {l}"),
            None => "feature matching on D's last hidden layer".into(),
        });
    }
    let (_, k_d) = c.schedule.updates_per_step();
    if k_d > 1 {
        parts.push(format!("{k_d} D steps per G step"));
    }
    parts.push(lrs);
    parts.join(", ")
}

/// A setting's runs, summarised.
struct SettingRuns {
    runs: Vec<StabiliserRun>,
    modes: usize,
}

impl SettingRuns {
    fn values(&self, metric: &str) -> Vec<f64> {
        self.runs
            .iter()
            .map(|r| match metric {
                "modes_covered" => r.modes_covered,
                "high_quality" => r.high_quality,
                "energy_distance" => r.energy_distance,
                _ => r.mode_distance,
            })
            .collect()
    }
    fn ci(&self, metric: &str) -> MeanCi {
        let support = match metric {
            "modes_covered" => Support::up_to(self.modes as f64),
            "high_quality" => Support::UNIT,
            _ => Support::NON_NEGATIVE,
        };
        mean_ci(&self.values(metric)).within(support)
    }
    /// Mean over the seeds, per log step, of column `k` of the curves (1: modes
    /// covered, 2: energy distance).
    fn mean_curve(&self, k: usize) -> Vec<(f64, f64)> {
        let curves: Vec<Vec<(f64, f64)>> = self
            .runs
            .iter()
            .map(|r| {
                r.curve
                    .iter()
                    .map(|p| (p.0, if k == 1 { p.1 } else { p.2 }))
                    .collect()
            })
            .collect();
        super::stats::mean_curve(&curves)
    }
}

/// The aggregation of a `stabilisers` block.
pub(super) fn aggregate(ctx: &Ctx<'_>, report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    let ns = b.settings.len();
    let modes = ctx.r.configs[0].data().modes();
    let k = modes.as_ref().map_or(0, |m| m.means.len());
    let mut header = vec![
        "setting".to_string(),
        "seed_index".into(),
        "seed".into(),
        "steps".into(),
        "status".into(),
        "modes_covered".into(),
        "high_quality".into(),
        "energy_distance".into(),
        "nearest_mode_distance".into(),
    ];
    header.extend((0..k).map(|i| format!("mode_frac_{i}")));
    let mut t = Table::new(header);
    let mut settings = Vec::new();
    for s in 0..ns {
        let mut runs = Vec::new();
        for r in ctx.runs_of(s) {
            let d = RunLog::load(r)?;
            let samples = read_csv(&r.dir.join("samples_final.csv"))?;
            let pts: Vec<(f64, f64)> = column(&samples, "x0")
                .into_iter()
                .zip(column(&samples, "x1"))
                .collect();
            let run = StabiliserRun {
                modes_covered: d.last("modes_covered"),
                high_quality: d.last("high_quality"),
                energy_distance: d.last("energy_distance"),
                mode_distance: modes
                    .as_ref()
                    .map_or(f64::NAN, |m| nearest_mode_distance(&pts, m)),
                curve: d
                    .col("step")
                    .into_iter()
                    .zip(d.col("modes_covered"))
                    .zip(d.col("energy_distance"))
                    .map(|((s, m), e)| (s, m, e))
                    .collect(),
                completed: d.status == "completed",
            };
            let mut row = vec![
                ctx.label(s).to_string(),
                r.seed_index.to_string(),
                r.seed.to_string(),
                b.steps.to_string(),
                d.status.clone(),
                num(run.modes_covered),
                num(run.high_quality),
                num(run.energy_distance),
                num(run.mode_distance),
            ];
            row.extend((0..k).map(|i| num(d.last(&format!("mode_frac_{i}")))));
            t.push(row);
            runs.push(run);
        }
        settings.push(SettingRuns { runs, modes: k });
    }
    let mut srows = Vec::new();
    for (s, m) in settings.iter().enumerate() {
        for metric in [
            "modes_covered",
            "high_quality",
            "energy_distance",
            "nearest_mode_distance",
        ] {
            srows.push(StatRow::new(ctx.label(s), metric, m.ci(metric)));
        }
    }
    let paths = render::write_tables(ctx, &t, &srows)?;
    render::data_line(report, ctx, &paths);
    let c0 = &ctx.r.configs[0];
    let target = modes.as_ref().map_or(f64::NAN, target_mode_distance);
    writeln!(report, "Metrics at the last log step, on {} samples (GAN: G(z); VAE: the decoder's means x̂(z), z from the prior): a mode is covered when it holds at least {:.0} % of the samples within its radius (3σ, or 0.1 for a point); the high-quality fraction is the share within the radius of some mode; the energy distance is to {} samples of the target. The nearest-mode distance is the mean distance of the {} final samples to their nearest mode mean (the target's own value: {:.3}); it measures blur and is not judged. Baseline: **{}**.\n", c0.eval_samples, 100.0 * c0.coverage_min_fraction, c0.eval_samples, c0.snapshot_samples, target, ctx.label(0)).ok();
    let counts_head: Vec<String> = (0..=k).map(|i| i.to_string()).collect();
    writeln!(report, "| setting | configuration | modes covered (mean ± 95 % CI) | seeds with {} modes | high-quality fraction | energy distance | nearest-mode distance | runs not completed |", counts_head.join(" / ")).ok();
    writeln!(report, "|---|---|---|---|---|---|---|---|").ok();
    for (s, m) in settings.iter().enumerate() {
        let finals = m.values("modes_covered");
        let cnt: Vec<String> = (0..=k)
            .map(|i| {
                finals
                    .iter()
                    .filter(|v| **v == i as f64)
                    .count()
                    .to_string()
            })
            .collect();
        writeln!(
            report,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            ctx.label(s),
            describe(&ctx.r.configs[s]),
            m.ci("modes_covered").show(2),
            cnt.join(" / "),
            m.ci("high_quality").show(3),
            m.ci("energy_distance").show(4),
            m.ci("nearest_mode_distance").show(3),
            m.runs.iter().filter(|r| !r.completed).count()
        )
        .ok();
    }
    writeln!(report).ok();
    comparison(ctx, &settings, report)?;
    curves(ctx, &settings, report)?;
    for s in 0..ns {
        writeln!(report, "### {}\n", ctx.label(s)).ok();
        frames_report(ctx, report, s)?;
        if ctx.r.configs[s].model == Model::Gan {
            losses_figure(ctx, report, s)?;
        }
    }
    Ok(())
}

/// The paired comparison with the baseline: `comparison.csv` and the report's table
/// and verdict list.
fn comparison(ctx: &Ctx<'_>, settings: &[SettingRuns], report: &mut String) -> Result<()> {
    writeln!(report, "Against the baseline **{}** (setting − baseline, paired over the seeds; mean ± 95 % CI; *better*/*worse* when the interval excludes 0):\n", ctx.label(0)).ok();
    writeln!(
        report,
        "| setting | Δ modes covered | Δ high-quality fraction | Δ energy distance | verdict |"
    )
    .ok();
    writeln!(report, "|---|---|---|---|---|").ok();
    let judged: Vec<(&str, Better)> = JUDGED.iter().map(|j| (j.0, j.2)).collect();
    let rows = paired_comparison(ctx, &|s, col| settings[s].values(col), &judged, &|col| {
        if col == "energy_distance" { 4 } else { 2 }
    })?;
    let mut verdicts = Vec::new();
    for (s, (cells, changes)) in rows.into_iter().enumerate() {
        let s = s + 1;
        let v = verdict(&changes);
        writeln!(
            report,
            "| {} | {} | **{v}** |",
            ctx.label(s),
            cells.join(" | ")
        )
        .ok();
        verdicts.push((ctx.label(s).to_string(), v, changes));
    }
    writeln!(report).ok();
    writeln!(report, "Which remedies help on this problem (against the baseline, at the 95 % level over these seeds):\n").ok();
    for (label, v, changes) in &verdicts {
        let which = |want: Change| {
            JUDGED
                .iter()
                .zip(changes)
                .filter(|(_, c)| **c == want)
                .map(|(j, _)| j.1)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut detail = Vec::new();
        let (b, w) = (which(Change::Better), which(Change::Worse));
        if !b.is_empty() {
            detail.push(format!("better {b}"));
        }
        if !w.is_empty() {
            detail.push(format!("worse {w}"));
        }
        writeln!(
            report,
            "- {label}: **{v}**{}",
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", detail.join("; "))
            }
        )
        .ok();
    }
    writeln!(
        report,
        "\nData: `{}`.\n",
        ctx.rel_data(&ctx.data.join("comparison.csv"))
    )
    .ok();
    Ok(())
}

/// Modes covered and energy distance over training, mean over the seeds.
fn curves(ctx: &Ctx<'_>, settings: &[SettingRuns], report: &mut String) -> Result<()> {
    ctx.make_fig_dir()?;
    let b = &ctx.r.block;
    let k = settings.first().map_or(0, |s| s.modes);
    let series = |col: usize| -> Vec<Series> {
        settings
            .iter()
            .enumerate()
            .map(|(s, m)| Series {
                label: ctx.label(s).to_string(),
                points: m.mean_curve(col),
            })
            .collect()
    };
    let stem = ctx.figs.join("coverage_vs_step");
    plot::line_plot(
        &stem,
        &LinePlot {
            title: format!("{}: modes covered, mean over {} seeds", b.name, b.seeds),
            x_label: "training step".into(),
            y_label: format!("modes covered (of {k})"),
            series: series(1),
            ..Default::default()
        },
    )?;
    fig_line(report, ctx, "modes covered over training", &stem);
    let stem = ctx.figs.join("energy_vs_step");
    plot::line_plot(
        &stem,
        &LinePlot {
            title: format!(
                "{}: energy distance to the target, mean over {} seeds",
                b.name, b.seeds
            ),
            x_label: "training step".into(),
            y_label: "energy distance (log scale)".into(),
            log_y: true,
            series: series(2),
            ..Default::default()
        },
    )?;
    fig_line(report, ctx, "energy distance over training", &stem);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(mean: f64, half: f64) -> MeanCi {
        MeanCi {
            mean,
            half,
            n: 10,
            support: Support::REAL,
        }
    }

    #[test]
    fn a_change_needs_the_paired_interval_to_exclude_zero() {
        assert_eq!(change(&ci(0.5, 0.4), Better::Higher), Change::Better);
        assert_eq!(change(&ci(0.5, 0.6), Better::Higher), Change::Same);
        assert_eq!(change(&ci(-0.5, 0.4), Better::Higher), Change::Worse);
        assert_eq!(change(&ci(-0.5, 0.4), Better::Lower), Change::Better);
        assert_eq!(change(&ci(0.5, 0.4), Better::Lower), Change::Worse);
        // Every seed gave the same difference: a zero-width interval.
        assert_eq!(change(&ci(1.0, 0.0), Better::Higher), Change::Better);
        assert_eq!(change(&ci(0.0, 0.0), Better::Higher), Change::Same);
        assert_eq!(change(&ci(f64::NAN, 0.1), Better::Higher), Change::Same);
        let one = MeanCi {
            n: 1,
            ..ci(1.0, 0.0)
        };
        assert_eq!(change(&one, Better::Higher), Change::Same);
        assert_eq!(verdict(&[Change::Better, Change::Same]), "helps");
        assert_eq!(verdict(&[Change::Worse, Change::Same]), "hurts");
        assert_eq!(verdict(&[Change::Worse, Change::Better]), "mixed");
        assert_eq!(verdict(&[Change::Same; 3]), "no detectable effect");
    }

    #[test]
    fn nearest_mode_distance_and_the_targets_own_value() {
        let modes = Modes {
            means: vec![vec![-1.0, 0.0], vec![1.0, 0.0]],
            stds: vec![0.0, 0.0],
            radii: vec![0.1, 0.1],
            weights: vec![0.5, 0.5],
        };
        // Midpoint: 1 from both; on a point: 0; (1, 0.5): 0.5.
        let d = nearest_mode_distance(&[(0.0, 0.0), (-1.0, 0.0), (1.0, 0.5)], &modes);
        assert!((d - 0.5).abs() < 1e-15);
        assert!(nearest_mode_distance(&[], &modes).is_nan());
        assert_eq!(target_mode_distance(&modes), 0.0);
        let ring = Modes {
            stds: vec![0.05; 2],
            ..modes
        };
        let want = 0.05 * (std::f64::consts::PI / 2.0).sqrt();
        assert!((target_mode_distance(&ring) - want).abs() < 1e-15);
    }
}
