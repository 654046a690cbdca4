//! Neural-training study blocks: `[[neural]]` in a study file, settings × seeds of the
//! seeded neural-GAN trainer ([`crate::gan::trainer`]), aggregated into tidy CSV,
//! figures with 95 % t-intervals over seeds, and a report section that checks the
//! seed documents' claims.
//!
//! # A block
//! ```toml
//! [[neural]]
//! name = "latent"            # folder under data/<study>/ and figures/<study>/
//! analysis = "mixture1d"     # mixture1d | ring | two_points | four_points | circle | one_mode
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

mod analyses;
pub mod budget;
mod one_mode;
pub mod stats;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::export::{self, slug};
use crate::gan::trainer::TrainConfig;

pub use one_mode::OneModeSpec;

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

/// How a study is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// All runs, then the aggregation.
    Full,
    /// Only runs in shard i of n (0-based); no aggregation.
    Shard(usize, usize),
    /// Only the aggregation, over runs on disk.
    Merge,
}

/// One planned run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Index of the block in the study.
    pub block: usize,
    /// Setting index (for one_mode: the experiment's own index).
    pub setting: usize,
    /// Seed index k.
    pub seed_index: usize,
    /// The trainer seed.
    pub seed: u64,
    /// The run folder.
    pub dir: PathBuf,
    /// The resolved trainer configuration.
    pub config: TrainConfig,
    /// What else the run does.
    pub job: Job,
}

/// The work of a run beyond plain training.
#[derive(Debug, Clone)]
pub enum Job {
    /// Train, with D-surface frames at these steps (empty: none) and, for 1-D data,
    /// a per-log-step trace of the generator's sample mean and spread.
    Train {
        /// Frame steps.
        frames: Vec<usize>,
        /// Whether to trace 1-D sample statistics.
        trace: bool,
    },
    /// A one-mode experiment run.
    OneMode(one_mode::OneModeJob),
}

/// A block after validation: the resolved config of every setting.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The block (with quick-mode seeds and steps applied).
    pub block: NeuralBlock,
    /// One config per setting (seed 0).
    pub configs: Vec<TrainConfig>,
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
        let mut cfg: TrainConfig = t.try_into().map_err(|e: toml::de::Error| {
            Error::config(path, format!("{at}.settings[{i}]: {}", e.message()))
        })?;
        cfg.steps = b.steps;
        cfg.log_every = log_every(&b);
        if quick {
            cfg.eval_samples = cfg.eval_samples.min(QUICK_EVAL_SAMPLES);
        }
        cfg.validate()
            .map_err(|e| Error::config(path, format!("{at}.settings[{i}]: {e}")))?;
        let dim = cfg.dataset.build().map(|d| d.dim()).unwrap_or(0);
        let want = match b.analysis {
            Analysis::Mixture1d => 1,
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
    Ok(Resolved { block: b, configs })
}

/// The runs of a block, in a fixed order (setting-major, then seed).
#[must_use]
pub fn plan(block_index: usize, r: &Resolved, study_seed: u64, data: &Path) -> Vec<RunSpec> {
    let b = &r.block;
    let bdir = data.join(&b.name).join("runs");
    if b.analysis == Analysis::OneMode {
        return one_mode::plan(block_index, r, study_seed, &bdir);
    }
    let mut runs = Vec::new();
    for (si, s) in b.settings.iter().enumerate() {
        for k in 0..b.seeds {
            let seed = crate::linalg::derive_seed(study_seed, k as u64);
            let mut config = r.configs[si].clone();
            config.seed = seed;
            let frames = if k == 0 && b.frames > 0 {
                frame_steps(b.steps, b.frames)
            } else {
                vec![]
            };
            runs.push(RunSpec {
                block: block_index,
                setting: si,
                seed_index: k,
                seed,
                dir: bdir.join(slug(&s.label)).join(format!("seed{k:03}")),
                config,
                job: Job::Train {
                    frames,
                    trace: b.analysis == Analysis::Mixture1d,
                },
            });
        }
    }
    runs
}

/// `n` frame steps from 0 to `steps`, denser early (quadratic spacing: the early
/// transient is where most of the motion is), deduplicated.
#[must_use]
pub fn frame_steps(steps: usize, n: usize) -> Vec<usize> {
    if n <= 1 {
        return vec![steps];
    }
    let mut v: Vec<usize> = (0..n)
        .map(|i| {
            let f = i as f64 / (n - 1) as f64;
            (f * f * steps as f64).round() as usize
        })
        .collect();
    v.dedup();
    v
}

/// The marker a finished run writes last: the resolved configuration, compared at
/// merge time so that stale runs from another configuration are refused.
fn done_bytes(spec: &RunSpec) -> Result<Vec<u8>> {
    let v = serde_json::json!({
        "config": spec.config,
        "seed": spec.seed,
        "seed_index": spec.seed_index,
        "job": match &spec.job { Job::Train { frames, trace } => serde_json::json!({"frames": frames, "trace": trace}), Job::OneMode(j) => serde_json::to_value(j).unwrap_or_default() },
    });
    let mut s = serde_json::to_string_pretty(&v).map_err(|e| Error::file(&spec.dir, e))?;
    s.push('\n');
    Ok(s.into_bytes())
}

