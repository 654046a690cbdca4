//! Shared rendering of a block's aggregation: where its tables and figures go
//! ([`Ctx`]), the report's block header and figure links, the per-setting statistics
//! table (`stats.csv`), and the figures several analyses draw (losses, mass per point).
//! The per-analysis modules compute their summaries first and call these to render.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::stats::MeanCi;
use super::{Job, OneModeJob, Resolved, RunSpec};
use crate::dynamics::Optimizer;
use crate::error::{Error, Result};
use crate::export::{Table, num, slug};
use crate::gan::TrainConfig;
use crate::plot::{self, LinePlot, Series};

use super::outputs::RunLog;

/// What the aggregation of a block needs: the block, its runs and its output folders.
pub struct Ctx<'a> {
    /// The resolved block.
    pub r: &'a Resolved,
    /// Its runs.
    pub runs: &'a [RunSpec],
    /// data/<study>/<block>/
    pub data: PathBuf,
    /// figures/<study>/<block>/
    pub figs: PathBuf,
    /// figures/<study>/ (for report links)
    pub fig_root: PathBuf,
}

impl Ctx<'_> {
    /// The trainer seeds of the block, one per seed index (shared by every setting).
    #[must_use]
    pub fn seed_list(&self) -> String {
        let seeds: Vec<String> = self
            .runs
            .iter()
            .filter(|r| r.setting == 0)
            .map(|r| r.seed.to_string())
            .collect();
        seeds.join(", ")
    }
    /// The report link of a figure file (the report sits in data/<study>/).
    #[must_use]
    pub fn link(&self, f: &Path) -> String {
        let study = self
            .fig_root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let inner = f.strip_prefix(&self.fig_root).unwrap_or(f);
        format!("../../figures/{study}/{}", inner.to_string_lossy())
    }
    /// The runs of setting `setting`, in seed order.
    #[must_use]
    pub fn runs_of(&self, setting: usize) -> Vec<&RunSpec> {
        self.runs.iter().filter(|r| r.setting == setting).collect()
    }
    /// A data path relative to data/<study>/ (as the report sits there).
    #[must_use]
    pub fn rel_data(&self, p: &Path) -> String {
        p.strip_prefix(self.data.parent().unwrap_or(&self.data))
            .unwrap_or(p)
            .display()
            .to_string()
    }
    /// The label of setting `s`.
    #[must_use]
    pub fn label(&self, s: usize) -> &str {
        &self.r.block.settings[s].label
    }
    /// `figures/<study>/<block>/<slug of the label of s>_<suffix>` (no extension).
    #[must_use]
    pub fn setting_stem(&self, s: usize, suffix: &str) -> PathBuf {
        self.figs.join(format!("{}_{suffix}", slug(self.label(s))))
    }
    /// Creates the block's figure folder.
    ///
    /// # Errors
    /// [`Error::File`] if it cannot be created.
    pub fn make_fig_dir(&self) -> Result<()> {
        std::fs::create_dir_all(&self.figs).map_err(|e| Error::file(&self.figs, e))
    }
}

/// The report's opening of a training block: title, notes, seeds, how to read the
/// intervals.
pub fn block_header(ctx: &Ctx<'_>, report: &mut String) {
    let b = &ctx.r.block;
    writeln!(
        report,
        "## {} ({} settings × {} seeds, {} steps each)\n",
        b.name,
        b.settings.len(),
        b.seeds,
        b.steps
    )
    .ok();
    if !b.notes.trim().is_empty() {
        writeln!(report, "{}\n", b.notes.trim()).ok();
    }
    writeln!(report, "Seeds (trainer seed of seed index k = derive_seed(study seed, k), shared by all settings): {}. Intervals are two-sided 95 % Student-t intervals of the mean over seeds (mean ± half-width). {INTERVAL_CUT_NOTE}\n", ctx.seed_list()).ok();
}

/// How the reports mark an interval cut to its metric's range (see
/// [`super::stats::MeanCi::within`]).
pub const INTERVAL_CUT_NOTE: &str = "Where that interval would leave the range the metric can take (below 0 for W1, a count or a step; outside [0, 1] for a fraction), it is cut at the boundary and shown as mean [lower, upper] instead; the cut does not change the coverage, as the true mean lies in that range (stats.csv holds the cut ends in ci95_lo and ci95_hi, the uncut half-width in ci95_half).";

/// A figure line of the report: `![caption](link to stem.png)`.
pub fn fig_line(report: &mut String, ctx: &Ctx<'_>, caption: &str, stem: &Path) {
    writeln!(
        report,
        "![{caption}]({})\n",
        ctx.link(&stem.with_extension("png"))
    )
    .ok();
}

/// One row of `stats.csv`: a metric of a setting over its seeds.
pub struct StatRow {
    /// Setting label.
    pub setting: String,
    /// Metric name (a column of `summary.csv`).
    pub metric: String,
    /// Mean and interval.
    pub ci: MeanCi,
}

impl StatRow {
    /// A row.
    #[must_use]
    pub fn new(setting: &str, metric: &str, ci: MeanCi) -> StatRow {
        StatRow {
            setting: setting.to_string(),
            metric: metric.to_string(),
            ci,
        }
    }
}

/// The `stats.csv` table: one row per (setting, metric) with mean and 95 % t-interval.
#[must_use]
pub fn stats_table(rows: &[StatRow]) -> Table {
    let mut t = Table::new([
        "setting",
        "metric",
        "n",
        "mean",
        "ci95_half",
        "ci95_lo",
        "ci95_hi",
    ]);
    for r in rows {
        let c = &r.ci;
        t.push(vec![
            r.setting.clone(),
            r.metric.clone(),
            c.n.to_string(),
            num(c.mean),
            num(c.half),
            num(c.lo()),
            num(c.hi()),
        ]);
    }
    t
}

