//! What a training run records, as observers of the runner ([`crate::dynamics::Observer`]):
//! a halt on a non-finite loss, the log rows with their sample metrics (every
//! `log_every` steps and at the last), sample snapshots, probes for D-surface frames,
//! and the progress display. None of them touches the minibatch stream, so the
//! trajectory does not depend on what is logged.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nalgebra::DMatrix;
use serde::Serialize;

use super::build::{latent_with_codes, split_params};
use super::config::ValidConfig;
use crate::datasets::{DataSampler, Modes};
use crate::dynamics::{Observer, RuleState};
use crate::error::Result;
use crate::export::{Table, num};
use crate::gan::NeuralGan;
use crate::linalg::{Vector, rng};
use crate::metrics::modes::mode_measures;
use crate::metrics::neural::{
    energy_distance, histogram_divergence, mode_coverage, wasserstein_1d,
};

/// The log columns of PacGAN's three measures (Lin et al. 2018, Table 1), after the
/// gan-vis coverage columns for targets with modes: modes captured (≥ 1 high-quality
/// sample), the high-quality share, and the reverse KL of the modes' histogram.
pub const PACGAN_COLUMNS: [&str; 3] = ["modes_captured", "pacgan_high_quality", "reverse_kl"];
use crate::nn::Float;

/// Metrics of the generator's samples at one log step.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct EvalMetrics {
    /// Modes holding ≥ `coverage_min_fraction` of the samples (targets with modes).
    pub modes_covered: Option<usize>,
    /// Fraction of samples within 3σ (or the point radius) of some mode.
    pub high_quality: Option<f64>,
    /// Per-mode fractions.
    pub per_mode: Vec<f64>,
    /// PacGAN's modes captured: modes with at least one high-quality sample nearest to
    /// them (targets with modes; [`crate::metrics::modes::mode_measures`]).
    pub modes_captured: Option<usize>,
    /// PacGAN's high-quality share: samples within 3σ (strictly, in σ units) of their
    /// nearest mode, over all samples.
    pub pacgan_high_quality: Option<f64>,
    /// PacGAN's reverse KL of the high-quality samples' mode histogram against the mixture
    /// weights, KL(p ‖ w) (natural log); `None` when no sample is high quality.
    pub reverse_kl: Option<f64>,
    /// 1-D Wasserstein-1 to a reference target sample (1-D targets).
    pub w1: Option<f64>,
    /// Histogram KL(target‖model) (1-D targets).
    pub kl: Option<f64>,
    /// Histogram JS (1-D targets).
    pub js: Option<f64>,
    /// Energy distance to a reference target sample (targets of dimension ≥ 2).
    pub energy_distance: Option<f64>,
    /// D at every mode mean (σ(logit), or the critic value for WGAN).
    pub d_at_modes: Vec<f64>,
}

/// Fixed evaluation inputs, drawn from stream 2 of the seed (never the training
/// stream): the latents of the metrics and of the snapshots, a reference sample of the
/// target, its modes.
pub struct Evaluator<T: Float> {
    /// Latents of the metric samples.
    pub z: DMatrix<T>,
    /// Latents of the snapshots and the final samples.
    pub snapshot_z: DMatrix<T>,
    reference: DMatrix<f64>,
    modes: Option<Modes>,
    mode_points: Option<DMatrix<T>>,
    /// For 2-D data: the cell centres where D is recorded for the surface figures.
    surface: Option<DMatrix<T>>,
}

/// Cells per side of the recorded D surface (2-D data): 80 × 80, as gan-vis draws it.
pub const SURFACE_GRID: usize = 80;

/// Half-width of the recorded D surface: 1.25 × the largest coordinate of the target's
/// reference sample, at least 1, so every mode and its spread is inside.
fn surface_extent(reference: &DMatrix<f64>) -> f64 {
    (1.25 * reference.amax()).max(1.0)
}

impl<T: Float> Evaluator<T> {
    /// The evaluation inputs of `cfg` for `gan`'s data set.
    #[must_use]
    pub fn new(cfg: &ValidConfig, gan: &NeuralGan<T>, surfaces: bool) -> Self {
        Self::for_data(cfg, &gan.data, surfaces)
    }

