//! Training the VAE baseline ([`crate::vae`]) from a training configuration with
//! `model = "vae"` ([`super::model`]): the same runner ([`crate::dynamics::Run`]) on the
//! VAE as a one-player game, the same optimiser chains, the same seeds and streams
//! (0: batches and ε, 1: initial parameters, 2: evaluation latents and the reference
//! sample; stream 3 draws the decoder noise of `samples = "noisy"`), the same sample
//! metrics ([`super::log::Evaluator`]) and the same files:
//! * `train_log.csv`: `step, elbo, recon_loglik, kl, grad_norm` (the ELBO and its two
//!   terms on the batch, ‖∇ELBO‖), then the metric columns of the target (without
//!   the GAN's `d_at_mode_<k>`);
//! * `config.json` (with `"model": "vae"` in the configuration), `summary.json`,
//!   `samples_final.csv`, `samples_step<k>.csv` at the snapshots;
//! * for 2-D data with surfaces on, `sample_density_final.csv` (`x0, x1, d`): the density
//!   of the decoded evaluation samples on the D-surface grid, which stands in for D in
//!   the figures.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use nalgebra::DMatrix;

use super::build::split_params;
use super::config::ValidConfig;
use super::log::{Evaluator, Probe, ProbeFrame, Progress, log_table, push_metrics, samples_table};
use super::{EvalMetrics, Recording, RunStatus, TrainReport, prepare_out_dir};
use crate::datasets::{Latent, LatentKind};
use crate::dynamics::{Bound, Every, Observer, Rule, RuleState, Run, Stop};
use crate::error::{Error, Result};
use crate::export::{Table, num, write_atomic};
use crate::linalg::{Vector, rng};
use crate::nn::Float;
use crate::vae::{Vae, VaeSamples};

/// Bandwidth of the Gaussian kernel behind the decoded-sample density on the surface
/// grid: one cell of the 80 × 80 grid over [−2, 2]² (0.05, also the gan-vis mode std),
/// so a point mass shows as a spot of about two cells and a spread as a smear.
pub const DENSITY_BANDWIDTH: f64 = 0.05;

/// The configured VAE in network precision T, its initial point (decoder from stream 1
/// of the seed with the generator's initialisation, then the encoder with the
/// discriminator's) and the update rule.
///
/// # Errors
/// As [`Vae::new`] and [`crate::dynamics::RuleSpec::build`].
pub fn configured_vae<T: Float>(cfg: &ValidConfig) -> Result<(Vae<T>, Vector, Rule)> {
    let data = cfg.data().clone();
    let (dec, enc) = cfg.vae_networks(data.dim())?;
    let mut init_rng = rng(cfg.seed, 1);
    let theta: Vec<T> = dec.init(cfg.generator.init, &mut init_rng);
    let phi: Vec<T> = enc.init(cfg.discriminator.init, &mut init_rng);
    let x0 = Vector::from_iterator(
        theta.len() + phi.len(),
        theta.iter().chain(&phi).map(|v| v.f64()),
    );
    let vae = Vae::new(
        dec,
        enc,
        data,
        cfg.vae_config().decoder_std,
        cfg.batch_size,
        &mut rng(cfg.seed, 0),
    )?;
    Ok((vae, x0, cfg.rule_spec().build()?))
}

/// The configured VAE in f64 as a [`crate::game::Game`] and its initial point (as
/// [`super::build_game`] for a GAN).
///
/// # Errors
/// As [`configured_vae`].
pub fn build_vae(cfg: &ValidConfig) -> Result<(Vae<f64>, Vector)> {
    let (vae, x0, _) = configured_vae::<f64>(cfg)?;
    Ok((vae, x0))
}

/// The fixed inputs of the VAE's evaluation: the GAN's [`Evaluator`] (prior latents,
/// reference sample, modes, surface grid) and, for noisy samples, the decoder noise of
/// the metric and snapshot samples (stream 3).
struct VaeEval<T: Float> {
    eval: Evaluator<T>,
    noise: Option<(DMatrix<T>, DMatrix<T>)>,
}