/// Writes a block's `summary.csv` (one row per run) and `stats.csv`, returning their
/// paths.
///
/// # Errors
/// File errors.
pub fn write_tables(ctx: &Ctx<'_>, summary: &Table, stats: &[StatRow]) -> Result<[PathBuf; 2]> {
    let paths = [ctx.data.join("summary.csv"), ctx.data.join("stats.csv")];
    summary.write(&paths[0])?;
    stats_table(stats).write(&paths[1])?;
    Ok(paths)
}

/// `Data: `summary.csv`, `stats.csv`.` (paths relative to the report).
pub fn data_line(report: &mut String, ctx: &Ctx<'_>, paths: &[PathBuf; 2]) {
    writeln!(
        report,
        "Data: `{}`, `{}`.\n",
        ctx.rel_data(&paths[0]),
        ctx.rel_data(&paths[1])
    )
    .ok();
}

/// The per-setting tail of a 2-D point-set block: for each setting its figure
/// `<label>_<suffix>.png` (captioned `<label>: <caption>`) and its D-surface frames.
///
/// # Errors
/// File and plotting errors of the frames.
pub fn setting_figures(
    ctx: &Ctx<'_>,
    report: &mut String,
    suffix: &str,
    caption: &str,
) -> Result<()> {
    for s in 0..ctx.r.block.settings.len() {
        let stem = ctx.setting_stem(s, suffix);
        fig_line(report, ctx, &format!("{}: {caption}", ctx.label(s)), &stem);
        super::frames::frames_report(ctx, report, s)?;
    }
    Ok(())
}

/// The learning rate of an optimiser.
#[must_use]
pub fn lr_of(o: &Optimizer) -> f64 {
    o.lr()
}

/// A setting's configuration in one line of a report table.
#[must_use]
pub fn setting_desc(c: &TrainConfig) -> String {
    format!(
        "latent {}-D, lr_G {}, lr_D {}, batch {}, {} steps",
        c.latent.dim,
        lr_of(&c.optimizer_g),
        lr_of(&c.optimizer_d),
        c.batch_size,
        c.steps
    )
}

/// A line plot of per-point mass fractions over training, with reference lines at
/// `band`.
///
/// # Errors
/// File errors.
pub fn mass_figure(
    stem: &Path,
    title: &str,
    y_label: &str,
    series: Vec<Series>,
    band: &[f64],
) -> Result<()> {
    plot::line_plot(
        stem,
        &LinePlot {
            title: title.into(),
            x_label: "training step".into(),
            y_label: y_label.into(),
            series,
            hlines: band.iter().map(|v| (*v, format!("{v}"))).collect(),
            ..Default::default()
        },
    )
}

/// The losses of setting `s`'s first seed over training (plus the InfoGAN term when
/// the run has one), with its report line.
///
/// # Errors
/// File and plotting errors.
pub fn losses_figure(ctx: &Ctx<'_>, report: &mut String, s: usize) -> Result<()> {
    let label = ctx.label(s);
    let rs = ctx.runs_of(s);
    let Some(r0) = rs.first() else { return Ok(()) };
    let d0 = RunLog::load(r0)?;
    let st = d0.col("step");
    let mk = |name: &str, lab: &str| Series {
        label: lab.into(),
        points: st.iter().copied().zip(d0.col(name)).collect(),
    };
    let mut series = vec![mk("loss_d", "D loss"), mk("loss_g", "G loss")];
    if r0.config.infogan.is_some() {
        series.push(mk("info_loss", "InfoGAN cross-entropy"));
    }
    let stem = ctx.setting_stem(s, "losses");
    plot::line_plot(
        &stem,
        &LinePlot {
            title: format!("{label}: losses (seed index 0)"),
            x_label: "training step".into(),
            y_label: "loss".into(),
            series,
            ..Default::default()
        },
    )?;
    fig_line(report, ctx, &format!("{label}: losses"), &stem);
    Ok(())
}

/// Mean wall time per run of each setting, from the runs' `timing.json`.
pub fn timing_lines(r: &Resolved, runs: &[RunSpec], report: &mut String) {
    let mut by: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for run in runs {
        let secs = std::fs::read_to_string(run.dir.join("timing.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v["seconds"].as_f64());
        if let Some(s) = secs {
            by.entry(run.setting).or_default().push(s);
        }
    }
    let label = |i: usize| {
        if let Some(s) = r.block.settings.get(i) {
            return s.label.clone();
        }
        match runs.iter().find(|run| run.setting == i).map(|run| &run.job) {
            Some(Job::OneMode(OneModeJob::Freeze { weights, .. })) => {
                format!("frozen G, w = {weights:.2?}")
            }
            Some(Job::OneMode(OneModeJob::Release { lr, .. })) => {
                format!("release at lr {lr}")
            }
            _ => format!("part {i}"),
        }
    };
    let parts: Vec<String> = by
        .iter()
        .map(|(i, v)| {
            format!(
                "{} {:.1} s",
                label(*i),
                v.iter().sum::<f64>() / v.len() as f64
            )
        })
        .collect();
    let total: f64 = by.values().flatten().sum();
    writeln!(
        report,
        "Compute: {:.0} s summed over {} runs (single-threaded each); mean per run: {}.\n",
        total,
        runs.len(),
        parts.join("; ")
    )
    .ok();
}
