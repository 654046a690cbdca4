//! Spectra of a trained neural GAN along its checkpoints (`redqueen spectrum --run`):
//! the field at each checkpoint on one fixed evaluation batch, analysed by
//! [`crate::analysis::point_spectra`], written as tidy CSV.
//!
//! # The evaluation batch
//! The field of a minibatch GAN is a function of x only for a fixed batch, so every
//! checkpoint is analysed on the same batch: [`DEFAULT_EVAL_BATCH`] real samples and
//! latent codes (and WGAN-GP's interpolation weights) drawn from stream
//! [`EVAL_BATCH_STREAM`] of `--seed`, in the order the trainer draws them. The batch is
//! written beside the results (`batch_real.npy`, `batch_latent.npy`, `batch_eps.npy`;
//! rows = samples), so other software can rebuild the same field from a checkpoint and
//! `layout.json`. Dropout masks are seeded inside redqueen and cannot be exported: a
//! run with dropout is analysed on its masks, reproducible here only.
//!
//! The networks run in f64 at the checkpoint's f64 parameters, whatever precision the
//! run trained in (the spectra are of the f64 field at the trained point).
//!
//! # Files (in the output folder, each written atomically)
//! `eigenvalues.csv` (step, matrix, method, which, index, re, im, residual, converged,
//! jvp_method), `summary.csv` (one row per checkpoint), `summary.json` (the same with the
//! options), the batch files.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::NeuralGan;
use super::checkpoint::RunCheckpoints;
use super::train::ValidConfig;
use super::train::build::initial_point;
use crate::analysis::point_spectra::{PointSpectra, SpectraOptions, point_spectra};
use crate::error::{Error, Result};
use crate::export::{Table, num, write_atomic};
use crate::game::Game;
use crate::linalg::rng;

/// Default evaluation batch size. The field on B samples is a Monte Carlo estimate of
/// the population field whose sampling error, and that of its Jacobian, falls as
/// 1/√B: 1024 samples put it near 3 % of the per-sample spread, well inside the
/// spread of the training batches (50–256) the optimiser actually saw, while a product
/// still costs only about 20 training-batch gradients (the dense n ≈ 2,200 Jacobian
/// of the seed-000 1-D networks needs n products).
pub const DEFAULT_EVAL_BATCH: usize = 1024;

/// The stream of `--seed` that draws the evaluation batch, apart from the trainer's
/// streams 0 (batches), 1 (initialisation) and 2 (evaluation latents).
pub const EVAL_BATCH_STREAM: u64 = 0x7370_6563; // "spec"

/// The configured GAN in f64 with a batch of `batch` drawn from `seed`.
///
/// # Errors
/// [`Error::Param`] for spectral normalisation (its power-iteration vectors are run
/// state that checkpoints do not hold) or a bad batch size; as
/// [`NeuralGan::with_options`].
pub fn eval_game(cfg: &ValidConfig, batch: usize, seed: u64) -> Result<NeuralGan<f64>> {
    if cfg.discriminator.spectral_norm {
        return Err(Error::param(
            "discriminator.spectral_norm",
            "the field of a spectrally normalised D depends on power-iteration vectors, \
             which checkpoints do not hold",
        ));
    }
    if batch == 0 {
        return Err(Error::param("--batch", "must be at least 1"));
    }
    let data = cfg.data().clone();
    let (g, d, q) = cfg.networks(data.dim())?;
    NeuralGan::<f64>::with_options(
        g,
        d,
        q,
        cfg.objective(),
        cfg.latent,
        data,
        batch,
        cfg.gan_options(),
        &mut rng(seed, EVAL_BATCH_STREAM),
    )?
    .with_generator_objective(cfg.generator_objective()?)
}

