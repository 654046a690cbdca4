//! Neural-training study blocks: `[[neural]]` in a study file, settings × seeds of the
//! seeded neural-GAN trainer ([`crate::gan::trainer`]), aggregated into tidy CSV,
//! figures with 95 % t-intervals over seeds, and a report section that checks the
//! seed documents' claims.
//!
//! # A block
//! ```toml
//! [[neural]]
//! name = "latent"            # folder under data/<study>/ and figures/<study>/
//! analysis = "mixture1d"     # mixture1d | ring | two_points | four_points | circle | one_mode | stabilisers | mixtures
//! seeds = 10                 # seeds per setting (quick: quick_seeds, default 2)
//! steps = 4000               # training steps (quick: quick_steps, default 300)
//! base = { batch_size = 128 } # TrainConfig keys shared by every setting
//! [[neural.settings]]
//! label = "latent 1"
//! set = { latent = { kind = "gaussian", dim = 1 } }   # deep-merged over `base`
//! ```
//! `seed`, `steps` and `log_every` of the trainer are set by the block. Each setting
//! is validated as a full [`TrainConfig`] when the study is loaded.
//!
//! # Runs, seeds, shards
//! A *run* is one (block, setting, seed index k). Its seed is
//! `derive_seed(study seed, k)`: every setting of a block sees the same seeds (common
//! random numbers, so setting comparisons are paired). Runs write only into their own
//! folder `data/<study>/<block>/runs/<setting>/seed<k>/` and finish by writing
//! `done.json`; the aggregation (summary CSV, statistics, figures, report) reads only
//! those folders. So an unsharded study = all runs + aggregation; `--shard I/N` = a
//! contiguous slice of the study's run list (no aggregation); `--merge` = the
//! aggregation over the runs on disk, failing with the list of missing or stale runs.
//! The merged outputs are byte-identical to an unsharded run's.
//!
//! # Modules
//! Running: `runs` (planning, executing and checking the runs), `training` (a training
//! run and its probes) and `one_mode` (the one-mode experiment's own runs). Reading
//! back: [`outputs`]. Statistics: [`stats`]. One module per analysis, each computing
//! per-run and per-setting summaries from the runs' files and then rendering them:
//! `mixture1d`, `ring`, `two_points`, `four_points`, `circle`, `one_mode`,
//! `stabilisers`, [`mixtures`]; the
//! point-set analyses share `hops` (the dominant point). Shared rendering: `render`
//! (paths, links, tables, report header, timing) and `frames` (D-surface animations).

pub mod budget;
mod circle;
mod four_points;
mod frames;
mod hops;
mod mixture1d;
pub mod mixtures;
mod one_mode;
pub mod outputs;
mod render;
mod ring;
mod runs;
mod spectra;
pub mod stabilisers;
pub mod stats;
mod training;
mod two_points;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::export::slug;
use crate::gan::{TrainConfig, ValidConfig};

pub use one_mode::{OneModeJob, OneModeSpec};
pub use outputs::{column, read_csv};
pub use runs::{Job, RunSpec, check_done, cost, execute, execute_all, frame_steps, plan};

/// What a block measures (selects the per-run records and the aggregation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Analysis {
    /// 1-D mixture (seed 000): W1, mode coverage, oscillation of D(real) − D(fake).
    Mixture1d,
    /// 2-D ring (seed 001): modes covered over time and at the end, D-surface frames.
    Ring,
    /// Seed 002 two points: when does the mass split 0.5 ± 0.1.
    TwoPoints,
    /// Seed 002 four points: convergence or a periodic chase between points.
    FourPoints,
    /// Seed 002 unit circle: uniformity of the angles.
    Circle,
    /// Seed 001 "Is a one mode generator stable?" (see [`OneModeSpec`]).
    OneMode,
    /// Seeds 002–003: a baseline against remedies for mode collapse and the VAE on a
    /// 2-D target with modes ([`stabilisers`]).
    Stabilisers,
    /// PacGAN's mode-collapse benchmark on the 8-mode ring and 25-mode grid, with Table 1
    /// of Lin et al. 2018 beside ours ([`mixtures`]).
    Mixtures,
    /// Issue 10: spectra of the game Jacobian along training ([`spectra`]; 1-D or 2-D).
    Spectra,
}

/// A claim of the seed documents, checked in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Claim {
    /// The settings, in this order, have increasing final W1 (best first). Checked with
    /// paired 95 % t-intervals of consecutive differences.
    Ordering {
        /// The claim as the seed states it.
        text: String,
        /// Setting labels, best first.
        order: Vec<String>,
    },
    /// The ranking of the settings by mean W1 at `early_fraction` of training equals
    /// the ranking at the end.
    Early {
        /// The claim.
        text: String,
    },
    /// Relative rates matter more than absolute ones: swapping the ratio (`swap`, two
    /// labels) changes final W1 more than scaling both rates (`scale`, two labels).
    Relative {
        /// The claim.
        text: String,
        /// Two settings with the G/D ratio swapped.
        swap: [String; 2],
        /// Two settings with the same ratio, different absolute rates.
        scale: [String; 2],
    },
}