    /// The evaluation inputs of `cfg` for the data set `data` (any model whose samples
    /// are a map of the latent rows, such as the VAE's decoder).
    #[must_use]
    pub fn for_data(cfg: &ValidConfig, data: &DataSampler, surfaces: bool) -> Self {
        let mut eval_rng = rng(cfg.seed, 2);
        Evaluator {
            z: latent_with_codes(cfg, cfg.eval_samples, &mut eval_rng),
            snapshot_z: latent_with_codes(cfg, cfg.snapshot_samples, &mut eval_rng),
            reference: data.sample(&mut eval_rng, cfg.eval_samples),
            modes: data.modes(),
            mode_points: data
                .modes()
                .map(|m| DMatrix::from_fn(m.means.len(), data.dim(), |i, j| T::of(m.means[i][j]))),
            surface: None,
        }
        .with_surface(surfaces)
    }

    /// The surface grid's cell centres (2-D data with surfaces on).
    #[must_use]
    pub fn surface_points(&self) -> Option<&DMatrix<T>> {
        self.surface.as_ref()
    }

    fn with_surface(mut self, on: bool) -> Self {
        if on && self.reference.ncols() == 2 {
            let c = crate::plot::cell_centres(surface_extent(&self.reference), SURFACE_GRID);
            self.surface = Some(DMatrix::from_fn(c.len(), 2, |r, k| {
                T::of(if k == 0 { c[r].0 } else { c[r].1 })
            }));
        }
        self
    }

    /// D on the surface grid as CSV (`x0, x1, d`), for 2-D data; None otherwise.
    #[must_use]
    pub fn surface_table(&self, gan: &NeuralGan<T>, psi: &[T]) -> Option<Table> {
        let pts = self.surface.as_ref()?;
        let d = gan.evaluate_discriminator(psi, pts);
        let mut t = Table::new(["x0", "x1", "d"]);
        for (i, v) in d.iter().enumerate() {
            t.push(vec![
                num(pts[(i, 0)].f64()),
                num(pts[(i, 1)].f64()),
                num(*v),
            ]);
        }
        Some(t)
    }

    /// The log's columns: `step, loss_d, loss_g, d_real, d_fake, grad_norm_g,
    /// grad_norm_d, penalty, info_loss`, then the metric columns of the target.
    #[must_use]
    pub fn header(&self) -> Vec<String> {
        log_header(self)
    }

    /// The sample metrics of the generator θ and discriminator ψ.
    #[must_use]
    pub fn evaluate(
        &self,
        cfg: &ValidConfig,
        gan: &NeuralGan<T>,
        theta: &[T],
        psi: &[T],
    ) -> EvalMetrics {
        evaluate(cfg, gan, theta, psi, self)
    }

    /// The metric columns of the target: for targets with modes `modes_covered,
    /// high_quality, mode_frac_<k>…` (gan-vis) and `modes_captured, pacgan_high_quality,
    /// reverse_kl` (PacGAN), then `w1, kl, js` (1-D) or `energy_distance`,
    /// then, if `with_d`, `d_at_mode_<k>…`.
    #[must_use]
    pub fn metric_header(&self, with_d: bool) -> Vec<String> {
        let mut h = Vec::new();
        metric_columns(self, &mut h, with_d);
        h
    }

    /// The sample metrics of `x` (rows = samples; no D values).
    #[must_use]
    pub fn sample_metrics(&self, cfg: &ValidConfig, x: &DMatrix<f64>) -> EvalMetrics {
        sample_metrics(cfg, x, self)
    }

    /// The target's modes (for mode-count plots).
    #[must_use]
    pub fn modes(&self) -> Option<&Modes> {
        self.modes.as_ref()
    }
}

