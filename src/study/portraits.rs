//! `[[portraits]]` blocks: every game × rule × learning-rate pair is simulated, classified
//! by the eigenvalues of its update map and by simulation, and drawn. In four steps:
//! [`simulate`] (the runs and their analyses), [`table`] (the summary CSV),
//! [`figures`] (portraits, grids, distance curves, spectra) and [`report`] (Markdown).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::plan::Portraits;
use super::rel;
use crate::analysis::{self, MapSpectrum, SimClass, TrajectoryMetrics};
use crate::dynamics::batch::{Batch, Cell, memory_estimate as batch_memory};
use crate::dynamics::{RuleSpec, Trajectory};
use crate::error::Result;
use crate::export::{self, Table, num, opt, slug};
use crate::figures;
use crate::linalg::{Eigenvalue, Vector};

/// One simulated run of a portraits block, with its analysis.
pub struct PortraitRun {
    /// Index of the game in the block.
    pub game: usize,
    /// Index of the rule.
    pub rule: usize,
    /// Index of the learning-rate pair.
    pub lr: usize,
    /// The rule with this run's learning rates.
    pub spec: RuleSpec,
    /// The recorded trajectory.
    pub traj: Trajectory,
    /// Its classification.
    pub metrics: TrajectoryMetrics,
    /// The equilibrium (or the origin).
    pub center: Vector,
    /// Flow class of J at the equilibrium of the unadjusted game.
    pub flow: String,
    /// Eigenvalues of that J.
    pub flow_eigs: Vec<Eigenvalue>,
    /// The linearised update map, where the rule has one.
    pub map: Option<MapSpectrum>,
    /// File name of the trajectory CSV.
    pub csv: String,
}

/// Whether a simulated class counts as convergence for the published expectation.
#[must_use]
pub fn converged_like(c: SimClass) -> bool {
    matches!(c, SimClass::Converged | SimClass::Converging)
}

/// Runs every game × rule × learning rate of the block (each game × rule is one batch of
/// the engine, its learning rates the cells, with the states recorded for the figures)
/// and writes each trajectory CSV and phase portrait. The result is in the block's
/// order whatever the thread count.
///
/// # Errors
/// File errors; numerical failures of the flow spectrum.
pub fn simulate(p: &Portraits, bdir: &Path, fdir: &Path) -> Result<Vec<PortraitRun>> {
    // The field each rule sees (consensus and SGA adjust it), per game and rule: the
    // games were built once by the plan and are only wrapped here.
    let mut runs = Vec::new();
    for (gi, entry) in p.games.iter().enumerate() {
        for (ri, rule) in p.rules.iter().enumerate() {
            let game = rule.spec.adjust_game(entry.game.clone());
            let center = game
                .equilibrium()
                .unwrap_or_else(|| Vector::zeros(game.dim()));
            let cells: Vec<Cell> = p
                .lrs
                .iter()
                .map(|lr| Cell {
                    lr_g: lr[0],
                    lr_d: lr[1],
                    start: 0,
                })
                .collect();
            let starts = [p.starts[gi].clone()];
            crate::budget::check_memory(
                "steps",
                batch_memory(cells.len(), game.dim(), p.steps, true),
                "the recorded portrait runs",
            )?;
            let out = Batch {
                game: game.as_ref(),
                rule: &rule.spec,
                cells: &cells,
                starts: &starts,
                steps: p.steps,
                center: &center,
                bound: p.bound,
                record: true,
                progress: None,
            }
            .run()?;
            for (li, run) in out.into_iter().enumerate() {
                let metrics = analysis::classify_cell(game.as_ref(), &run, &starts[0], &center);
                let traj = Trajectory {
                    states: run.states.unwrap_or_default(),
                    stop: run.stop,
                    budget: p.steps,
                };
                runs.push((gi, ri, li, game.clone(), center.clone(), traj, metrics));
            }
        }
    }
    crate::interrupt::check("the study stopped; it has no report.md")?;
    runs.into_par_iter()
        .map(
            |(gi, ri, li, game, center, traj, metrics)| -> Result<PortraitRun> {
                let spec = p.rules[ri].spec.with_lrs(p.lrs[li][0], p.lrs[li][1]);
                let entry = &p.games[gi];
                let rule = spec.build()?;
                let sp = analysis::spectrum(entry.game.as_ref(), &center)?;
                let map = analysis::linearize_update(game.as_ref(), &rule, &center).ok();
                let name = format!(
                    "{}_{}_lrg{}_lrd{}",
                    slug(&entry.label),
                    slug(&p.rules[ri].label),
                    spec.lr_g(),
                    spec.lr_d()
                );
                export::trajectory_table(game.as_ref(), &traj, &center)
                    .write(&bdir.join(format!("{name}.csv")))?;
                let title = format!("{} · {}", entry.label, spec.describe());
                crate::plot::phase_portrait(
                    &fdir.join(&name),
                    &figures::run_panel(game.as_ref(), &title, &traj, &center, &metrics),
                )?;
                Ok(PortraitRun {
                    game: gi,
                    rule: ri,
                    lr: li,
                    spec,
                    traj,
                    metrics,
                    center,
                    flow: sp.flow.as_str().into(),
                    flow_eigs: sp.eigenvalues,
                    map,
                    csv: format!("{name}.csv"),
                })
            },
        )
        .collect()
}

