//! The figures and `report.md` of a `redqueen train` folder, drawn from its files alone
//! (so `redqueen report DIR` redraws them without training again):
//! * `losses`: L_D and L_G against step; `d_outputs`: mean D on real and on fake samples;
//! * `grad_norms`: ‖∇_θ L_G‖ and ‖∇_ψ L_D‖ (log scale);
//! * `coverage` (targets with modes): modes covered and the high-quality fraction;
//!   `distance`: W1, KL and JS to the target (1-D) or the energy distance (2-D);
//! * `samples_final`: the final samples over the target (1-D: a histogram with the
//!   target density; 2-D: a scatter over the modes on the final discriminator surface);
//! * `frames/surface_NNNNN` and `surface.gif` (2-D, with snapshots): D and the samples at
//!   every snapshot step.
//!
//! Every figure is a PNG with an SVG beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::datasets::DataSampler;
use crate::error::{Error, Result};
use crate::gan::TrainConfig;
use crate::neural_study::outputs::{NumTable, column, read_csv};
use crate::plot::{self, Histogram, LinePlot, Series, SurfaceFrame};

/// Frames of the surface animation per second.
const GIF_DELAY_MS: u32 = 400;
/// Histogram bins of the final 1-D samples.
const HIST_BINS: usize = 60;

/// Whether `dir` holds a training run (its `config.json` is the trainer's).
#[must_use]
pub fn is_train_folder(dir: &Path) -> bool {
    read_json(&dir.join("config.json"))
        .is_ok_and(|v| v.get("config").is_some() && v.get("update_order").is_some())
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::file(path, format!("not valid JSON: {e}")))
}

/// The training configuration recorded in `dir/config.json`.
///
/// # Errors
/// [`Error::File`] if it is missing or not a training configuration.
pub fn recorded_config(dir: &Path) -> Result<TrainConfig> {
    let path = dir.join("config.json");
    let v = read_json(&path)?;
    serde_json::from_value(v.get("config").cloned().unwrap_or_default())
        .map_err(|e| Error::file(&path, format!("not a training configuration: {e}")))
}

fn series(t: &NumTable, names: &[(&str, &str)]) -> Vec<Series> {
    let step = column(t, "step");
    names
        .iter()
        .map(|(name, label)| Series {
            label: (*label).to_string(),
            points: step
                .iter()
                .zip(column(t, name))
                .map(|(s, v)| (*s, v))
                .collect(),
        })
        .filter(|s| s.points.iter().any(|p| p.1.is_finite()))
        .collect()
}

fn has(t: &NumTable, name: &str) -> bool {
    t.0.iter().any(|h| h == name)
}

/// The samples of a `samples_*.csv` file as points (the first two columns).
fn points(path: &Path) -> Result<Vec<(f64, f64)>> {
    let t = read_csv(path)?;
    let (x0, x1) = (column(&t, "x0"), column(&t, "x1"));
    Ok(x0.into_iter().zip(x1).collect())
}

/// A recorded D surface (`x0, x1, d` on a square grid of cell centres) as a frame.
fn surface(
    path: &Path,
    title: String,
    samples: Vec<(f64, f64)>,
    data: &DataSampler,
    sigmoid: bool,
) -> Result<SurfaceFrame> {
    let t = read_csv(path)?;
    let (x0, x1, d) = (column(&t, "x0"), column(&t, "x1"), column(&t, "d"));
    let n = (x0.len() as f64).sqrt().round() as usize;
    if n < 2 || n * n != x0.len() {
        return Err(Error::file(path, "is not a square grid of x0, x1, d"));
    }
    // Cell centres span [−e + h/2, e − h/2] with h = 2e/n.
    let hi = x0
        .iter()
        .chain(&x1)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let extent = hi * n as f64 / (n as f64 - 1.0);
    let range = if sigmoid {
        (0.0, 1.0)
    } else {
        let lo = d
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
        let hi = d
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() {
            (lo, hi.max(lo + 1e-9))
        } else {
            (0.0, 1.0)
        }
    };
    Ok(SurfaceFrame {
        title,
        x_range: (-extent, extent),
        y_range: (-extent, extent),
        nx: n,
        ny: n,
        values: d,
        value_range: range,
        points: samples,
        modes: data
            .modes()
            .map(|m| m.means.iter().map(|v| (v[0], v[1])).collect())
            .unwrap_or_default(),
        ..SurfaceFrame::default()
    })
}

