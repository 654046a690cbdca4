//! D-surface frames of a 2-D block: D on the probe grid and a generator batch at the
//! frame steps of a setting's first seed (written by the `training` module), rendered as
//! PNG frames and an animated GIF (the gan-vis pictures), and linked from the report.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::RunSpec;
use super::outputs::{column, read_csv};
use super::render::Ctx;
use super::training::{EXTENT, FRAME_SAMPLES, GRID};
use crate::error::Result;
use crate::export::slug;
use crate::gan::train::Model;
use crate::plot::{self, SurfaceFrame};

/// Renders the frames of run `r` (if it recorded any) under
/// `figures/…/frames/<stem_name>_NNNNN.png` and `<stem_name>_surface.gif`; returns the
/// GIF's path.
fn frames_of(ctx: &Ctx<'_>, r: &RunSpec, stem_name: &str, title: &str) -> Result<Option<PathBuf>> {
    let fp = r.dir.join("frames.csv");
    if !fp.exists() {
        return Ok(None);
    }
    let f = read_csv(&fp)?;
    let s = read_csv(&r.dir.join("frame_samples.csv"))?;
    let (fs, fd) = (column(&f, "step"), column(&f, "d"));
    let (ss, sx, sy) = (column(&s, "step"), column(&s, "x0"), column(&s, "x1"));
    let mut steps: Vec<f64> = fs.clone();
    steps.dedup();
    let data = r.config.data();
    let modes: Vec<(f64, f64)> = data
        .modes()
        .map(|m| m.means.iter().map(|v| (v[0], v[1])).collect())
        .unwrap_or_default();
    // D in (0, 1): one fixed colour scale. A WGAN critic's values drift by orders of
    // magnitude over training, so each of its frames gets its own range (in the title).
    // A VAE's frames hold the density of its decoded samples (scaled to max 1).
    let vae = r.config.model == Model::Vae;
    let sigmoid = vae || r.config.loss.uses_sigmoid();
    let range_of = |st: f64| {
        if sigmoid {
            return (0.0, 1.0);
        }
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (_, v) in fs
            .iter()
            .zip(&fd)
            .filter(|(s, v)| **s == st && v.is_finite())
        {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
        if lo.is_finite() {
            (lo, hi.max(lo + 1e-9))
        } else {
            (0.0, 1.0)
        }
    };
    let frames: Vec<SurfaceFrame> = steps
        .iter()
        .map(|st| SurfaceFrame {
            title: format!(
                "{title}, step {st}{}",
                if vae {
                    " (decoded-sample density)"
                } else if sigmoid {
                    ""
                } else {
                    " (critic value)"
                }
            ),
            x_range: (-EXTENT, EXTENT),
            y_range: (-EXTENT, EXTENT),
            nx: GRID,
            ny: GRID,
            values: fs
                .iter()
                .zip(&fd)
                .filter(|(s, _)| *s == st)
                .map(|(_, d)| *d)
                .collect(),
            value_range: range_of(*st),
            points: ss
                .iter()
                .zip(sx.iter().zip(&sy))
                .filter(|(s, _)| *s == st)
                .map(|(_, (x, y))| (*x, *y))
                .collect(),
            modes: modes.clone(),
            colorbar: if vae {
                "density (÷ max)".into()
            } else {
                String::new()
            },
            points_label: if vae {
                "decoded samples".into()
            } else {
                String::new()
            },
        })
        .collect();
    let dir = ctx.figs.join("frames").join(stem_name);
    let gif = ctx.figs.join(format!("{stem_name}_surface.gif"));
    plot::surface_frames(&dir, &frames, Some(&gif), 400)?;
    Ok(Some(gif))
}

/// The frames section of setting `s` of a 2-D block: the animation linked, the middle
/// and last frames inline.
///
/// # Errors
/// File and plotting errors.
pub fn frames_report(ctx: &Ctx<'_>, report: &mut String, s: usize) -> Result<()> {
    let b = &ctx.r.block;
    let label = ctx.label(s);
    let sl = slug(label);
    let rs = ctx.runs_of(s);
    let Some(r0) = rs.first() else { return Ok(()) };
    if let Some(gif) = frames_of(ctx, r0, &sl, label)? {
        let steps = super::frame_steps(b.steps, b.frames);
        let n = steps.len();
        let frame = |i: usize| ctx.figs.join("frames").join(format!("{sl}_{i:05}.png"));
        let (mid, last) = (frame(n / 2), frame(n - 1));
        if r0.config.model == Model::Vae {
            writeln!(report, "Decoded samples ({GRID} × {GRID} grid over [−{EXTENT}, {EXTENT}]²; colour: density of the decoded evaluation samples, Gaussian kernel of width {}, scaled to its maximum; crosses: mode means; dots: {FRAME_SAMPLES} decoded samples, the decoder's means), seed index 0, frames at steps {steps:?}: [animation]({}), middle and last frame:\n", crate::gan::train::vae_run::DENSITY_BANDWIDTH, ctx.link(&gif)).ok();
        } else {
            writeln!(report, "D surface ({GRID} × {GRID} grid over [−{EXTENT}, {EXTENT}]², crosses: mode means, dots: {FRAME_SAMPLES} generator samples), seed index 0, frames at steps {steps:?}: [animation]({}), middle and last frame:\n", ctx.link(&gif)).ok();
        }
        writeln!(
            report,
            "![{label} middle frame]({}) ![{label} last frame]({})\n",
            ctx.link(&mid),
            ctx.link(&last)
        )
        .ok();
    }
    Ok(())
}