impl<T: Float> VaeEval<T> {
    fn new(cfg: &ValidConfig, vae: &Vae<T>, surfaces: bool) -> Self {
        let eval = Evaluator::for_data(cfg, &vae.data, surfaces);
        let noise = (cfg.vae_config().samples == VaeSamples::Noisy).then(|| {
            let mut r = rng(cfg.seed, 3);
            let n = Latent {
                kind: LatentKind::Gaussian,
                dim: vae.data.dim(),
            };
            let mut a = DMatrix::zeros(eval.z.nrows(), vae.data.dim());
            let mut b = DMatrix::zeros(eval.snapshot_z.nrows(), vae.data.dim());
            n.sample_into(&mut r, &mut a);
            n.sample_into(&mut r, &mut b);
            (a, b)
        });
        VaeEval { eval, noise }
    }
    /// The metric samples (`snapshot = false`) or the snapshot samples.
    fn samples(&self, vae: &Vae<T>, theta: &[T], snapshot: bool) -> DMatrix<T> {
        let (z, noise) = if snapshot {
            (&self.eval.snapshot_z, self.noise.as_ref().map(|n| &n.1))
        } else {
            (&self.eval.z, self.noise.as_ref().map(|n| &n.0))
        };
        vae.sample(theta, z, noise)
    }
}

/// The density of `samples` (rows, 2-D) at the rows of `points`, by a Gaussian kernel of
/// width [`DENSITY_BANDWIDTH`], scaled so that its largest value is 1 (all zeros if the
/// samples are empty or non-finite).
#[must_use]
pub fn sample_density(points: &DMatrix<f64>, samples: &DMatrix<f64>) -> Vec<f64> {
    let inv = 1.0 / (2.0 * DENSITY_BANDWIDTH * DENSITY_BANDWIDTH);
    let mut d: Vec<f64> = (0..points.nrows())
        .map(|i| {
            (0..samples.nrows())
                .map(|k| {
                    let dx = points[(i, 0)] - samples[(k, 0)];
                    let dy = points[(i, 1)] - samples[(k, 1)];
                    (-(dx * dx + dy * dy) * inv).exp()
                })
                .filter(|v| v.is_finite())
                .sum()
        })
        .collect();
    let max = d.iter().copied().fold(0.0, f64::max);
    if max > 0.0 {
        d.iter_mut().for_each(|v| *v /= max);
    }
    d
}

/// The log of a VAE run (observe it through [`Every`] with `log_every`).
struct VaeLog<'a, T: Float> {
    cfg: &'a ValidConfig,
    vae: &'a Vae<T>,
    eval: &'a VaeEval<T>,
    out_dir: Option<&'a Path>,
    last_write: Instant,
    header: Vec<String>,
    rows: Vec<Vec<f64>>,
    final_metrics: EvalMetrics,
    last_logged: Vector,
}

impl<T: Float> VaeLog<'_, T> {
    fn push_row(&mut self, step: usize, x: &Vector, metrics: bool) {
        let e = self.vae.last_evaluation();
        let m = if metrics {
            let (theta, _) = split_params::<T>(x, self.vae.n_decoder());
            let s = self.eval.samples(self.vae, &theta, false).map(|v| v.f64());
            self.eval.eval.sample_metrics(self.cfg, &s)
        } else {
            EvalMetrics::default()
        };
        let mut row = vec![
            step as f64,
            e.terms.elbo,
            e.terms.recon_loglik,
            e.terms.kl,
            e.grad_norm,
        ];
        push_metrics(&mut row, &m, &self.eval.eval, self.header.len());
        self.rows.push(row);
        if metrics {
            self.final_metrics = m;
            self.last_logged = x.clone();
        }
    }
    fn write(&mut self) -> Result<()> {
        if let Some(dir) = self.out_dir {
            log_table(&self.header, &self.rows).write(&dir.join("train_log.csv"))?;
            self.last_write = Instant::now();
        }
        Ok(())
    }
}