/// Writes the batch of `gan` into `dir` (module docs); returns the files.
///
/// # Errors
/// [`Error::File`] if a file cannot be written.
pub fn write_eval_batch(gan: &NeuralGan<f64>, dir: &Path) -> Result<Vec<PathBuf>> {
    let b = gan.batch();
    let mut files = Vec::new();
    for (name, m) in [("batch_real.npy", &b.real), ("batch_latent.npy", &b.z)] {
        let path = dir.join(name);
        crate::npy::write_matrix(&path, m)?;
        files.push(path);
    }
    if gan.objective.penalty.is_active() {
        let path = dir.join("batch_eps.npy");
        crate::npy::write_vector(&path, &b.eps)?;
        files.push(path);
    }
    Ok(files)
}

/// One analysed checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct StepSpectra {
    /// The step.
    pub step: usize,
    /// The analysis.
    #[serde(flatten)]
    pub spectra: PointSpectra,
}

/// The result of [`run_spectra`].
#[derive(Debug, Clone, Serialize)]
pub struct RunSpectra {
    /// `exact` or `central_difference` with its step.
    pub jvp_method: crate::game::JvpMethod,
    /// Evaluation batch size.
    pub batch: usize,
    /// Seed of the batch and the solvers.
    pub seed: u64,
    /// Per checkpoint.
    pub steps: Vec<StepSpectra>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Analyses the checkpoints `steps` (all when empty) of `run` on a batch of `batch`
/// drawn from `opts.seed`, and writes the files of the module docs into `out`.
///
/// # Errors
/// The loader's errors (naming the file), the options' ([`Error::Param`]), the
/// solvers'.
pub fn run_spectra(
    run: &RunCheckpoints,
    steps: &[usize],
    batch: usize,
    opts: &SpectraOptions,
    out: &Path,
) -> Result<RunSpectra> {
    let cfg = &run.config;
    let gan = eval_game(cfg, batch, opts.seed)?;
    let n = gan.dim();
    if opts.dense && n > opts.dense_max {
        return Err(Error::param(
            "--dense",
            format!(
                "n = {n} parameters is above the dense limit {} (raise --dense-max, or use --k)",
                opts.dense_max
            ),
        ));
    }
    if !opts.dense && (opts.k == 0 || opts.k >= n) {
        return Err(Error::param(
            "--k",
            format!("k = {} must satisfy 1 ≤ k < n = {n}", opts.k),
        ));
    }
    let wanted: Vec<usize> = if steps.is_empty() {
        run.steps.clone()
    } else {
        steps.to_vec()
    };
    // Load every checkpoint before writing anything, so a bad file leaves no output.
    let checkpoints = wanted
        .iter()
        .map(|&s| run.load(s))
        .collect::<Result<Vec<_>>>()?;
    let rule = cfg.rule_spec().build()?;
    let (g, d, q) = cfg.networks(cfg.data().dim())?;
    let mut x0 = initial_point::<f64>(cfg, &g, &d, q.as_ref());
    gan.project(&mut x0);
    let jvp_method = gan.jvp_method();
    let mut results = Vec::new();
    for c in &checkpoints {
        let state = c.optimizer.as_ref().map(|(a, b)| (a, b));
        let s = point_spectra(&gan, &rule, &c.x, &x0, state, opts)?;
        results.push(StepSpectra {
            step: c.step,
            spectra: s,
        });
    }
    crate::output::create_dir(out)?;
    let mut files = write_eval_batch(&gan, out)?;
    let method = match jvp_method {
        crate::game::JvpMethod::Exact => "exact".to_string(),
        crate::game::JvpMethod::CentralDifference { step } => {
            format!("central_difference(step={step})")
        }
    };
    let mut eig = Table::new([
        "step",
        "matrix",
        "method",
        "which",
        "index",
        "re",
        "im",
        "residual",
        "converged",
        "jvp_method",
    ]);
    for r in &results {
        for e in &r.spectra.rows {
            eig.push(vec![
                r.step.to_string(),
                e.matrix.into(),
                e.method.into(),
                e.which.into(),
                e.index.to_string(),
                num(e.re),
                num(e.im),
                num(e.residual),
                e.converged.to_string(),
                method.clone(),
            ]);
        }
    }
    let path = out.join("eigenvalues.csv");
    eig.write(&path)?;
    files.push(path);
    let mut sum = Table::new([
        "step",
        "n",
        "field_norm",
        "reference_field_norm",
        "max_re",
        "max_abs_im",
        "share_rotational",
        "rotation_index",
        "rotation_lo",
        "rotation_hi",
        "rotation_samples",
        "map_rho",
        "map_class",
        "map_method",
        "hessian_g_min",
        "hessian_g_max",
        "hessian_d_min",
        "hessian_d_max",
        "verdict",
        "converged",
        "jvp_method",
        "batch",
        "seed",
    ]);
    for r in &results {
        let s = &r.spectra;
        sum.push(vec![
            r.step.to_string(),
            s.n.to_string(),
            num(s.field_norm),
            num(s.reference_field_norm),
            num(s.max_re),
            num(s.max_abs_im),
            num(s.share_rotational),
            num(s.rotation.value),
            num(s.rotation.lo),
            num(s.rotation.hi),
            s.rotation.samples.to_string(),
            num(s.map_rho),
            s.map_class.clone(),
            s.map_method.clone(),
            num(s.hessian_g.0),
            num(s.hessian_g.1),
            num(s.hessian_d.0),
            num(s.hessian_d.1),
            s.verdict.as_str().into(),
            s.converged.to_string(),
            method.clone(),
            batch.to_string(),
            opts.seed.to_string(),
        ]);
    }
    let path = out.join("summary.csv");
    sum.write(&path)?;
    files.push(path);
    let result = RunSpectra {
        jvp_method,
        batch,
        seed: opts.seed,
        steps: results,
        files,
    };
    let path = out.join("summary.json");
    write_atomic(
        &path,
        serde_json::to_string_pretty(&result)
            .map_err(|e| Error::file(&path, e))?
            .as_bytes(),
    )?;
    let mut result = result;
    result.files.push(path);
    Ok(result)
}

/// The α range of [`run_path_angle`]: half a segment beyond each end, as in Berard et
/// al. 2020's figures, so the bump near the end point is seen from both sides.
pub const PATH_ANGLE_RANGE: (f64, f64) = (-0.5, 1.5);

/// Berard et al.'s path-angle between checkpoints `from` and `to` of `run` on the
/// evaluation batch ([`crate::analysis::path_angle`]); writes `path_angle.csv`, the batch
/// and the figures into `out`.
///
/// # Errors
/// The loader's errors; [`Error::Param`] for equal end points or fewer than 2 points.
pub fn run_path_angle(
    run: &RunCheckpoints,
    (from, to): (usize, usize),
    points: usize,
    batch: usize,
    seed: u64,
    out: &Path,
) -> Result<(
    Vec<crate::analysis::path_angle::PathAnglePoint>,
    Vec<PathBuf>,
)> {
    let a = run.load(from)?;
    let b = run.load(to)?;
    let gan = eval_game(&run.config, batch, seed)?;
    let pts = crate::analysis::path_angle::path_angle(&gan, &a.x, &b.x, PATH_ANGLE_RANGE, points)?;
    crate::output::create_dir(out)?;
    let mut files = write_eval_batch(&gan, out)?;
    let mut t = Table::new([
        "alpha",
        "cosine",
        "field_norm",
        "from_step",
        "to_step",
        "batch",
        "seed",
    ]);
    for p in &pts {
        t.push(vec![
            num(p.alpha),
            num(p.cosine),
            num(p.field_norm),
            from.to_string(),
            to.to_string(),
            batch.to_string(),
            seed.to_string(),
        ]);
    }
    let path = out.join("path_angle.csv");
    t.write(&path)?;
    files.push(path);
    files.extend(super::spectra_figures::path_angle_figures(
        &pts,
        (from, to),
        out,
    )?);
    Ok((pts, files))
}
