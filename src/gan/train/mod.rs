//! The seeded neural-GAN trainer: [`ValidConfig`] → [`train`] → [`TrainReport`] plus
//! tidy CSV files.
//!
//! # Training is the runner on a game
//! [`train`] is not a loop of its own: the configuration becomes a
//! [`NeuralGan`] (a [`crate::game::Game`]), its initial point x₀ and a
//! [`crate::dynamics::Rule`] ([`TrainConfig::rule_spec`]), and [`crate::dynamics::Run`]
//! steps it exactly as it steps a reduced game, with an observer that writes the log.
//! One step is one outer step of the rule, i.e. one generator phase together with the
//! discriminator phase that goes with it, in the order given by the `schedule`
//! ([`crate::dynamics::Scheme`]):
//! * `d_first` (gan-vis, seed 002): k_D times {draw a batch; ψ ← ψ + opt_D(−∇_ψ L_D);
//!   clip ψ_D}, then k_G times {draw z; θ ← θ + opt_G(−∇_θ L_G)} (the alternating
//!   scheme);
//! * `g_first`: the same two phases in the other order;
//! * `simultaneous`: one batch, both gradients at the same x, both players updated
//!   (the discrete map x ← x + step(v(x)) of [`crate::game`]).
//!
//! Optimisers are [`crate::optim::Chain`]s, one per player with its own state; the
//! field block u = −∇L of a player is turned into the step Δ and added. The joint
//! vector x and the optimiser state are f64; the networks run in f32 or f64
//! ([`Precision`]), rounding θ and ψ at each evaluation (f64 master weights).
//!
//! # Randomness and reproducibility
//! Three ChaCha8 streams of `seed`: stream 0 draws the training batches (the rule
//! state's stream, [`crate::dynamics::Rule::init_seeded`]), stream 1 the
//! initial parameters, stream 2 the fixed evaluation latents and the reference target
//! sample. Logging never touches stream 0, so the trajectory does not depend on
//! `log_every`. The same configuration gives byte-identical files.
//!
//! # Divergence
//! A non-finite loss or parameter ends the run with status `diverged` and the reason
//! `diverged at step k: …` (in [`TrainReport::stop_reason`], `summary.json` and the
//! last CSV row); it is an outcome, never a panic. The final samples and parameters
//! are then those of the last metrics row, the latest state known to be finite.
//!
//! # Files (when an output directory is given; each written atomically)
//! * `train_log.csv`: one row every `log_every` steps (and at the last step; the file
//!   is rewritten at most once a second during the run, and at the end), columns
//!   `step, loss_d, loss_g, d_real, d_fake, grad_norm_g, grad_norm_d, penalty,
//!   info_loss`, then for targets with modes `modes_covered, high_quality,
//!   mode_frac_<k>…` (gan-vis's coverage: a mode holding ≥ `coverage_min_fraction` of
//!   the samples within 3σ) and `modes_captured, pacgan_high_quality, reverse_kl`
//!   (PacGAN's Table 1 measures, [`crate::metrics::modes`]: a mode with one high-quality
//!   sample is captured), for 1-D targets `w1, kl, js`, for 2-D and higher
//!   `energy_distance`, then for targets with modes `d_at_mode_<k>…`;
//! * `config.json`: the resolved configuration (seed included) and the update order;
//! * `summary.json`: status, stop reason, steps completed, final metrics;
//! * `samples_final.csv` and, when `snapshot_every > 0`, `samples_step<k>.csv`
//!   (columns `x0, x1, …`; G in evaluation mode, i.e. without dropout);
//! * when `checkpoint_every > 0`, `checkpoints/` ([`crate::gan::checkpoint`]): x and the
//!   optimiser state at step 0, every `checkpoint_every` steps and at the last step.

//!
//! # Parts
//! [`config`] (raw, then validated once), [`build`] (networks, objective, rule, initial
//! point), this module (the run) and [`log`] (what the run records, as observers).

pub mod build;
pub mod config;
pub mod log;
pub mod model;
pub mod net_config;
#[cfg(test)]
mod tests;
pub mod vae_run;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::dynamics::{Bound, Every, Run, Stop};
use crate::error::{Error, Result};
use crate::export::write_atomic;
use crate::gan::NeuralGan;
use crate::nn::Float;
pub use build::build_game;
use build::{configured, split_params};
pub use config::{
    InfoGanConfig, MAX_EVAL_SAMPLES, MinibatchConfig, Model, NetConfig, Precision, TrainConfig,
    ValidConfig,
};
pub use log::{EvalMetrics, Probe, ProbeFrame};
use log::{Evaluator, HaltOnNonFiniteLoss, LogRows, Probes, Progress, Snapshots, samples_table};
pub use vae_run::build_vae;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// All steps ran.
    Completed,
    /// A loss or parameter became non-finite.
    Diverged,
    /// A signal stopped the run; the outputs hold the steps done so far.
    Interrupted,
}