/// The histogram window: the target's sample range padded by a quarter on each side
/// (generated samples outside it are counted in the figure's note).
fn span(reference: &[f64]) -> (f64, f64) {
    let lo = reference.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = reference.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w = (hi - lo).max(1e-9);
    (lo - 0.25 * w, hi + 0.25 * w)
}

/// The step of a `<prefix><k>.csv` file name.
fn step_of(name: &str, prefix: &str) -> Option<usize> {
    name.strip_prefix(prefix)?
        .strip_suffix(".csv")?
        .parse()
        .ok()
}

/// Draws every figure of the training run in `dir` and writes `dir/report.md`; returns
/// the figures written (PNG paths).
///
/// # Errors
/// [`Error::File`] for a missing or unreadable file of the run.
pub fn render(dir: &Path) -> Result<Vec<PathBuf>> {
    let cfg = recorded_config(dir)?;
    let data = cfg.dataset.build()?;
    let log = read_csv(&dir.join("train_log.csv"))?;
    let summary = read_json(&dir.join("summary.json")).ok();
    let mut figs: Vec<(String, PathBuf)> = Vec::new();
    let mut line = |stem: &str, caption: &str, l: LinePlot| -> Result<()> {
        if l.series.is_empty() {
            return Ok(());
        }
        plot::line_plot(&dir.join(stem), &l)?;
        figs.push((caption.to_string(), dir.join(format!("{stem}.png"))));
        Ok(())
    };
    let plain = |title: &str, y: &str, s: Vec<Series>| LinePlot {
        title: title.into(),
        x_label: "step".into(),
        y_label: y.into(),
        series: s,
        ..LinePlot::default()
    };
    // A GAN's 1-D log has a `kl` column too (KL to the target): the ELBO figure is the
    // VAE's only.
    if !cfg.model.is_gan() {
        line(
            "elbo",
            "ELBO and its terms (VAE)",
            plain(
                "ELBO = E_q[ln p(x|z)] − KL(q(z|x) ‖ p(z)) on the batch",
                "nats per sample",
                series(
                    &log,
                    &[
                        ("elbo", "ELBO"),
                        ("recon_loglik", "E_q[ln p(x|z)]"),
                        ("kl", "KL(q ‖ p)"),
                    ],
                ),
            ),
        )?;
    }
    line(
        "losses",
        "Losses",
        plain(
            "Losses of the two players",
            "loss",
            series(&log, &[("loss_d", "L_D"), ("loss_g", "L_G")]),
        ),
    )?;
    let sigmoid = cfg.loss.uses_sigmoid();
    line(
        "d_outputs",
        "D on real and fake samples",
        plain(
            if sigmoid {
                "Mean D on real and on generated samples"
            } else {
                "Mean critic value on real and on generated samples"
            },
            if sigmoid {
                "D = σ(logit)"
            } else {
                "critic value"
            },
            series(&log, &[("d_real", "real"), ("d_fake", "generated")]),
        ),
    )?;
    line(
        "grad_norms",
        "Gradient norms",
        LinePlot {
            log_y: true,
            ..plain(
                "Gradient norms (log scale)",
                "‖∇L‖",
                series(
                    &log,
                    &[
                        ("grad_norm_g", "‖∇_θ L_G‖"),
                        ("grad_norm_d", "‖∇_ψ L_D‖"),
                        ("grad_norm", "‖∇ ELBO‖ (VAE)"),
                    ],
                ),
            )
        },
    )?;
    if has(&log, "modes_covered") {
        let k = data.modes().map_or(0, |m| m.means.len());
        line(
            "coverage",
            "Modes covered",
            LinePlot {
                hlines: vec![(k as f64, format!("all {k} modes"))],
                ..plain(
                    "Modes covered (≥ 5 % of samples within 3σ)",
                    "modes covered",
                    series(&log, &[("modes_covered", "modes covered")]),
                )
            },
        )?;
        line(
            "quality",
            "High-quality fraction",
            plain(
                "Share of samples within 3σ of some mode",
                "high-quality fraction",
                series(&log, &[("high_quality", "high quality")]),
            ),
        )?;
    }
    if has(&log, "w1") {
        line(
            "distance",
            "Distances to the target",
            plain(
                "Distance of the samples to the target",
                "distance",
                series(
                    &log,
                    &[("w1", "W1"), ("kl", "KL(target ‖ model)"), ("js", "JS")],
                ),
            ),
        )?;
    } else if has(&log, "energy_distance") {
        line(
            "distance",
            "Energy distance to the target",
            plain(
                "Energy distance of the samples to the target",
                "energy distance",
                series(&log, &[("energy_distance", "energy distance")]),
            ),
        )?;
    }
    let last_step = column(&log, "step").last().copied().unwrap_or(0.0);
    let final_samples = dir.join("samples_final.csv");
    if data.dim() == 1 && final_samples.exists() {
        let t = read_csv(&final_samples)?;
        let x = column(&t, "x0");
        let reference: Vec<f64> = data
            .sample::<f64>(&mut crate::linalg::rng(cfg.seed, 2), 2000)
            .iter()
            .copied()
            .collect();
        let span = span(&reference);
        let density = (0..400)
            .filter_map(|i| {
                let v = span.0 + (span.1 - span.0) * i as f64 / 399.0;
                cfg.dataset.mixture_density(v).map(|p| (v, p))
            })
            .collect();
        let stem = dir.join("samples_final");
        plot::histogram(
            &stem,
            &Histogram {
                title: format!("Final samples (step {last_step}) and the target density"),
                x_label: "x".into(),
                samples: x,
                bins: HIST_BINS,
                range: span,
                density,
            },
        )?;
        figs.push(("Final samples".into(), dir.join("samples_final.png")));
    } else if data.dim() == 2 && dir.join("d_surface_final.csv").exists() {
        let frame = surface(
            &dir.join("d_surface_final.csv"),
            format!("Final samples and D (step {last_step}); crosses: modes"),
            points(&final_samples)?,
            &data,
            sigmoid,
        )?;
        plot::surface(&dir.join("samples_final"), &frame)?;
        figs.push(("Final samples over D".into(), dir.join("samples_final.png")));
    } else if data.dim() == 2 && dir.join("sample_density_final.csv").exists() {
        let mut frame = surface(
            &dir.join("sample_density_final.csv"),
            format!("Final decoded samples (decoder means, step {last_step}); crosses: modes"),
            points(&final_samples)?,
            &data,
            true,
        )?;
        frame.colorbar = "density (÷ max)".into();
        frame.points_label = "decoded samples".into();
        plot::surface(&dir.join("samples_final"), &frame)?;
        figs.push((
            "Final decoded samples over their density".into(),
            dir.join("samples_final.png"),
        ));
    }
    // Snapshot frames of the D surface.
    let mut steps: Vec<usize> = std::fs::read_dir(dir)
        .map_err(|e| Error::file(dir, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| step_of(&e.file_name().to_string_lossy(), "d_surface_step"))
        .collect();
    steps.sort_unstable();
    if !steps.is_empty() {
        let frames = steps
            .iter()
            .map(|k| {
                surface(
                    &dir.join(format!("d_surface_step{k:07}.csv")),
                    format!("D and samples at step {k}"),
                    points(&dir.join(format!("samples_step{k:07}.csv")))?,
                    &data,
                    sigmoid,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let fdir = dir.join("frames");
        crate::output::create_dir(&fdir)?;
        plot::surface_frames(
            &fdir.join("surface"),
            &frames,
            Some(&dir.join("surface.gif")),
            GIF_DELAY_MS,
        )?;
        figs.push((
            "D surface over training (animation)".into(),
            dir.join("surface.gif"),
        ));
    }
    let mut md = String::new();
    writeln!(md, "# Training run `{}`\n", dir.display()).ok();
    if let Some(s) = &summary {
        writeln!(
            md,
            "Status: **{}** ({}); {} steps completed; update order: {}.\n",
            s["status"].as_str().unwrap_or("?"),
            s["stop_reason"].as_str().unwrap_or("?"),
            s["steps_completed"],
            s["update_order"].as_str().unwrap_or("?")
        )
        .ok();
        if let Some(m) = s.get("final_metrics").and_then(|m| m.as_object()) {
            writeln!(md, "| final metric | value |\n|---|---|").ok();
            for (k, v) in m {
                if !v.is_null() && !v.as_array().is_some_and(Vec::is_empty) {
                    writeln!(md, "| {k} | {v} |").ok();
                }
            }
            writeln!(md).ok();
        }
    } else {
        writeln!(md, "No summary.json: the run did not finish writing.\n").ok();
    }
    writeln!(
        md,
        "Seed {}; configuration in `config.json`; log in `train_log.csv`.\n",
        cfg.seed
    )
    .ok();
    for (caption, path) in &figs {
        let name = path.strip_prefix(dir).unwrap_or(path).display();
        writeln!(md, "![{caption}]({name})\n").ok();
    }
    crate::output::write_atomic(&dir.join("report.md"), md.as_bytes())?;
    Ok(figs.into_iter().map(|f| f.1).collect())
}