fn log_header<T: Float>(eval: &Evaluator<T>) -> Vec<String> {
    let mut h: Vec<String> = [
        "step",
        "loss_d",
        "loss_g",
        "d_real",
        "d_fake",
        "grad_norm_g",
        "grad_norm_d",
        "penalty",
        "info_loss",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    metric_columns(eval, &mut h, true);
    h
}

fn metric_columns<T: Float>(eval: &Evaluator<T>, h: &mut Vec<String>, with_d: bool) {
    if let Some(m) = &eval.modes {
        h.push("modes_covered".into());
        h.push("high_quality".into());
        h.extend((0..m.means.len()).map(|k| format!("mode_frac_{k}")));
        h.extend(PACGAN_COLUMNS.iter().map(|s| (*s).to_string()));
    }
    if eval.reference.ncols() == 1 {
        h.extend(["w1", "kl", "js"].iter().map(|s| (*s).to_string()));
    } else {
        h.push("energy_distance".into());
    }
    if let (Some(m), true) = (&eval.modes, with_d) {
        h.extend((0..m.means.len()).map(|k| format!("d_at_mode_{k}")));
    }
}

/// Appends the metric columns of `m` ([`Evaluator::metric_header`]) to `row`, padded
/// with NaN to `width`.
pub(crate) fn push_metrics<T: Float>(
    row: &mut Vec<f64>,
    m: &EvalMetrics,
    eval: &Evaluator<T>,
    width: usize,
) {
    if let Some(modes) = &eval.modes {
        let k = modes.means.len();
        row.push(m.modes_covered.map_or(f64::NAN, |v| v as f64));
        row.push(m.high_quality.unwrap_or(f64::NAN));
        row.extend((0..k).map(|i| m.per_mode.get(i).copied().unwrap_or(f64::NAN)));
        row.push(m.modes_captured.map_or(f64::NAN, |v| v as f64));
        row.push(m.pacgan_high_quality.unwrap_or(f64::NAN));
        row.push(m.reverse_kl.unwrap_or(f64::NAN));
    }
    if eval.reference.ncols() == 1 {
        row.extend([m.w1, m.kl, m.js].map(|v| v.unwrap_or(f64::NAN)));
    } else {
        row.push(m.energy_distance.unwrap_or(f64::NAN));
    }
    if let Some(modes) = &eval.modes {
        row.extend(
            (0..modes.means.len()).map(|i| m.d_at_modes.get(i).copied().unwrap_or(f64::NAN)),
        );
    }
    row.resize(width, f64::NAN);
}

fn evaluate<T: Float>(
    cfg: &ValidConfig,
    gan: &NeuralGan<T>,
    theta: &[T],
    psi: &[T],
    eval: &Evaluator<T>,
) -> EvalMetrics {
    let x = gan.sample_generator(theta, &eval.z).map(|v| v.f64());
    let mut m = sample_metrics(cfg, &x, eval);
    if let Some(p) = &eval.mode_points {
        m.d_at_modes = gan.evaluate_discriminator(psi, p);
    }
    m
}

fn sample_metrics<T: Float>(
    cfg: &ValidConfig,
    x: &DMatrix<f64>,
    eval: &Evaluator<T>,
) -> EvalMetrics {
    let mut m = EvalMetrics::default();
    if let Some(modes) = &eval.modes {
        let c = mode_coverage(x, modes, cfg.coverage_min_fraction);
        m.modes_covered = Some(c.modes_covered);
        m.high_quality = Some(c.high_quality);
        m.per_mode = c.per_mode;
        // Non-finite samples (a diverging generator) or inconsistent modes leave the PacGAN
        // columns empty (NaN in the log) rather than failing the run.
        if let Ok(p) = mode_measures(x, modes) {
            m.modes_captured = Some(p.modes_captured);
            m.pacgan_high_quality = Some(p.high_quality);
            m.reverse_kl = p.reverse_kl;
        }
    }
    if x.ncols() == 1 {
        let a: Vec<f64> = x.iter().copied().collect();
        let b: Vec<f64> = eval.reference.iter().copied().collect();
        m.w1 = Some(wasserstein_1d(&b, &a));
        let h = histogram_divergence(&b, &a, cfg.histogram_bins);
        m.kl = Some(h.kl);
        m.js = Some(h.js);
    } else {
        m.energy_distance = Some(energy_distance(&eval.reference, x));
    }
    m
}

/// The log as CSV: floats in the shortest round-trip form ([`crate::export::num`]).
#[must_use]
pub fn log_table(header: &[String], rows: &[Vec<f64>]) -> Table {
    let mut t = Table::new(header.iter().cloned());
    for r in rows {
        t.push(r.iter().map(|v| num(*v)).collect());
    }
    t
}

/// The samples as CSV (columns `x0, x1, …`).
#[must_use]
pub fn samples_table<T: Float>(x: &DMatrix<T>) -> Table {
    let mut t = Table::new((0..x.ncols()).map(|j| format!("x{j}")));
    for i in 0..x.nrows() {
        t.push(x.row(i).iter().map(|v| num(v.f64())).collect());
    }
    t
}

/// Halts the run when a loss of an update made in this step is non-finite (its
/// parameters may still be finite, e.g. an overflowing critic).
pub struct HaltOnNonFiniteLoss<'a, T: Float> {
    gan: &'a NeuralGan<T>,
    /// Evaluation counts already checked (G, D).
    seen: (u64, u64),
}

impl<'a, T: Float> HaltOnNonFiniteLoss<'a, T> {
    /// Watches `gan`'s evaluations.
    #[must_use]
    pub fn new(gan: &'a NeuralGan<T>) -> Self {
        HaltOnNonFiniteLoss { gan, seen: (0, 0) }
    }
}