/// The outcome of [`train`].
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Completed or diverged.
    pub status: RunStatus,
    /// `completed N steps` or `diverged at step k: <reason>`.
    pub stop_reason: String,
    /// Steps fully completed.
    pub steps_completed: usize,
    /// The update order, as logged.
    pub update_order: String,
    /// CSV header of the log.
    pub header: Vec<String>,
    /// The logged rows (same columns as `header`).
    pub rows: Vec<Vec<f64>>,
    /// Metrics at the last log step.
    pub final_metrics: EvalMetrics,
    /// `snapshot_samples` samples of the final generator (rows = samples).
    pub final_samples: Vec<Vec<f64>>,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// The final joint parameters x = (θ_G, ψ) in f64 (not written to any file), e.g.
    /// for a Jacobian of [`build_game`]'s game at the end of training.
    pub final_parameters: Vec<f64>,
    /// Wall time of the training loop, s (not written to any file).
    pub elapsed_s: f64,
    /// Steps per second of the training loop.
    pub steps_per_s: f64,
    /// Probe records of [`train_probed`] (empty without a probe).
    #[serde(skip)]
    pub frames: Vec<ProbeFrame>,
}

/// What a training run records besides its trajectory.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recording<'a> {
    /// The folder for the files listed in the module docs (none: nothing is written).
    pub out_dir: Option<&'a Path>,
    /// Show progress on stderr ([`crate::progress`]).
    pub progress: bool,
    /// Probe frames to record into [`TrainReport::frames`] (the neural studies'
    /// D-surface frames); the trajectory and the files are the same without.
    pub probe: Option<&'a Probe>,
    /// For 2-D data, also write D on a grid (`d_surface_step<k>.csv` at the snapshots and
    /// `d_surface_final.csv`), which the figures of `redqueen train` are drawn from.
    pub surfaces: bool,
}

/// Trains a neural GAN as configured and records as `rec` says.
///
/// # Errors
/// [`Error::File`] if an output cannot be written. Divergence is **not** an error: see
/// [`TrainReport::status`].
pub fn train(config: &ValidConfig, rec: &Recording<'_>) -> Result<TrainReport> {
    match (config.model, config.precision) {
        (Model::Gan, Precision::F32) => run::<f32>(config, rec),
        (Model::Gan, Precision::F64) => run::<f64>(config, rec),
        (Model::Vae, Precision::F32) => vae_run::run::<f32>(config, rec),
        (Model::Vae, Precision::F64) => vae_run::run::<f64>(config, rec),
    }
}

