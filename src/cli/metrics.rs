//! `metrics`: score a file of generated samples against a file of target samples with
//! every standard metric (and PacGAN's mode measures with `--modes`).

use std::path::PathBuf;

use clap::Args;

use redqueen::error::Result;
use redqueen::metrics::modes::ModeSource;
use redqueen::metrics::{MetricOptions, score_files};

/// Arguments of `metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// The generated samples: a CSV of points (one row per point; a header row is allowed).
    #[arg(long)]
    samples: PathBuf,
    /// The target samples, in the same format.
    #[arg(long)]
    target: PathBuf,
    /// The mixture's modes for PacGAN's measures (modes captured, high-quality share,
    /// reverse KL): a data set by name (ring8, grid25, ring, grid, two_points,
    /// four_points), or a CSV of mode means with --std.
    #[arg(long)]
    modes: Option<String>,
    /// The std of every mode, with --modes FILE.csv.
    #[arg(long, allow_negative_numbers = true)]
    std: Option<f64>,
    /// k of the k-NN radii (precision, recall, density, coverage).
    #[arg(long, default_value_t = MetricOptions::default().k, allow_negative_numbers = true)]
    k: usize,
    /// Random directions of the sliced Wasserstein distance.
    #[arg(long, default_value_t = MetricOptions::default().projections, allow_negative_numbers = true)]
    projections: usize,
    /// Seed of those directions.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `metrics`.
pub fn metrics(a: &MetricsArgs) -> Result<()> {
    let modes = a
        .modes
        .as_deref()
        .map(|m| ModeSource::from_arg(m, a.std))
        .transpose()?;
    if a.modes.is_none() && a.std.is_some() {
        return Err(redqueen::error::Error::param(
            "--std",
            "goes with --modes FILE.csv (the std of its modes)",
        ));
    }
    let opts = MetricOptions {
        k: a.k,
        projections: a.projections,
        seed: a.seed,
        ..MetricOptions::default()
    };
    let report = score_files(&a.samples, &a.target, modes.as_ref(), &opts)?;
    if a.json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
        return Ok(());
    }
    println!(
        "{} generated points against {} target points in {} dimensions (k = {}, {} projections, seed {}):",
        report.n_samples, report.n_target, report.dim, report.k, opts.projections, opts.seed
    );
    for (name, v) in report.columns() {
        if v.is_finite() {
            println!("  {name:<15} {v:.6}");
        }
    }
    if report.modes.is_none() {
        println!("  (give --modes for PacGAN's modes captured, high-quality share and reverse KL)");
    }
    Ok(())
}
