//! The runs of a study's neural blocks: planning them (one per block, setting and seed),
//! executing them in parallel, and checking before a merge that every run is on disk
//! and was made with the current configuration. A run writes only into its own folder
//! and finishes with `done.json`, which is what makes shards mergeable.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::one_mode::{self, OneModeJob};
use super::{Analysis, Resolved, training};
use crate::error::{Error, Result};
use crate::export::{self, slug};
use crate::gan::ValidConfig;

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
    pub config: ValidConfig,
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
    OneMode(OneModeJob),
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
            let config = r.configs[si].with_seed(seed);
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
    // The marker goes first, then everything an earlier run left in the folder.
    crate::output::remove_marker(&spec.dir.join("done.json"))?;
    crate::output::clear_folder(&spec.dir, &|_| false)?;
    let t0 = std::time::Instant::now();
    match &spec.job {
        Job::Train { frames, trace } => training::execute_train(spec, frames, *trace)?,
        Job::OneMode(j) => one_mode::execute(spec, j)?,
    }
    // An interrupted run leaves its files but no marker, so no merge can take it.
    crate::interrupt::check(&format!(
        "run {} stopped; it has no done.json",
        spec.dir.display()
    ))?;
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
    let shown = crate::progress::Progress::new("study", runs.len() as u64, "runs");
    order
        .par_iter()
        .map(|r| {
            let done = execute(r);
            shown.inc(1);
            done
        })
        .collect::<Result<Vec<()>>>()?;
    shown.finish();
    Ok(())
}

/// Relative compute cost of a run: training steps × (D + G updates per step) × batch
/// size, doubled with a gradient penalty (double backprop); one-mode runs use their
/// own step counts ([`super::budget`] converts it into seconds by timing a shortened
/// run). Also the longest-first key of [`execute_all`].
#[must_use]
pub fn cost(r: &RunSpec) -> usize {
    let c = &r.config;
    let (k_g, k_d) = c.schedule.updates_per_step();
    let k = k_d + k_g;
    let mut w = c.steps * k * c.batch_size;
    if c.penalty.is_active() {
        w *= 2;
    }
    if let Some(u) = &c.unroll {
        // Each G update adds k forward and backward passes of D on 2B rows, and with
        // backprop k tangent passes (about twice a primal pass each).
        let per_step = if u.backprop { 3 } else { 1 };
        w += c.steps * k_g * c.batch_size * u.steps * per_step;
    }
    if let Job::OneMode(j) = &r.job {
        w = j.cost();
    }
    w
}