/// The block's summary: one row per run.
#[must_use]
pub fn table(p: &Portraits, runs: &[PortraitRun]) -> Table {
    let head = [
        "game",
        "game_label",
        "params",
        "rule",
        "rule_label",
        "lr_g",
        "lr_d",
        "k_g",
        "k_d",
        "order",
        "flow_class",
        "spectral_radius",
        "map_class",
    ];
    let tail = ["expect_converge", "matches_expectation", "trajectory_csv"];
    let mut t = Table::new(
        head.iter()
            .chain(export::METRIC_COLUMNS.iter())
            .chain(tail.iter())
            .copied(),
    );
    for r in runs {
        let e = &p.games[r.game];
        let matches = e
            .expect_converge
            .map(|x| x == converged_like(r.metrics.class));
        let (order, k_g, k_d) = r.spec.turns();
        let mut row = vec![
            e.spec.name.clone(),
            e.label.clone(),
            e.game.params().to_string(),
            r.spec.name().as_str().into(),
            p.rules[r.rule].label.clone(),
            num(r.spec.lr_g()),
            num(r.spec.lr_d()),
            k_g.to_string(),
            k_d.to_string(),
            order.as_str().into(),
            r.flow.clone(),
            opt(r.map.as_ref().map(|m| m.spectral_radius)),
            figures::map_class_str(r.map.as_ref().map(|m| m.class)).into(),
        ];
        row.extend(export::metric_cells(&r.metrics));
        row.extend([
            e.expect_converge.map(|x| x.to_string()).unwrap_or_default(),
            matches.map(|x| x.to_string()).unwrap_or_default(),
            r.csv.clone(),
        ]);
        t.push(row);
    }
    t
}

fn lr_label(spec: &RuleSpec) -> String {
    format!("η_G = {}, η_D = {}", spec.lr_g(), spec.lr_d())
}

/// The block's figures beyond the single portraits: a grid over learning rates, distance
/// curves and update-map spectra per game and rule, the flow spectrum per game, and a
/// grid over games per rule and learning rate. Returns (caption, PNG) for the report.
///
/// # Errors
/// File errors.
pub fn figures(p: &Portraits, runs: &[PortraitRun], fdir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let panel = |r: &PortraitRun, title: String| {
        let game = p.rules[r.rule]
            .spec
            .adjust_game(p.games[r.game].game.clone());
        figures::run_panel(game.as_ref(), &title, &r.traj, &r.center, &r.metrics)
    };
    let mut out = Vec::new();
    for (gi, g) in p.games.iter().enumerate() {
        for (ri, rule) in p.rules.iter().enumerate() {
            let sel: Vec<&PortraitRun> = runs
                .iter()
                .filter(|r| r.game == gi && r.rule == ri)
                .collect();
            let stem = fdir.join(format!("{}_{}", slug(&g.label), slug(&rule.label)));
            let both = format!("{} · {}", g.label, rule.label);
            if sel.len() > 1 {
                let panels: Vec<_> = sel.iter().map(|r| panel(r, lr_label(&r.spec))).collect();
                crate::plot::phase_grid(
                    &figures::with_suffix(&stem, "_grid"),
                    &format!("{both}: one panel per learning rate"),
                    &panels,
                    panels.len().min(3),
                )?;
                out.push((
                    format!("{both} over learning rates"),
                    figures::with_suffix(&stem, "_grid.png"),
                ));
            }
            let curves: Vec<(String, &Trajectory, &Vector)> = sel
                .iter()
                .map(|r| (lr_label(&r.spec), &r.traj, &r.center))
                .collect();
            figures::distance_curves(
                &figures::with_suffix(&stem, "_distance"),
                &format!("{both}: distance to equilibrium"),
                &curves,
            )?;
            // One spectrum figure per game and rule, one series per learning rate, so
            // that the eigenvalues of different rules near 1 do not hide each other.
            let map_series: Vec<(String, Vec<Eigenvalue>)> = sel
                .iter()
                .filter_map(|r| {
                    r.map
                        .as_ref()
                        .map(|m| (lr_label(&r.spec), m.eigenvalues.clone()))
                })
                .collect();
            if !map_series.is_empty() {
                figures::eigenvalue_figure(
                    &figures::with_suffix(&stem, "_eig_map"),
                    &format!("{both}: eigenvalues of the update map ∂F"),
                    true,
                    map_series,
                )?;
                out.push((
                    format!("{both}: update-map eigenvalues"),
                    figures::with_suffix(&stem, "_eig_map.png"),
                ));
            }
        }
        if let Some(r) = runs.iter().find(|r| r.game == gi) {
            figures::eigenvalue_figure(
                &figures::with_suffix(&fdir.join(slug(&g.label)), "_eig_flow"),
                &format!(
                    "{}: eigenvalues of J at the equilibrium (flow: {})",
                    g.label, r.flow
                ),
                false,
                vec![("J".into(), r.flow_eigs.clone())],
            )?;
        }
    }
    if p.games.len() > 1 {
        for (ri, rule) in p.rules.iter().enumerate() {
            for (li, lr) in p.lrs.iter().enumerate() {
                let panels: Vec<_> = runs
                    .iter()
                    .filter(|r| r.rule == ri && r.lr == li)
                    .map(|r| panel(r, p.games[r.game].label.clone()))
                    .collect();
                let stem = fdir.join(format!(
                    "{}_lrg{}_lrd{}_games",
                    slug(&rule.label),
                    lr[0],
                    lr[1]
                ));
                let title = format!("{} with η_G = {}, η_D = {}", rule.label, lr[0], lr[1]);
                crate::plot::phase_grid(&stem, &title, &panels, 3)?;
                out.push((title, figures::with_suffix(&stem, ".png")));
            }
        }
    }
    Ok(out)
}