/// Executes one run, writing its folder (and `done.json` last).
///
/// # Errors
/// Trainer and file errors.
pub fn execute(spec: &RunSpec) -> Result<()> {
    let t0 = std::time::Instant::now();
    match &spec.job {
        Job::Train { frames, trace } => analyses::execute_train(spec, frames, *trace)?,
        Job::OneMode(j) => one_mode::execute(spec, j)?,
    }
    // Wall time of the run: reported, never part of a CSV (so merged outputs stay
    // byte-identical).
    let secs = t0.elapsed().as_secs_f64();
    export::write_atomic(
        &spec.dir.join("timing.json"),
        format!("{{\"seconds\": {secs:.3}}}\n").as_bytes(),
    )?;
    export::write_atomic(&spec.dir.join("done.json"), &done_bytes(spec)?)
}

/// Checks that every run of `runs` is on disk and was made with the same configuration.
///
/// # Errors
/// [`Error::Config`] listing the missing or stale run folders.
pub fn check_done(study: &Path, runs: &[RunSpec]) -> Result<()> {
    let mut missing = Vec::new();
    let mut stale = Vec::new();
    for r in runs {
        match std::fs::read(r.dir.join("done.json")) {
            Err(_) => missing.push(r.dir.display().to_string()),
            Ok(b) => {
                if b != done_bytes(r)? {
                    stale.push(r.dir.display().to_string());
                }
            }
        }
    }
    if missing.is_empty() && stale.is_empty() {
        return Ok(());
    }
    let show = |v: &[String]| {
        let mut s = v.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        if v.len() > 5 {
            write!(s, " and {} more", v.len() - 5).ok();
        }
        s
    };
    let mut msg = String::from("cannot merge: ");
    if !missing.is_empty() {
        write!(
            msg,
            "{} of {} runs are missing ({})",
            missing.len(),
            runs.len(),
            show(&missing)
        )
        .ok();
    }
    if !stale.is_empty() {
        if !missing.is_empty() {
            msg.push_str("; ");
        }
        write!(
            msg,
            "{} runs were made with another configuration ({}); rerun their shards",
            stale.len(),
            show(&stale)
        )
        .ok();
    }
    msg.push_str(". Run every shard (`redqueen study FILE --shard I/N` for I = 0..N−1) with the same options first.");
    Err(Error::config(study, msg))
}

/// Runs `runs` in parallel (rayon; each run is sequential and seeded, so the outputs
/// do not depend on the thread count).
///
/// # Errors
/// The first failing run's error.
pub fn execute_all(runs: &[RunSpec]) -> Result<()> {
    // Longest first helps the scheduler balance uneven runs.
    let mut order: Vec<&RunSpec> = runs.iter().collect();
    order.sort_by_key(|r| std::cmp::Reverse(cost(r)));
    order
        .par_iter()
        .map(|r| execute(r))
        .collect::<Result<Vec<()>>>()?;
    Ok(())
}

/// Relative compute cost of a run: training steps × (D + G updates per step) × batch
/// size, doubled with a gradient penalty (double backprop); one-mode runs use their
/// own step counts ([`budget`] converts it into seconds by timing a shortened run).
/// Also the longest-first key of [`execute_all`].
#[must_use]
pub fn cost(r: &RunSpec) -> usize {
    let c = &r.config;
    let k = c.schedule.d_steps + c.schedule.g_steps;
    let mut w = c.steps * k * c.batch_size;
    if c.penalty.is_active() {
        w *= 2;
    }
    if let Job::OneMode(j) = &r.job {
        w = j.cost();
    }
    w
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
    let ctx = analyses::Ctx {
        r,
        runs,
        data: data.join(&r.block.name),
        figs: figs.join(&r.block.name),
        fig_root: figs.to_path_buf(),
    };
    match r.block.analysis {
        Analysis::OneMode => one_mode::aggregate(&ctx, report)?,
        _ => analyses::aggregate(&ctx, report)?,
    }
    timing_lines(r, runs, report);
    Ok(())
}

/// Mean wall time per run of each setting, from the runs' `timing.json`.
fn timing_lines(r: &Resolved, runs: &[RunSpec], report: &mut String) {
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
            Some(Job::OneMode(one_mode::OneModeJob::Freeze { weights, .. })) => {
                format!("frozen G, w = {weights:.2?}")
            }
            Some(Job::OneMode(one_mode::OneModeJob::Release { lr, .. })) => {
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

/// Reads a CSV of numbers written by the trainer or a run: (header, rows).
///
/// # Errors
/// [`Error::File`] for an unreadable or malformed file.
pub fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::file(path, e))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::file(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::file(path, e))?;
        rows.push(
            rec.iter()
                .map(|f| f.parse::<f64>().unwrap_or(f64::NAN))
                .collect(),
        );
    }
    Ok((header, rows))
}

/// A column of a table by name (NaNs if absent).
#[must_use]
pub fn column(t: &(Vec<String>, Vec<Vec<f64>>), name: &str) -> Vec<f64> {
    match t.0.iter().position(|h| h == name) {
        Some(j) => {
            t.1.iter()
                .map(|r| r.get(j).copied().unwrap_or(f64::NAN))
                .collect()
        }
        None => vec![f64::NAN; t.1.len()],
    }
}
