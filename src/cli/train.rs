//! `train`: one neural GAN from a TOML configuration.

use std::path::PathBuf;

use clap::Args;

use redqueen::error::{Error, Result};
use redqueen::gan::Recording;

/// Arguments of `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The configuration file (TOML; every key is optional and defaults to the gan-vis setup).
    #[arg(long)]
    config: PathBuf,
    /// Output directory (default: data/train/<config file stem>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override the number of steps.
    #[arg(long, allow_negative_numbers = true)]
    steps: Option<usize>,
    /// Override the seed.
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Write no figures (they can be drawn later with `redqueen report DIR`).
    #[arg(long)]
    no_figures: bool,
}

/// Runs `train`.
pub fn train(a: &TrainArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.config).map_err(|e| Error::file(&a.config, e))?;
    let mut cfg = redqueen::gan::TrainConfig::from_toml(&text, &a.config)?;
    if let Some(s) = a.steps {
        cfg.steps = s;
    }
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    let cfg = cfg.validated().map_err(|e| Error::config(&a.config, e))?;
    let out = a.out.clone().unwrap_or_else(|| {
        let stem = a
            .config
            .file_stem()
            .map_or("run".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("data/train").join(stem)
    });
    let report = redqueen::gan::train(
        &cfg,
        &Recording {
            out_dir: Some(&out),
            progress: true,
            probe: None,
            surfaces: true,
        },
    )?;
    let m = &report.final_metrics;
    let coverage = match (m.modes_covered, m.high_quality) {
        (Some(c), Some(h)) => format!(
            "{c}/{} modes covered, high-quality fraction {h:.3}",
            m.per_mode.len()
        ),
        _ if *m == redqueen::gan::EvalMetrics::default() => "no sample metrics were logged".into(),
        _ => "the target has no modes".into(),
    };
    println!(
        "{} ({} steps, {:.0} steps/s, update order {}): {coverage}",
        report.stop_reason, report.steps_completed, report.steps_per_s, report.update_order
    );
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    if !a.no_figures {
        let figures = redqueen::report::train::render(&out)?;
        println!(
            "figures: {} in {} (report.md links them)",
            figures.len(),
            out.display()
        );
    }
    match (report.status, redqueen::interrupt::requested()) {
        (redqueen::gan::RunStatus::Interrupted, Some(signal)) => Err(Error::Interrupted {
            signal,
            what: format!(
                "stopped after step {}; the outputs in {} hold the steps done so far and \
                 summary.json says \"interrupted\"",
                report.steps_completed,
                out.display()
            ),
        }),
        _ => Ok(()),
    }
}