/// One setting of a block: a label and TrainConfig overrides.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// Label in tables, legends and file names.
    pub label: String,
    /// TrainConfig keys, deep-merged over the block's `base`.
    #[serde(default)]
    pub set: toml::Table,
    /// What the seed document reports for this setting (quoted in the report).
    #[serde(default)]
    pub expect: String,
    /// Modes the seed document says this setting covers at the end (ring analysis),
    /// e.g. [1, 2]; the report counts the seeds inside this set.
    #[serde(default)]
    pub expect_modes: Vec<usize>,
}

/// A `[[neural]]` block.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuralBlock {
    /// Block name (folder under data/<study>/ and figures/<study>/).
    pub name: String,
    /// What is measured.
    pub analysis: Analysis,
    /// Seeds per setting.
    pub seeds: usize,
    /// Training steps per run.
    pub steps: usize,
    /// Seeds in `--quick` mode.
    #[serde(default = "two")]
    pub quick_seeds: usize,
    /// Steps in `--quick` mode.
    #[serde(default = "three_hundred")]
    pub quick_steps: usize,
    /// Log every this many steps (default: steps / 200, at least 1).
    #[serde(default)]
    pub log_every: Option<usize>,
    /// TrainConfig keys shared by every setting.
    #[serde(default)]
    pub base: toml::Table,
    /// The settings.
    #[serde(default)]
    pub settings: Vec<Setting>,
    /// D-surface frames recorded for the first seed of each setting (2-D data).
    #[serde(default)]
    pub frames: usize,
    /// Fraction of training that counts as "early" (default 0.1).
    #[serde(default = "tenth")]
    pub early_fraction: f64,
    /// Claims to check (mixture1d).
    #[serde(default)]
    pub claims: Vec<Claim>,
    /// The one-mode experiment (analysis = "one_mode").
    #[serde(default)]
    pub one_mode: Option<OneModeSpec>,
    /// Free text added to the report section (the protocol, deviations from the seed).
    #[serde(default)]
    pub notes: String,
}

/// Evaluation samples per log step in `--quick` mode.
pub const QUICK_EVAL_SAMPLES: usize = 400;
/// D-surface frames in `--quick` mode (rendering dominates a quick run otherwise).
pub const QUICK_FRAMES: usize = 4;

fn two() -> usize {
    2
}
fn three_hundred() -> usize {
    300
}
fn tenth() -> f64 {
    0.1
}

/// A block after validation: the resolved config of every setting.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The block (with quick-mode seeds and steps applied).
    pub block: NeuralBlock,
    /// One config per setting (seed 0).
    pub configs: Vec<ValidConfig>,
}

