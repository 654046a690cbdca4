//! The figures of a 1-D mixture block: W1 over training (mean over seeds), and for each
//! setting's first seeds the training dynamics, the final samples against the target
//! density, and the generator's (mean, spread) path in phase space.

use super::super::outputs::{RunLog, column, read_csv};
use super::super::render::{Ctx, fig_line};
use super::super::stats::mean_ci;
use super::MixRun;
use super::target::{mixture_density, mixture_moments};
use crate::error::Result;
use crate::export::slug;
use crate::plot::{self, Histogram, LinePlot, Path2, PhasePortrait, Series};

/// Centred moving-average window (log points) of the phase-figure traces.
pub const SMOOTH: usize = 9;
/// Seeds drawn in the phase figures.
pub const PHASE_SEEDS: usize = 3;

/// Centred moving average over `w` points (shorter at the ends); keeps the first and
/// last points exact so the start and end markers sit on the data.
#[must_use]
pub fn smooth(x: &[f64], w: usize) -> Vec<f64> {
    let h = w / 2;
    let n = x.len();
    (0..n)
        .map(|i| {
            let h = h.min(i).min(n - 1 - i);
            let v = &x[i - h..=i + h];
            v.iter().sum::<f64>() / v.len() as f64
        })
        .collect()
}

/// Mean W1 over the seeds of each setting at each log step (up to the shortest log).
fn mean_w1_series(ctx: &Ctx<'_>, runs: &[MixRun]) -> Vec<Series> {
    (0..ctx.r.block.settings.len())
        .map(|s| {
            let rs: Vec<&MixRun> = runs.iter().filter(|m| m.setting == s).collect();
            let len = rs.iter().map(|m| m.steps.len()).min().unwrap_or(0);
            Series {
                label: ctx.label(s).to_string(),
                points: (0..len)
                    .map(|i| {
                        let v: Vec<f64> = rs.iter().map(|m| m.w1[i]).collect();
                        (rs[0].steps[i], mean_ci(&v).mean)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Draws the block's figures and links them from the report.
pub(super) fn render(ctx: &Ctx<'_>, runs: &[MixRun], report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    ctx.make_fig_dir()?;
    let stem = ctx.figs.join("w1_vs_step");
    plot::line_plot(
        &stem,
        &LinePlot {
            title: format!("{}: W1 to the target, mean over {} seeds", b.name, b.seeds),
            x_label: "training step".into(),
            y_label: "W1 (generator vs target samples)".into(),
            log_y: true,
            series: mean_w1_series(ctx, runs),
            ..Default::default()
        },
    )?;
    fig_line(report, ctx, "W1 over training, mean over seeds", &stem);
    for s in 0..b.settings.len() {
        setting_figures(ctx, s, report)?;
    }
    Ok(())
}

/// Dynamics, histogram and phase figures of setting `s`.
fn setting_figures(ctx: &Ctx<'_>, s: usize, report: &mut String) -> Result<()> {
    let label = ctx.label(s);
    let sl = slug(label);
    let rs = ctx.runs_of(s);
    let Some(r0) = rs.first() else { return Ok(()) };
    let d0 = RunLog::load(r0)?;
    let st = d0.col("step");
    let mk = |name: &str, lab: &str| Series {
        label: lab.into(),
        points: st.iter().copied().zip(d0.col(name)).collect(),
    };
    let stem = ctx.figs.join(format!("{sl}_dynamics"));
    plot::line_plot(
        &stem,
        &LinePlot {
            title: format!("{label}: training dynamics (seed index 0)"),
            x_label: "training step".into(),
            y_label: "loss / mean D output".into(),
            series: vec![
                mk("loss_d", "D loss"),
                mk("loss_g", "G loss (non-saturating)"),
                mk("d_real", "mean D(real)"),
                mk("d_fake", "mean D(fake)"),
            ],
            hlines: vec![(0.5, "D = 1/2".into())],
            ..Default::default()
        },
    )?;
    fig_line(report, ctx, &format!("{label}: training dynamics"), &stem);
    let samples = read_csv(&r0.dir.join("samples_final.csv"))?;
    let stem = ctx.figs.join(format!("{sl}_hist"));
    plot::histogram(
        &stem,
        &Histogram {
            title: format!("{label}: final generator samples vs target (seed index 0)"),
            x_label: "x".into(),
            samples: column(&samples, "x0"),
            bins: 60,
            range: (-5.0, 5.0),
            density: (0..=400)
                .map(|i| {
                    let x = -5.0 + 10.0 * f64::from(i) / 400.0;
                    (x, mixture_density(&ctx.r.configs[s].dataset, x))
                })
                .collect(),
        },
    )?;
    fig_line(report, ctx, &format!("{label}: sample histogram"), &stem);
    // The window holds every point (the plot layer clips segments that leave it).
    let (tm, ts) = mixture_moments(&ctx.r.configs[0].dataset);
    let mut paths = Vec::new();
    let (mut x0, mut x1, mut y1) = (tm - 2.5, tm + 2.5, ts * 1.2);
    for r in rs.iter().take(PHASE_SEEDS) {
        let tr = read_csv(&r.dir.join("trace.csv"))?;
        let pts: Vec<(f64, f64)> = smooth(&column(&tr, "g_mean"), SMOOTH)
            .into_iter()
            .zip(smooth(&column(&tr, "g_std"), SMOOTH))
            .collect();
        for (m, sd) in pts.iter().filter(|(m, s)| m.is_finite() && s.is_finite()) {
            x0 = x0.min(*m);
            x1 = x1.max(*m);
            y1 = y1.max(*sd);
        }
        paths.push(Path2 {
            label: format!("seed index {}", r.seed_index),
            points: pts,
        });
    }
    let pad = 0.05 * (x1 - x0);
    let stem = ctx.figs.join(format!("{sl}_phase"));
    plot::phase_portrait(
        &stem,
        &PhasePortrait {
            title: format!("{label}: generator mean vs spread ({SMOOTH}-point moving average)"),
            x_label: "mean of G samples".into(),
            y_label: "std of G samples".into(),
            x_range: (x0 - pad, x1 + pad),
            y_range: (0.0, y1 * 1.05),
            arrows: vec![],
            trajectories: paths,
            equilibrium: Some((tm, ts)),
            note: Some(format!(
                "star: target (mean {tm:.2}, std {ts:.2}); one mode: std 0.5, mean ±2"
            )),
        },
    )?;
    fig_line(report, ctx, &format!("{label}: phase space"), &stem);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_keeps_the_ends_and_averages_the_middle() {
        let x = [0.0, 10.0, 2.0, 4.0, 6.0, 8.0, 100.0];
        let y = smooth(&x, 3);
        assert_eq!((y[0], y[6]), (0.0, 100.0));
        assert_eq!(y[1], 4.0);
        assert_eq!(y[3], 4.0);
        // A window wider than the series shrinks symmetrically at each point.
        assert_eq!(smooth(&x, 99)[3], x.iter().sum::<f64>() / 7.0);
        assert!(smooth(&[], 9).is_empty());
    }
}
