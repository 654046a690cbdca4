//! Rendering the one-mode experiment: the tables `reduced_game.csv`,
//! `frozen_generator.csv` and `release.csv`, the report section (a)–(c) and its two
//! figures, from the summaries of `summary`.

use std::fmt::Write as _;

use super::super::outputs::column;
use super::super::render::{Ctx, INTERVAL_CUT_NOTE, fig_line};
use super::summary::{self, FrozenSetting, Reduced, ReleaseSetting};
use super::{OneModeSpec, normalised};
use crate::error::Result;
use crate::export::{Table, num};
use crate::plot::{self, LinePlot, Series};

/// `a, b, c` with each value at `digits` decimals.
fn list(v: &[f64], digits: usize) -> String {
    v.iter()
        .map(|x| format!("{x:.digits$}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The aggregation of a one-mode block.
pub(in super::super) fn aggregate(ctx: &Ctx<'_>, report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    let Some(spec) = &b.one_mode else {
        return Ok(());
    };
    ctx.make_fig_dir()?;
    writeln!(report, "## {}\n", b.name).ok();
    if !b.notes.trim().is_empty() {
        writeln!(report, "{}\n", b.notes.trim()).ok();
    }
    writeln!(report, "Seeds: {} ({} per setting, shared across settings). Intervals: 95 % Student-t over seeds. {INTERVAL_CUT_NOTE}\n", ctx.seed_list(), b.seeds).ok();
    let reduced = summary::reduced(spec)?;
    reduced_game(ctx, &reduced, report)?;
    let frozen = spec
        .weights
        .iter()
        .zip(&reduced)
        .enumerate()
        .map(|(wi, (w, a))| {
            FrozenSetting::load(ctx.runs, wi, w, &a.optimum.closed_form, spec.tolerance)
        })
        .collect::<Result<Vec<_>>>()?;
    frozen_generator(ctx, spec, &frozen, report)?;
    let nw = spec.weights.len();
    let release = spec
        .release_lrs
        .iter()
        .enumerate()
        .map(|(li, lr)| ReleaseSetting::load(ctx.runs, nw + li, *lr, spec.release_steps))
        .collect::<Result<Vec<_>>>()?;
    released(ctx, spec, &release, report)
}

/// (a) The reduced game's optimum per weight set.
fn reduced_game(ctx: &Ctx<'_>, reduced: &[Reduced], report: &mut String) -> Result<()> {
    let mut ta = Table::new([
        "weights",
        "mode",
        "weight",
        "generator_mass",
        "d_closed_form",
        "d_argmin",
        "abs_error",
        "escape_eigenvalue",
    ]);
    writeln!(
        report,
        "### (a) The reduced game: optimal D with the generator on m₁\n"
    )
    .ok();
    writeln!(report, "D*ᵢ = wᵢ/(wᵢ + gᵢ) (closed form) against the Brent argmin of −[wᵢ log D + gᵢ log(1 − D)] on [1e-9, 1 − 1e-9] (`redqueen::game::one_mode`). Escape eigenvalue of mode j: log(1 − D_on) − log(1 − Dⱼ) (positive: the replicator flow of the reduced game moves mass out of m₁ towards mode j). Its size is set by the bound 1 − 1e-9 on D at the empty modes (log 1e-9 ≈ −20.7); only its sign is meaningful: in the reduced game, with D at its optimum, the collapse is never a stable point.\n").ok();
    writeln!(report, "| weights (normalised) | D*(m₁) closed form | D*(m₁) argmin | D*(m₂), D*(m₃) argmin | max abs error | escape eigenvalues | collapse stable? |").ok();
    writeln!(report, "|---|---|---|---|---|---|---|").ok();
    for a in reduced {
        let (w, game, o) = (&a.weights, &a.game, &a.optimum);
        for i in 0..w.len() {
            ta.push(vec![
                format!("{:?}", normalised(w)),
                i.to_string(),
                num(game.weights[i]),
                num(o.generator[i]),
                num(o.closed_form[i]),
                num(o.discriminator[i]),
                num((o.discriminator[i] - o.closed_form[i]).abs()),
                if i == 0 {
                    String::new()
                } else {
                    num(o.escape_eigenvalues.get(i - 1).copied().unwrap_or(f64::NAN))
                },
            ]);
        }
        writeln!(
            report,
            "| {} | {:.6} | {:.6} | {} | {:.1e} | {} | {} |",
            list(&game.weights, 3),
            o.closed_form[0],
            o.discriminator[0],
            list(&o.discriminator[1..], 6),
            o.max_abs_error,
            list(&o.escape_eigenvalues, 3),
            if o.stable {
                "yes"
            } else {
                "no (mass flows out)"
            }
        )
        .ok();
    }
    let pa = ctx.data.join("reduced_game.csv");
    ta.write(&pa)?;
    writeln!(report, "\nData: `{}`.\n", ctx.rel_data(&pa)).ok();
    Ok(())
}

/// (b) D against the frozen generator per weight set.
fn frozen_generator(
    ctx: &Ctx<'_>,
    spec: &OneModeSpec,
    frozen: &[FrozenSetting],
    report: &mut String,
) -> Result<()> {
    writeln!(
        report,
        "### (b) Neural D against a frozen one-mode generator\n"
    )
    .ok();
    let c0 = &ctx.r.configs[0];
    let sigma = c0.dataset.mode_std().unwrap_or(f64::NAN);
    writeln!(report, "The generator is the fixed sampler m₁ + {sigma}·N(0, I) (the data's own mode-1 law, so D* = w₁/(w₁ + 1) everywhere on that mode). D is the gan-vis discriminator (2 → {:?} → 1, ReLU, Glorot-uniform), trained alone for {} steps, batch {}, optimiser {:?}. D at each mode mean is averaged over the last 10 % of the log (every {} steps) per seed.\n", c0.discriminator.hidden, spec.d_steps, c0.batch_size, c0.optimizer_d, spec.log_every).ok();
    writeln!(report, "Tolerance {} (fixed before the runs): a batch's own optimum at m₁ is n₁/(n₁ + B) with n₁ ~ Binomial(B = {}, w₁) the real samples on m₁, which for w₁ = 1/3 moves it by about ±{:.3} (one standard deviation) around 1/4; Adam averages over many batches, so the stationary error of D(m₁) should stay well inside that band, and the tolerance adds a margin for the ReLU network's smoothing over the 0.05-wide mode. An error above it is a systematic failure, not noise; the across-seed interval in the table shows the actual noise. For the empty modes D* = 1 is reached only as the logit → ∞, so there we ask D ≥ 1 − tolerance.\n", spec.tolerance, c0.batch_size, summary::batch_optimum_sd(c0.batch_size)).ok();
    writeln!(report, "| weights | predicted D(m₁) | measured D(m₁) | measured D(m₂) | measured D(m₃) | seeds within tolerance (all three modes) | verdict |").ok();
    writeln!(report, "|---|---|---|---|---|---|---|").ok();
    let mut tb = Table::new([
        "weights",
        "seed_index",
        "seed",
        "d_steps",
        "d_at_mode_0",
        "d_at_mode_1",
        "d_at_mode_2",
        "predicted_d_at_mode_0",
        "within_tolerance",
    ]);
    let mut series = Vec::new();
    for (wi, f) in frozen.iter().enumerate() {
        let nw = f.normalised();
        for r in &f.runs {
            tb.push(vec![
                format!("{nw:?}"),
                r.seed_index.to_string(),
                r.seed.to_string(),
                spec.d_steps.to_string(),
                num(r.d[0]),
                num(r.d[1]),
                num(r.d[2]),
                num(f.predicted[0]),
                r.within.to_string(),
            ]);
            if r.seed_index == 0 {
                let st = column(&r.log, "step");
                series.push(Series {
                    label: format!("D(m₁), w = ({:.2}, {:.2}, {:.2})", nw[0], nw[1], nw[2]),
                    points: st
                        .iter()
                        .copied()
                        .zip(column(&r.log, "d_at_mode_0"))
                        .collect(),
                });
                if wi == 0 {
                    let (a, c) = (column(&r.log, "d_at_mode_1"), column(&r.log, "d_at_mode_2"));
                    series.push(Series {
                        label: "mean of D(m₂), D(m₃), equal w".into(),
                        points: st
                            .iter()
                            .copied()
                            .zip(a.iter().zip(&c).map(|(x, y)| 0.5 * (x + y)))
                            .collect(),
                    });
                }
            }
        }
        let d = f.d();
        writeln!(
            report,
            "| {} | {:.4} | {} | {} | {} | {}/{} | {} |",
            list(&nw, 3),
            f.predicted[0],
            d[0].show(4),
            d[1].show(4),
            d[2].show(4),
            f.within(),
            f.runs.len(),
            if f.holds() { "**holds**" } else { "**fails**" }
        )
        .ok();
    }
    let pb = ctx.data.join("frozen_generator.csv");
    tb.write(&pb)?;
    writeln!(
        report,
        "\nData: `{}`; per-run logs `{}/runs/freeze_w*/seed*/d_log.csv`.\n",
        ctx.rel_data(&pb),
        ctx.r.block.name
    )
    .ok();
    let stem = ctx.figs.join("frozen_d_at_modes");
    plot::line_plot(
        &stem,
        &LinePlot {
            title: "D at the mode means, generator frozen on m₁ (seed index 0)".into(),
            x_label: "discriminator step".into(),
            y_label: "D(mode mean)".into(),
            series,
            hlines: frozen
                .iter()
                .map(|f| {
                    let p = f.predicted[0];
                    (p, format!("predicted D(m₁) = {p:.3}"))
                })
                .collect(),
            ..Default::default()
        },
    )?;
    fig_line(report, ctx, "D at the modes", &stem);
    Ok(())
}

/// (c) The release per learning rate.
fn released(
    ctx: &Ctx<'_>,
    spec: &OneModeSpec,
    release: &[ReleaseSetting],
    report: &mut String,
) -> Result<()> {
    let c0 = &ctx.r.configs[0];
    let sigma = c0.dataset.mode_std().unwrap_or(f64::NAN);
    writeln!(report, "### (c) Releasing the generator\n").ok();
    writeln!(report, "The gan-vis generator ({}-D uniform latent → {:?} → 2) is collapsed onto m₁ (output layer rescaled: sample std {sigma}, mean m₁), D is trained against it for {} steps as in (b), then both players train for {} steps (D step then G step, Adam at the given lr, β as D's). *Escaped* = fewer than half of 500 fixed-latent samples lie within 3σ of m₁ (checked every {} steps); the escape step is the first such check.\n", c0.latent.dim, c0.generator.hidden, spec.d_steps, spec.release_steps, spec.log_every).ok();
    writeln!(report, "| lr | escaped | escape step (mean ± CI over escaped seeds) | modes covered at the end | mass left on m₁ at the end | mass on m₂ + m₃ at the end |").ok();
    writeln!(report, "|---|---|---|---|---|---|").ok();
    let mut tc = Table::new([
        "lr",
        "seed_index",
        "seed",
        "release_steps",
        "escaped",
        "escape_step",
        "modes_covered_final",
        "mass_m1_final",
        "mass_m2_final",
        "mass_m3_final",
    ]);
    for rel in release {
        let lr = rel.lr;
        for r in &rel.runs {
            tc.push(vec![
                num(lr),
                r.seed_index.to_string(),
                r.seed.to_string(),
                spec.release_steps.to_string(),
                r.escape_step.is_finite().to_string(),
                num(r.escape_step),
                num(r.covered),
                num(r.mass[0]),
                num(r.mass[1]),
                num(r.mass[2]),
            ]);
        }
        writeln!(
            report,
            "| {lr} | {}/{} | {} | {} | {} | {} |",
            rel.escaped(),
            rel.runs.len(),
            rel.escape_step().show(0),
            rel.covered().show(2),
            rel.mass_m1().show(2),
            rel.mass_others().show(2)
        )
        .ok();
    }
    writeln!(
        report,
        "\nFraction of the logged steps at which the generator sits on m₁ (≥ half its samples within 3σ), mean over seeds: {}. A value above the escape step's share means the generator came back to m₁ after escaping (see the figure).\n",
        release
            .iter()
            .map(|r| format!("lr {}: {}", r.lr, r.time_on().show(2)))
            .collect::<Vec<_>>()
            .join("; ")
    )
    .ok();
    let pc = ctx.data.join("release.csv");
    tc.write(&pc)?;
    writeln!(
        report,
        "\nData: `{}`; per-run logs `{}/runs/release_lr*/seed*/release_log.csv`.\n",
        ctx.rel_data(&pc),
        ctx.r.block.name
    )
    .ok();
    let stem = ctx.figs.join("release_mass_on_m1");
    plot::line_plot(
        &stem,
        &LinePlot {
            title: format!(
                "Generator on m₁ after the release ({} seeds per lr)",
                ctx.r.block.seeds
            ),
            x_label: "step after the release".into(),
            y_label: "fraction of seeds with ≥ half the samples on m₁".into(),
            series: release
                .iter()
                .map(|r| Series {
                    label: format!("lr {}", r.lr),
                    points: r.on_m1_curve(),
                })
                .collect(),
            hlines: vec![],
            ..Default::default()
        },
    )?;
    fig_line(report, ctx, "Mass on m1 after the release", &stem);
    Ok(())
}