fn merge_into(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_into(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Log interval of a block.
#[must_use]
pub fn log_every(b: &NeuralBlock) -> usize {
    b.log_every
        .unwrap_or(b.steps / 200)
        .clamp(1, b.steps.max(1))
}

/// Validates a block (stage two of the study parsing), applying `--quick`.
///
/// # Errors
/// [`Error::Config`] naming the file, the block key and the reason.
pub fn resolve(path: &Path, index: usize, block: &NeuralBlock, quick: bool) -> Result<Resolved> {
    let at = format!("neural[{index}] ({})", block.name);
    let mut b = block.clone();
    if b.name.is_empty() || b.name.contains(['/', '\\']) || b.name.starts_with('.') {
        return Err(Error::config(
            path,
            format!("{at}.name: not a plain folder name"),
        ));
    }
    if b.seeds == 0 || b.steps == 0 || b.quick_seeds == 0 || b.quick_steps == 0 {
        return Err(Error::config(
            path,
            format!("{at}: seeds, steps, quick_seeds and quick_steps must be at least 1"),
        ));
    }
    if !(b.early_fraction > 0.0 && b.early_fraction < 1.0) {
        return Err(Error::config(
            path,
            format!("{at}.early_fraction: must be in (0, 1)"),
        ));
    }
    if quick {
        if b.quick_steps < b.steps
            && let Some(l) = b.log_every
        {
            // Scale the log interval with the steps, but keep at most ~100 log rows.
            b.log_every = Some(
                (l * b.quick_steps / b.steps)
                    .max(b.quick_steps / 100)
                    .max(1),
            );
        }
        b.seeds = b.seeds.min(b.quick_seeds);
        b.steps = b.steps.min(b.quick_steps);
        b.frames = b.frames.min(QUICK_FRAMES);
        if let Some(o) = &mut b.one_mode {
            o.quick();
        }
    }
    let mut labels = std::collections::BTreeSet::new();
    for s in &b.settings {
        if !labels.insert(slug(&s.label)) {
            return Err(Error::config(
                path,
                format!("{at}.settings: label `{}` is used twice", s.label),
            ));
        }
    }
    if b.analysis == Analysis::OneMode {
        let spec = b.one_mode.as_ref().ok_or_else(|| {
            Error::config(
                path,
                format!("{at}: analysis one_mode needs [neural.one_mode]"),
            )
        })?;
        spec.validate()
            .map_err(|e| Error::config(path, format!("{at}.one_mode: {e}")))?;
    } else if b.settings.is_empty() {
        return Err(Error::config(
            path,
            format!("{at}.settings: need at least one setting"),
        ));
    }
    let sets: Vec<toml::Table> = if b.analysis == Analysis::OneMode {
        vec![toml::Table::new()]
    } else {
        b.settings.iter().map(|s| s.set.clone()).collect()
    };
    let mut configs = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        let mut t = b.base.clone();
        merge_into(&mut t, set);
        if let Some(why) = crate::unread_keys::first_unread::<TrainConfig>(&t) {
            return Err(Error::config(path, format!("{at}.settings[{i}]: {why}")));
        }
        let mut cfg: TrainConfig = t.try_into().map_err(|e: toml::de::Error| {
            Error::config(path, format!("{at}.settings[{i}]: {}", e.message()))
        })?;
        cfg.steps = b.steps;
        cfg.log_every = log_every(&b);
        if quick {
            cfg.eval_samples = cfg.eval_samples.min(QUICK_EVAL_SAMPLES);
        }
        let cfg = cfg
            .validated()
            .map_err(|e| Error::config(path, format!("{at}.settings[{i}]: {e}")))?;
        let dim = cfg.data().dim();
        let want = match b.analysis {
            Analysis::Mixture1d => 1,
            Analysis::Spectra => dim,
            _ => 2,
        };
        if dim != want {
            return Err(Error::config(
                path,
                format!(
                    "{at}.settings[{i}]: analysis {:?} needs {want}-D data, the data set is {dim}-D",
                    b.analysis
                ),
            ));
        }
        if matches!(b.analysis, Analysis::Stabilisers | Analysis::Mixtures)
            && cfg.data().modes().is_none()
        {
            return Err(Error::config(
                path,
                format!(
                    "{at}.settings[{i}].dataset: analysis {:?} needs a target with modes (a ring, a grid or a point set)",
                    b.analysis
                ),
            ));
        }
        configs.push(cfg);
    }
    for c in &b.claims {
        let names: Vec<&String> = match c {
            Claim::Ordering { order, .. } => order.iter().collect(),
            Claim::Early { .. } => vec![],
            Claim::Relative { swap, scale, .. } => swap.iter().chain(scale.iter()).collect(),
        };
        for n in names {
            if !b.settings.iter().any(|s| &s.label == n) {
                return Err(Error::config(
                    path,
                    format!("{at}.claims: no setting labelled `{n}`"),
                ));
            }
        }
    }
    if let (Analysis::OneMode, Some(spec)) = (b.analysis, &b.one_mode) {
        let extra = one_mode::weighted_configs(&configs[0], spec)
            .map_err(|e| Error::config(path, format!("{at}.one_mode.weights: {e}")))?;
        configs.extend(extra);
    }
    Ok(Resolved { block: b, configs })
}

/// Aggregates one block from its runs on disk, appending to the report.
///
/// # Errors
/// File errors.
pub fn aggregate(
    study: &Path,
    r: &Resolved,
    runs: &[RunSpec],
    data: &Path,
    figs: &Path,
    report: &mut String,
) -> Result<()> {
    let _ = study;
    let ctx = render::Ctx {
        r,
        runs,
        data: data.join(&r.block.name),
        figs: figs.join(&r.block.name),
        fig_root: figs.to_path_buf(),
    };
    let analysis = r.block.analysis;
    if analysis != Analysis::OneMode {
        render::block_header(&ctx, report);
    }
    match analysis {
        Analysis::Mixture1d => mixture1d::aggregate(&ctx, report)?,
        Analysis::Ring => ring::aggregate(&ctx, report)?,
        Analysis::TwoPoints => two_points::aggregate(&ctx, report)?,
        Analysis::FourPoints => four_points::aggregate(&ctx, report)?,
        Analysis::Circle => circle::aggregate(&ctx, report)?,
        Analysis::OneMode => one_mode::aggregate(&ctx, report)?,
        Analysis::Stabilisers => stabilisers::aggregate(&ctx, report)?,
        Analysis::Mixtures => mixtures::aggregate(&ctx, report)?,
        Analysis::Spectra => spectra::aggregate(&ctx, report)?,
    }
    render::timing_lines(r, runs, report);
    Ok(())
}

/// Number of modes of a configuration's data set (0 if it has none or is invalid).
fn mode_count(c: &TrainConfig) -> usize {
    c.dataset
        .build()
        .ok()
        .and_then(|d| d.modes())
        .map_or(0, |m| m.means.len())
}