impl<T: Float> Observer for HaltOnNonFiniteLoss<'_, T> {
    fn observe(&mut self, step: usize, _: &Vector, _: &RuleState) -> Result<ControlFlow<String>> {
        if step == 0 {
            return Ok(ControlFlow::Continue(()));
        }
        let e = self.gan.last_evaluation();
        let fresh_g = e.g_evals > self.seen.0;
        let fresh_d = e.d_evals > self.seen.1;
        self.seen = (e.g_evals, e.d_evals);
        Ok(if fresh_d && !e.d.loss.is_finite() {
            ControlFlow::Break("non-finite loss_d".into())
        } else if fresh_g && !e.g.loss.is_finite() {
            ControlFlow::Break("non-finite loss_g".into())
        } else {
            ControlFlow::Continue(())
        })
    }
}

/// The log rows (observe it through [`crate::dynamics::Every`] with `log_every`):
/// losses of the latest evaluation and the sample metrics. Step 0 has no row (nothing
/// has been evaluated yet). The log file is rewritten at most once a second during the
/// run, for a live view, and at the end by the trainer.
pub struct LogRows<'a, T: Float> {
    cfg: &'a ValidConfig,
    gan: &'a NeuralGan<T>,
    eval: &'a Evaluator<T>,
    out_dir: Option<&'a Path>,
    last_write: Instant,
    /// The columns.
    pub header: Vec<String>,
    /// The rows so far.
    pub rows: Vec<Vec<f64>>,
    /// Metrics of the last row with metrics.
    pub final_metrics: EvalMetrics,
    /// The state at the last row with metrics (finite), reported if the run diverges.
    pub last_logged: Vector,
    /// Whether the last two columns are `sn_sigma_min, sn_sigma_max` (spectral
    /// normalisation: the smallest and largest power-iteration estimate σ̃ of D's
    /// weight matrices in the latest D evaluation).
    sigma: bool,
}

impl<'a, T: Float> LogRows<'a, T> {
    /// An empty log of `gan`'s run from `x0`.
    #[must_use]
    pub fn new(
        cfg: &'a ValidConfig,
        gan: &'a NeuralGan<T>,
        eval: &'a Evaluator<T>,
        out_dir: Option<&'a Path>,
        x0: &Vector,
    ) -> Self {
        let sigma = gan.options.spectral_norm.is_some();
        let mut header = eval.header();
        if sigma {
            header.extend(["sn_sigma_min".to_string(), "sn_sigma_max".to_string()]);
        }
        LogRows {
            cfg,
            gan,
            eval,
            out_dir,
            sigma,
            last_write: Instant::now(),
            header,
            rows: Vec::new(),
            final_metrics: EvalMetrics::default(),
            last_logged: x0.clone(),
        }
    }

    /// Appends a row with the latest losses and, if `metrics`, the sample metrics.
    pub fn push_row(&mut self, step: usize, x: &Vector, metrics: bool) {
        let e = self.gan.last_evaluation();
        let m = if metrics {
            let (theta, psi) = split_params::<T>(x, self.gan.n_generator());
            self.eval.evaluate(self.cfg, self.gan, &theta, &psi)
        } else {
            EvalMetrics::default()
        };
        let mut row = vec![
            step as f64,
            e.d.loss,
            e.g.loss,
            e.d.d_real,
            e.d.d_fake,
            e.grad_norm_g,
            e.grad_norm_d,
            e.d.penalty,
            e.d.info,
        ];
        let extra = if self.sigma { 2 } else { 0 };
        push_metrics(&mut row, &m, self.eval, self.header.len() - extra);
        if self.sigma {
            row.extend([e.d.sigma_min, e.d.sigma_max]);
        }
        self.rows.push(row);
        if metrics {
            self.final_metrics = m;
            self.last_logged = x.clone();
        }
    }

    /// Writes `train_log.csv` (if there is an output folder).
    ///
    /// # Errors
    /// [`crate::error::Error::File`].
    pub fn write(&mut self) -> Result<()> {
        if let Some(dir) = self.out_dir {
            log_table(&self.header, &self.rows).write(&dir.join("train_log.csv"))?;
            self.last_write = Instant::now();
        }
        Ok(())
    }
}

impl<T: Float> Observer for LogRows<'_, T> {
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