/// The block's report section.
#[must_use]
pub fn report(
    p: &Portraits,
    runs: &[PortraitRun],
    summary_csv: &Path,
    figs: &Path,
    fig_lines: &[(String, PathBuf)],
) -> String {
    let mut report = String::new();
    writeln!(
        report,
        "## {} ({} steps from {})\n",
        p.name,
        p.steps,
        p.from
            .as_ref()
            .map_or("the default start".to_string(), |f| format!("{f:?}"))
    )
    .ok();
    writeln!(report, "Data: `{}`. Flow class from J at the equilibrium; map class from ρ(∂F); simulated class from the run (see README for the definitions).\n", summary_csv.display()).ok();
    let has_expect = p.games.iter().any(|g| g.expect_converge.is_some());
    writeln!(report, "| game | rule | η_G | η_D | flow | ρ(∂F) | map class | simulated | final distance | winding | diverged at |{}", if has_expect { " expected | matches |" } else { "" }).ok();
    writeln!(
        report,
        "|---|---|---|---|---|---|---|---|---|---|---|{}",
        if has_expect { "---|---|" } else { "" }
    )
    .ok();
    let mut mismatches = 0;
    for r in runs {
        let e = &p.games[r.game];
        let mut line = format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.3e} | {:.2} | {} |",
            e.label,
            p.rules[r.rule].label,
            r.spec.lr_g(),
            r.spec.lr_d(),
            r.flow,
            r.map
                .as_ref()
                .map_or("n/a".into(), |m| format!("{:.6}", m.spectral_radius)),
            figures::map_class_str(r.map.as_ref().map(|m| m.class)),
            r.metrics.class.as_str(),
            r.metrics.final_distance,
            r.metrics.winding,
            r.metrics.diverged_step.map_or("".into(), |s| s.to_string()),
        );
        if has_expect {
            match e.expect_converge {
                Some(x) => {
                    let ok = x == converged_like(r.metrics.class);
                    mismatches += usize::from(!ok);
                    write!(
                        line,
                        " {} | {} |",
                        if x { "converges" } else { "does not converge" },
                        if ok { "yes" } else { "**no**" }
                    )
                    .ok();
                }
                None => line.push_str(" | |"),
            }
        }
        writeln!(report, "{line}").ok();
    }
    if has_expect {
        writeln!(
            report,
            "\n{} of {} runs match the published expectation{}.",
            runs.len() - mismatches,
            runs.len(),
            if mismatches == 0 {
                ""
            } else {
                " — the mismatches are findings, listed above"
            }
        )
        .ok();
    }
    writeln!(report).ok();
    for (caption, f) in fig_lines {
        writeln!(report, "![{caption}]({})\n", rel(figs, f)).ok();
    }
    report
}

/// Runs a portraits block: simulate, table, figures, report section.
///
/// # Errors
/// File errors; numerical failures of the flow spectrum.
pub fn run(p: &Portraits, data: &Path, figs: &Path) -> Result<String> {
    let (bdir, fdir) = (data.join(&p.name), figs.join(&p.name));
    let runs = simulate(p, &bdir, &fdir)?;
    let summary = bdir.join("summary.csv");
    table(p, &runs).write(&summary)?;
    let fig_lines = figures(p, &runs, &fdir)?;
    Ok(report(p, &runs, &summary, figs, &fig_lines))
}