impl<T: Float> Observer for VaeLog<'_, T> {
    fn observe(&mut self, step: usize, x: &Vector, _: &RuleState) -> Result<ControlFlow<String>> {
        if step > 0 {
            self.push_row(step, x, true);
            if self.last_write.elapsed().as_secs_f64() >= 1.0 {
                self.write()?;
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// Halts on a non-finite ELBO of an evaluation made in this step.
struct HaltOnNonFiniteElbo<'a, T: Float> {
    vae: &'a Vae<T>,
    seen: u64,
}

impl<T: Float> Observer for HaltOnNonFiniteElbo<'_, T> {
    fn observe(&mut self, step: usize, _: &Vector, _: &RuleState) -> Result<ControlFlow<String>> {
        let e = self.vae.last_evaluation();
        let fresh = e.evals > self.seen;
        self.seen = e.evals;
        Ok(if step > 0 && fresh && !e.terms.elbo.is_finite() {
            ControlFlow::Break("non-finite elbo".into())
        } else {
            ControlFlow::Continue(())
        })
    }
}

/// Probe frames of a VAE: the decoded-sample density at the probe points (2-D) in
/// place of D, and the first decoded snapshot samples.
struct VaeProbes<'a, T: Float> {
    vae: &'a Vae<T>,
    eval: &'a VaeEval<T>,
    probe: Option<&'a Probe>,
    frames: Vec<ProbeFrame>,
}