/// Writes `samples_step<k>.csv` and, for 2-D data, `d_surface_step<k>.csv` (observe it
/// through [`crate::dynamics::Every`] with `snapshot_every`; no snapshot at step 0).
pub struct Snapshots<'a, T: Float> {
    gan: &'a NeuralGan<T>,
    eval: &'a Evaluator<T>,
    dir: &'a Path,
    /// The files written.
    pub files: Vec<PathBuf>,
}

impl<'a, T: Float> Snapshots<'a, T> {
    /// Snapshots of `gan`'s samples into `dir`.
    #[must_use]
    pub fn new(gan: &'a NeuralGan<T>, eval: &'a Evaluator<T>, dir: &'a Path) -> Self {
        Snapshots {
            gan,
            eval,
            dir,
            files: Vec::new(),
        }
    }
}

impl<T: Float> Observer for Snapshots<'_, T> {
    fn observe(&mut self, step: usize, x: &Vector, _: &RuleState) -> Result<ControlFlow<String>> {
        if step > 0 {
            let (theta, psi) = split_params::<T>(x, self.gan.n_generator());
            let path = self.dir.join(format!("samples_step{step:07}.csv"));
            samples_table(&self.gan.sample_generator(&theta, &self.eval.snapshot_z))
                .write(&path)?;
            self.files.push(path);
            if let Some(t) = self.eval.surface_table(self.gan, &psi) {
                let path = self.dir.join(format!("d_surface_step{step:07}.csv"));
                t.write(&path)?;
                self.files.push(path);
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// What to record of the networks at chosen steps (for discriminator-surface frames):
/// D at fixed `points` and the generator's first `samples` evaluation samples (the
/// fixed snapshot latents of stream 2, so probing never changes the trajectory).
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// Steps after which to probe (0 = before the first update).
    pub steps: Vec<usize>,
    /// Points (rows) at which D is evaluated.
    pub points: DMatrix<f64>,
    /// Generator samples per probe (at most `snapshot_samples`).
    pub samples: usize,
}

/// One probe record.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeFrame {
    /// The step after which it was taken.
    pub step: usize,
    /// D (σ(logit), or the critic value) at each probe point.
    pub d_values: Vec<f64>,
    /// Generator samples (rows = samples).
    pub g_samples: Vec<Vec<f64>>,
}

/// Records a [`ProbeFrame`] at each of the probe's steps.
pub struct Probes<'a, T: Float> {
    gan: &'a NeuralGan<T>,
    eval: &'a Evaluator<T>,
    probe: Option<&'a Probe>,
    /// The frames so far.
    pub frames: Vec<ProbeFrame>,
}

impl<'a, T: Float> Probes<'a, T> {
    /// Probes of `gan` (none if `probe` is None).
    #[must_use]
    pub fn new(gan: &'a NeuralGan<T>, eval: &'a Evaluator<T>, probe: Option<&'a Probe>) -> Self {
        Probes {
            gan,
            eval,
            probe,
            frames: Vec::new(),
        }
    }
}

impl<T: Float> Observer for Probes<'_, T> {
    fn observe(&mut self, step: usize, x: &Vector, _: &RuleState) -> Result<ControlFlow<String>> {
        if let Some(p) = self.probe.filter(|p| p.steps.contains(&step)) {
            let (theta, psi) = split_params::<T>(x, self.gan.n_generator());
            self.frames.push(take_probe(
                self.gan,
                &theta,
                &psi,
                &self.eval.snapshot_z,
                p,
                step,
            ));
        }
        Ok(ControlFlow::Continue(()))
    }
}

fn take_probe<T: Float>(
    gan: &NeuralGan<T>,
    theta: &[T],
    psi: &[T],
    snapshot_z: &DMatrix<T>,
    probe: &Probe,
    step: usize,
) -> ProbeFrame {
    let pts = probe.points.map(T::of);
    let d_values = gan.evaluate_discriminator(psi, &pts);
    let n = probe.samples.min(snapshot_z.nrows());
    let z = snapshot_z.rows(0, n).into_owned();
    let x = gan.sample_generator(theta, &z);
    ProbeFrame {
        step,
        d_values,
        g_samples: (0..x.nrows())
            .map(|i| x.row(i).iter().map(|v| v.f64()).collect())
            .collect(),
    }
}

/// Moves the progress display (observe it through [`crate::dynamics::Every`]).
pub struct Progress<'a>(pub &'a crate::progress::Progress);

impl Observer for Progress<'_> {
    fn observe(&mut self, step: usize, _: &Vector, _: &RuleState) -> Result<ControlFlow<String>> {
        self.0.set(step as u64);
        Ok(ControlFlow::Continue(()))
    }
}