/// One training run: [`crate::dynamics::Run`] drives the configured game with the
/// configured rule; the observers of [`log`] record.
fn run<T: Float>(cfg: &ValidConfig, rec: &Recording<'_>) -> Result<TrainReport> {
    let (out_dir, progress, probe) = (rec.out_dir, rec.progress, rec.probe);
    let (gan, mut x, rule) = configured::<T>(cfg)?;
    let eval = Evaluator::new(cfg, &gan, rec.surfaces);
    let mut files = Vec::new();
    if let Some(dir) = out_dir {
        prepare_out_dir(dir)?;
        let resolved = serde_json::json!({
            "config": cfg,
            "seed": cfg.seed,
            "update_order": cfg.schedule.describe(),
            "generator_objective": gan.generator_objective().describe(),
            "rule": rule,
            "parameters": { "generator": gan.n_generator(), "discriminator": gan.n_discriminator() },
        });
        let path = dir.join("config.json");
        write_atomic(
            &path,
            serde_json::to_string_pretty(&resolved)
                .map_err(|e| Error::file(&path, e))?
                .as_bytes(),
        )?;
        files.push(path);
    }
    let checkpoints = match out_dir {
        Some(d) if cfg.checkpoint_every > 0 => Some(
            Every::new(
                cfg.checkpoint_every,
                crate::gan::checkpoint::Checkpoints::new(cfg, d)?,
            )
            .and_at(cfg.steps),
        ),
        _ => None,
    };
    let shown =
        progress.then(|| crate::progress::Progress::new("train", cfg.steps as u64, "steps"));
    let mut observers = (
        HaltOnNonFiniteLoss::new(&gan),
        (
            Every::new(cfg.log_every, LogRows::new(cfg, &gan, &eval, out_dir, &x))
                .and_at(cfg.steps),
            (
                Probes::new(&gan, &eval, probe),
                (
                    out_dir.map(|d| Every::new(cfg.snapshot_every, Snapshots::new(&gan, &eval, d))),
                    (
                        checkpoints,
                        shown.as_ref().map(|p| Every::new(64, Progress(p))),
                    ),
                ),
            ),
        ),
    );
    let mut state = rule.init_seeded(&gan, cfg.seed);
    let start = Instant::now();
    let stop = Run {
        game: &gan,
        rule: &rule,
        steps: cfg.steps,
        bound: Bound::none(),
    }
    .run(&mut x, &mut state, &mut observers);
    let elapsed_s = start.elapsed().as_secs_f64();
    if let Some(p) = &shown {
        p.finish();
    }
    let stop = stop?;
    let (_, (log, (probes, (snapshots, (checkpoints, _))))) = observers;
    let mut log = log.into_inner();
    if let Some(s) = snapshots {
        files.extend(s.into_inner().files);
    }
    if let Some(c) = checkpoints {
        files.extend(c.into_inner().files);
    }
    let (status, stop_reason, steps_completed) = finish(&gan, &stop, &mut log, &x, cfg.steps);
    // After a non-finite step the final samples and parameters are those of the last
    // metrics row, the latest state known to be finite.
    if matches!(stop, Stop::NonFinite { .. }) {
        x = log.last_logged.clone();
    }
    let (theta, _) = split_params::<T>(&x, gan.n_generator());
    let final_samples_m = gan.sample_generator(&theta, &eval.snapshot_z);
    let final_samples: Vec<Vec<f64>> = (0..final_samples_m.nrows())
        .map(|i| final_samples_m.row(i).iter().map(|v| v.f64()).collect())
        .collect();
    if let Some(dir) = out_dir {
        log.write()?;
        files.push(dir.join("train_log.csv"));
        let path = dir.join("samples_final.csv");
        samples_table(&final_samples_m).write(&path)?;
        files.push(path);
        let (_, psi) = split_params::<T>(&x, gan.n_generator());
        if let Some(t) = eval.surface_table(&gan, &psi) {
            let path = dir.join("d_surface_final.csv");
            t.write(&path)?;
            files.push(path);
        }
        let summary = serde_json::json!({
            "status": status,
            "stop_reason": stop_reason,
            "steps_completed": steps_completed,
            "update_order": cfg.schedule.describe(),
            "generator_objective": gan.generator_objective().describe(),
            "final_metrics": log.final_metrics,
        });
        let path = dir.join("summary.json");
        write_atomic(
            &path,
            serde_json::to_string_pretty(&summary)
                .map_err(|e| Error::file(&path, e))?
                .as_bytes(),
        )?;
        files.push(path);
    }
    Ok(TrainReport {
        status,
        stop_reason,
        steps_completed,
        update_order: cfg.schedule.describe(),
        header: log.header,
        rows: log.rows,
        final_metrics: log.final_metrics,
        final_samples,
        files,
        final_parameters: x.iter().copied().collect(),
        elapsed_s,
        steps_per_s: steps_completed as f64 / elapsed_s.max(1e-12),
        frames: probes.frames,
    })
}

/// Status, reason and completed steps of a run that stopped with `stop`; a stop on a
/// non-finite value or a halt adds the last row (losses only) to the log.
fn finish<T: Float>(
    gan: &NeuralGan<T>,
    stop: &Stop,
    log: &mut LogRows<'_, T>,
    x: &crate::linalg::Vector,
    steps: usize,
) -> (RunStatus, String, usize) {
    match stop {
        Stop::Budget => (
            RunStatus::Completed,
            format!("completed {steps} steps"),
            steps,
        ),
        Stop::NonFinite { step } => {
            let e = gan.last_evaluation();
            let what = if !e.d.loss.is_finite() {
                "non-finite loss_d"
            } else if !e.g.loss.is_finite() {
                "non-finite loss_g"
            } else {
                "non-finite parameters"
            };
            log.push_row(*step, x, false);
            (
                RunStatus::Diverged,
                format!("diverged at step {step}: {what}"),
                step - 1,
            )
        }
        Stop::Halted { step, why } => {
            log.push_row(*step, x, false);
            (
                RunStatus::Diverged,
                format!("diverged at step {step}: {why}"),
                step.saturating_sub(1),
            )
        }
        Stop::Diverged { step } => (RunStatus::Diverged, stop.describe(), step - 1),
        Stop::Interrupted { step, .. } => (RunStatus::Interrupted, stop.describe(), *step),
    }
}

/// Makes `dir` ready for a run's files: a new or empty folder, or the folder of an
/// earlier run (recognised by its `config.json`), whose outputs are removed — the
/// completion marker `summary.json` first — so nothing of the old run can be mistaken
/// for the new one. Any other non-empty folder is refused.
///
/// # Errors
/// [`Error::File`] naming the folder.
pub(super) fn prepare_out_dir(dir: &Path) -> Result<()> {
    crate::output::create_dir(dir)?;
    let entries: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::file(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let ours = std::fs::read(dir.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("config").is_some() && v.get("update_order").is_some());
    if !ours {
        return Err(Error::file(
            dir,
            "is not empty and holds no earlier training run: choose a new or empty folder \
             (--out)",
        ));
    }
    crate::output::remove_marker(&dir.join("summary.json"))?;
    crate::output::clear_folder(dir, &|_| false)
}