impl<T: Float> Observer for VaeProbes<'_, T> {
    fn observe(&mut self, step: usize, x: &Vector, _: &RuleState) -> Result<ControlFlow<String>> {
        if let Some(p) = self.probe.filter(|p| p.steps.contains(&step)) {
            let (theta, _) = split_params::<T>(x, self.vae.n_decoder());
            let all = self.eval.samples(self.vae, &theta, false).map(|v| v.f64());
            let d_values = if p.points.ncols() == 2 && all.ncols() == 2 {
                sample_density(&p.points, &all)
            } else {
                vec![f64::NAN; p.points.nrows()]
            };
            let snap = self.eval.samples(self.vae, &theta, true);
            let n = p.samples.min(snap.nrows());
            self.frames.push(ProbeFrame {
                step,
                d_values,
                g_samples: (0..n)
                    .map(|i| snap.row(i).iter().map(|v| v.f64()).collect())
                    .collect(),
            });
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// Writes `samples_step<k>.csv` at the snapshot steps.
struct VaeSnapshots<'a, T: Float> {
    vae: &'a Vae<T>,
    eval: &'a VaeEval<T>,
    dir: &'a Path,
    files: Vec<std::path::PathBuf>,
}

impl<T: Float> Observer for VaeSnapshots<'_, T> {
    fn observe(&mut self, step: usize, x: &Vector, _: &RuleState) -> Result<ControlFlow<String>> {
        if step > 0 {
            let (theta, _) = split_params::<T>(x, self.vae.n_decoder());
            let path = self.dir.join(format!("samples_step{step:07}.csv"));
            samples_table(&self.eval.samples(self.vae, &theta, true)).write(&path)?;
            self.files.push(path);
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// One VAE training run (see the module docs).
pub(super) fn run<T: Float>(cfg: &ValidConfig, rec: &Recording<'_>) -> Result<TrainReport> {
    let (vae, mut x, rule) = configured_vae::<T>(cfg)?;
    let eval = VaeEval::new(cfg, &vae, rec.surfaces);
    let order = cfg.schedule.describe();
    let mut files = Vec::new();
    if let Some(dir) = rec.out_dir {
        prepare_out_dir(dir)?;
        let resolved = serde_json::json!({
            "config": cfg,
            "seed": cfg.seed,
            "model": "vae",
            "update_order": order,
            "rule": rule,
            "parameters": { "decoder": vae.n_decoder(), "encoder": vae.n_encoder() },
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
    let mut header: Vec<String> = ["step", "elbo", "recon_loglik", "kl", "grad_norm"]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
    header.extend(eval.eval.metric_header(false));
    let shown = rec
        .progress
        .then(|| crate::progress::Progress::new("train", cfg.steps as u64, "steps"));
    let log = VaeLog {
        cfg,
        vae: &vae,
        eval: &eval,
        out_dir: rec.out_dir,
        last_write: Instant::now(),
        header,
        rows: Vec::new(),
        final_metrics: EvalMetrics::default(),
        last_logged: x.clone(),
    };
    let mut observers = (
        HaltOnNonFiniteElbo { vae: &vae, seen: 0 },
        (
            Every::new(cfg.log_every, log).and_at(cfg.steps),
            (
                VaeProbes {
                    vae: &vae,
                    eval: &eval,
                    probe: rec.probe,
                    frames: Vec::new(),
                },
                (
                    rec.out_dir.map(|dir| {
                        Every::new(
                            cfg.snapshot_every,
                            VaeSnapshots {
                                vae: &vae,
                                eval: &eval,
                                dir,
                                files: Vec::new(),
                            },
                        )
                    }),
                    shown.as_ref().map(|p| Every::new(64, Progress(p))),
                ),
            ),
        ),
    );
    let mut state = rule.init_seeded(&vae, cfg.seed);
    let start = Instant::now();
    let stop = Run {
        game: &vae,
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
    let (_, (log, (probes, (snapshots, _)))) = observers;
    let mut log = log.into_inner();
    if let Some(s) = snapshots {
        files.extend(s.into_inner().files);
    }
    let (status, stop_reason, steps_completed) = match &stop {
        Stop::Budget => (
            RunStatus::Completed,
            format!("completed {} steps", cfg.steps),
            cfg.steps,
        ),
        Stop::NonFinite { step } => {
            log.push_row(*step, &x, false);
            (
                RunStatus::Diverged,
                format!("diverged at step {step}: non-finite parameters"),
                step - 1,
            )
        }
        Stop::Halted { step, why } => {
            log.push_row(*step, &x, false);
            (
                RunStatus::Diverged,
                format!("diverged at step {step}: {why}"),
                step.saturating_sub(1),
            )
        }
        Stop::Diverged { step } => (RunStatus::Diverged, stop.describe(), step - 1),
        Stop::Interrupted { step, .. } => (RunStatus::Interrupted, stop.describe(), *step),
    };
    if matches!(stop, Stop::NonFinite { .. }) {
        x = log.last_logged.clone();
    }
    let (theta, _) = split_params::<T>(&x, vae.n_decoder());
    let final_m = eval.samples(&vae, &theta, true);
    let final_samples: Vec<Vec<f64>> = (0..final_m.nrows())
        .map(|i| final_m.row(i).iter().map(|v| v.f64()).collect())
        .collect();
    if let Some(dir) = rec.out_dir {
        log.write()?;
        files.push(dir.join("train_log.csv"));
        let path = dir.join("samples_final.csv");
        samples_table(&final_m).write(&path)?;
        files.push(path);
        if let Some(pts) = eval.eval.surface_points() {
            let pts = pts.map(|v| v.f64());
            let all = eval.samples(&vae, &theta, false).map(|v| v.f64());
            let mut t = Table::new(["x0", "x1", "d"]);
            for (i, d) in sample_density(&pts, &all).iter().enumerate() {
                t.push(vec![num(pts[(i, 0)]), num(pts[(i, 1)]), num(*d)]);
            }
            let path = dir.join("sample_density_final.csv");
            t.write(&path)?;
            files.push(path);
        }
        let summary = serde_json::json!({
            "status": status,
            "stop_reason": stop_reason,
            "steps_completed": steps_completed,
            "update_order": order,
            "model": "vae",
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
        update_order: order,
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
