//! `spectrum --run DIR` (the spectra of a trained neural GAN along its checkpoints) and
//! `path-angle` (Berard et al. 2020's path-angle between two checkpoints).

use std::path::PathBuf;

use clap::Args;

use redqueen::analysis::point_spectra::{DEFAULT_DENSE_MAX, DEFAULT_HUTCHINSON, SpectraOptions};
use redqueen::error::{Error, Result};
use redqueen::gan::checkpoint::load_run;
use redqueen::gan::spectra::{DEFAULT_EVAL_BATCH, run_path_angle, run_spectra};
use redqueen::gan::spectra_figures::spectra_figures;
use redqueen::linalg::Which;

use super::args::parsed;

/// The options of `spectrum --run`.
#[derive(Debug, Args)]
pub struct RunSpectrumArgs {
    /// A training run's output folder with `checkpoints/` (trained with checkpoint_every > 0).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Only this checkpointed step (default: every checkpoint).
    #[arg(long)]
    pub step: Option<usize>,
    /// Eigenvalues of J (and of the update map) by Krylov–Schur [20].
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// Krylov selection: lm (largest |λ|), lr (largest Re λ) or li (largest |Im λ|) [li].
    #[arg(long, value_parser = parsed::<Which>, default_value = "li")]
    pub which: Which,
    /// Every eigenvalue by the dense solver (n ≤ --dense-max).
    #[arg(long)]
    pub dense: bool,
    /// Largest n for --dense.
    #[arg(long, default_value_t = DEFAULT_DENSE_MAX)]
    pub dense_max: usize,
    /// Evaluation batch size (real samples and latent codes).
    #[arg(long, default_value_t = DEFAULT_EVAL_BATCH)]
    pub batch: usize,
    /// Seed of the evaluation batch, the Krylov start vectors and the Hutchinson probes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Hutchinson samples for the rotation index without --dense.
    #[arg(long, default_value_t = DEFAULT_HUTCHINSON)]
    pub hutchinson: usize,
    /// Output folder [<run>/spectra].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `spectrum --run`.
pub fn run_spectrum(a: &RunSpectrumArgs, json: bool) -> Result<()> {
    let dir = a
        .run
        .as_ref()
        .ok_or_else(|| Error::param("--run", "give a run folder"))?;
    if a.hutchinson < 2 {
        return Err(Error::param("--hutchinson", "must be at least 2"));
    }
    let run = load_run(dir)?;
    let opts = SpectraOptions {
        k: a.k,
        which: a.which,
        dense: a.dense,
        dense_max: a.dense_max,
        seed: a.seed,
        hutchinson: a.hutchinson,
    };
    let out = a.out.clone().unwrap_or_else(|| dir.join("spectra"));
    let steps: Vec<usize> = a.step.into_iter().collect();
    let r = run_spectra(&run, &steps, a.batch, &opts, &out)?;
    let figs = spectra_figures(&r, &out)?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&r).map_err(|e| Error::param("--json", e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "run {}: n = {}, batch {} (seed {}), {} products",
        dir.display(),
        r.steps.first().map_or(0, |s| s.spectra.n),
        r.batch,
        r.seed,
        r.jvp_method.name()
    );
    println!(
        "{:>8} {:>11} {:>11} {:>11} {:>7} {:>17} {:>10} {:>11} {:>11} {:>11} {:>11}  verdict",
        "step",
        "‖v‖",
        "max Re λ",
        "max |Im λ|",
        "rot",
        "rotation index",
        "ρ(∂F)",
        "min H_G",
        "max H_G",
        "min H_D",
        "max H_D"
    );
    for s in &r.steps {
        let p = &s.spectra;
        println!(
            "{:>8} {:>11.3e} {:>11.3e} {:>11.3e} {:>7.3} {:>5.3} [{:.3},{:.3}] {:>10.6} {:>11.3e} {:>11.3e} {:>11.3e} {:>11.3e}  {}{}",
            s.step,
            p.field_norm,
            p.max_re,
            p.max_abs_im,
            p.share_rotational,
            p.rotation.value,
            p.rotation.lo,
            p.rotation.hi,
            p.map_rho,
            p.hessian_g.0,
            p.hessian_g.1,
            p.hessian_d.0,
            p.hessian_d.1,
            p.verdict.as_str(),
            if p.converged {
                ""
            } else {
                " (some values unconverged)"
            }
        );
    }
    if let Some(s) = r.steps.first() {
        println!(
            "update map: {} ({}); stationary iff ‖v‖ ≤ {} · ‖v(x₀)‖ = {:.3e}",
            s.spectra.map_class,
            s.spectra.map_method,
            redqueen::analysis::point_spectra::STATIONARY_REL,
            redqueen::analysis::point_spectra::STATIONARY_REL * s.spectra.reference_field_norm
        );
    }
    println!(
        "wrote {} files and {} figure files to {}",
        r.files.len(),
        figs.len(),
        out.display()
    );
    Ok(())
}

/// Arguments of `path-angle`.
#[derive(Debug, Args)]
pub struct PathAngleArgs {
    /// A training run's output folder with `checkpoints/`.
    #[arg(long)]
    run: PathBuf,
    /// Step of x_A (α = 0).
    #[arg(long)]
    from_step: usize,
    /// Step of x_B (α = 1).
    #[arg(long)]
    to_step: usize,
    /// Points along α ∈ [−0.5, 1.5].
    #[arg(long, default_value_t = 41)]
    points: usize,
    /// Evaluation batch size.
    #[arg(long, default_value_t = DEFAULT_EVAL_BATCH)]
    batch: usize,
    /// Seed of the evaluation batch.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder [<run>/path-angle-A-B].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `path-angle`.
pub fn path_angle(a: &PathAngleArgs) -> Result<()> {
    let run = load_run(&a.run)?;
    let out = a.out.clone().unwrap_or_else(|| {
        a.run
            .join(format!("path-angle-{}-{}", a.from_step, a.to_step))
    });
    let (pts, files) = run_path_angle(
        &run,
        (a.from_step, a.to_step),
        a.points,
        a.batch,
        a.seed,
        &out,
    )?;
    println!("{:>8} {:>10} {:>12}", "alpha", "cosine", "‖v‖");
    for p in &pts {
        println!(
            "{:>8.3} {:>10.5} {:>12.5e}",
            p.alpha, p.cosine, p.field_norm
        );
    }
    println!("wrote {} files to {}", files.len(), out.display());
    Ok(())
}
